package kernels

import (
	"fmt"
	"testing"
)

// benchGemm reports GFLOP/s for C = op(A)*op(B) with the given kernel and
// thread count.
func benchGemm(b *testing.B, kern *microKernel, threads int, tc gemmCase) {
	a, lda, bm, ldb, c, ldc := tc.operands(1)
	b.ResetTimer()
	for range b.N {
		sgemmWith(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bm, ldb, tc.beta, c, ldc, threads)
	}
	b.ReportMetric(2*float64(tc.m)*float64(tc.n)*float64(tc.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

var benchShapes = []struct {
	name string
	tc   gemmCase
}{
	{"sq64", gemmCase{m: 64, n: 64, k: 64, alpha: 1}},
	{"sq128", gemmCase{m: 128, n: 128, k: 128, alpha: 1}},
	{"sq256", gemmCase{m: 256, n: 256, k: 256, alpha: 1}},
	{"sq512", gemmCase{m: 512, n: 512, k: 512, alpha: 1}},
	{"sq1024", gemmCase{m: 1024, n: 1024, k: 1024, alpha: 1}},
	// MLP, batch 128, 784->256->256->10 (W is out x in).
	{"fwd784x256", gemmCase{transB: true, m: 128, n: 256, k: 784, alpha: 1}},
	{"dX256x784", gemmCase{m: 128, n: 784, k: 256, alpha: 1}},
	{"dW256x784", gemmCase{transA: true, m: 256, n: 784, k: 128, alpha: 1, beta: 1}},
	{"fwd256x256", gemmCase{transB: true, m: 128, n: 256, k: 256, alpha: 1}},
	{"dX256x256", gemmCase{m: 128, n: 256, k: 256, alpha: 1}},
	{"dW256x256", gemmCase{transA: true, m: 256, n: 256, k: 128, alpha: 1, beta: 1}},
	{"fwd256x10", gemmCase{transB: true, m: 128, n: 10, k: 256, alpha: 1}},
	{"dX10x256", gemmCase{m: 128, n: 256, k: 10, alpha: 1}},
	{"dW10x256", gemmCase{transA: true, m: 10, n: 256, k: 128, alpha: 1, beta: 1}},
	// A conv layer as im2col: 256 channels, 3x3 over 128 channels, 16x16x32 positions.
	{"conv", gemmCase{m: 256, n: 8192, k: 1152, alpha: 1}},
	// Its gradients: dW = dY * col^T and dcol = W^T * dY, and a first layer
	// (64 channels from 3, 32x32x16 positions).
	{"convdW", gemmCase{transB: true, m: 256, n: 1152, k: 8192, alpha: 1}},
	{"convdX", gemmCase{transA: true, m: 1152, n: 8192, k: 256, alpha: 1}},
	{"conv1", gemmCase{m: 64, n: 16384, k: 27, alpha: 1}},
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d", s.name, th), func(b *testing.B) { benchGemm(b, active, th, s.tc) })
		}
	}
}

func BenchmarkSgemmKernels(b *testing.B) {
	for _, kern := range kernelList {
		b.Run(kern.name, func(b *testing.B) {
			benchGemm(b, kern, 1, gemmCase{m: 256, n: 256, k: 256, alpha: 1})
		})
	}
}

// BenchmarkMLPStep runs the products of one training step of the
// 784-256-256-10 MLP at batch 128: forward, then dX and dW of each layer
// (no dX for the first).
func BenchmarkMLPStep(b *testing.B) {
	const batch = 128
	dims := []int{784, 256, 256, 10}
	type layer struct{ w, dw, x, y, dx, dy []float32 }
	ls := make([]layer, len(dims)-1)
	for i := range ls {
		in, out := dims[i], dims[i+1]
		ls[i] = layer{
			w: make([]float32, out*in), dw: make([]float32, out*in),
			x: make([]float32, batch*in), y: make([]float32, batch*out),
			dx: make([]float32, batch*in), dy: make([]float32, batch*out),
		}
	}
	flops := 0
	for i := range ls {
		in, out := dims[i], dims[i+1]
		flops += 2 * batch * in * out * 2
		if i > 0 {
			flops += 2 * batch * in * out
		}
	}
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("t%d", th), func(b *testing.B) {
			SetThreads(th)
			defer SetThreads(defaultThreads)
			for range b.N {
				for i, l := range ls {
					in, out := dims[i], dims[i+1]
					Sgemm(false, true, batch, out, in, 1, l.x, in, l.w, in, 0, l.y, out)
				}
				for i := len(ls) - 1; i >= 0; i-- {
					l := ls[i]
					in, out := dims[i], dims[i+1]
					Sgemm(true, false, out, in, batch, 1, l.dy, out, l.x, in, 1, l.dw, in)
					if i > 0 {
						Sgemm(false, false, batch, in, out, 1, l.dy, out, l.w, in, 0, l.dx, in)
					}
				}
			}
			b.ReportMetric(float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
