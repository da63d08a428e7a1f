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
// On amd64 the micro-kernel is chosen at run time from CPUID (our own
// CPUID/XGETBV routine; the standard library does not export its feature
// bits): a 12x32 AVX-512 register tile (24x16 when C has at most 16
// columns), else a 6x16 AVX2+FMA tile (12x8), else the portable Go kernel.
// On a Zen 4 core the AVX-512 kernel runs at about 115 GFLOP/s, the core's
// FMA peak, and Sgemm at 95-110 GFLOP/s per core on the training shapes.
//
// Packing buffers come from free lists and the workers are persistent
// goroutines that spin briefly between products, so a call allocates
// nothing in steady state; products under about a million multiply-adds
// run on the calling goroutine alone. Sgemm and Parallel may be called
// from several goroutines at once. When several independent runs execute
// side by side, give each SetThreads(1) or split the cores between them:
// the pool is shared, and oversubscribed cores only add waiting.
package kernels
