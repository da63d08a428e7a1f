package engine

import "github.com/repro-np/repro/engine/kernels"

// sgemm is the engine's one entry to matrix multiplication (row-major):
// C = alpha*op(A)*op(B) + beta*C. See kernels.Sgemm; its results do not
// depend on the thread count.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// parallel splits [0,n) over the kernel worker pool. Callers only use it for
// work whose per-index results do not depend on how the range is split, so
// results are bitwise identical for any thread count.
func parallel(n int, f func(lo, hi int)) { kernels.Parallel(n, f) }
