package kernels

import "testing"

// BenchmarkParallelOverhead measures the cost of one Parallel call with
// trivial work on two threads.
func BenchmarkParallelOverhead(b *testing.B) {
	SetThreads(2)
	defer SetThreads(defaultThreads)
	var sink [2][16]int
	for range b.N {
		Parallel(2, func(lo, hi int) { sink[lo][0]++ })
	}
}
