package kernels

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestParallelEachIndexOnce hammers the pooled batches from several
// goroutines with changing part counts (recycled batches re-armed while
// workers still spin on them) and checks every index runs exactly once.
func TestParallelEachIndexOnce(t *testing.T) {
	defer SetThreads(Threads())
	SetThreads(4)
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for it := 0; it < 5000; it++ {
				n := 1 + (it*7+g)%9
				var hits [16]atomic.Int32
				Parallel(n, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						hits[i].Add(1)
					}
					spin(200) // long enough for spinning workers to join in
				})
				for i := 0; i < n; i++ {
					if hits[i].Load() != 1 {
						bad.Add(1)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d indices ran zero or several times", bad.Load())
	}
}

var sink atomic.Int64

func spin(n int) {
	x := int64(0)
	for i := 0; i < n; i++ {
		x += int64(i * i)
	}
	sink.Add(x)
}
