// Package kernels holds the engine's numeric kernels: a blocked, packed,
// multi-threaded single-precision GEMM (Sgemm) and a few vector kernels
// (Axpy, Dot, SumSq), with a worker pool (SetThreads, Parallel) that the
// engine's own loops share.
//
// Every matrix is row-major with an explicit row stride.
//
// # Determinism
//
// Results are bitwise reproducible: for the same inputs and the same
// selected micro-kernel (see PeakInfo), Sgemm returns the same bits for every
// thread count and every call. Work is split across threads only over
// rectangles of C, never over K; every element of C is accumulated by the
// same chain of fused multiply-adds in increasing k, restarted at the same K
// block boundaries (which depend on k alone), and edge tiles are computed by
// the same micro-kernel on zero-padded panels as full tiles. The AVX-512
// and AVX2 kernels perform exactly the same operations per element, so they
// agree bitwise with each other; the portable kernel (no FMA) may differ from
// them in the last bits. Axpy, Dot and SumSq have a fixed summation order
// (documented on each) that is the same on every code path.
//
// # Speed
//
// On amd64 the micro-kernel is chosen at run time from CPUID: a 12x32
// AVX-512 tile, else a 6x16 AVX2+FMA tile, else the portable Go kernel.
// Packing buffers are pooled and the workers are persistent goroutines, so
// a call allocates nothing in steady state, and small products run on the
// calling goroutine alone.
package kernels
