package kernels

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

func threadCPU() time.Duration {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3 /* CLOCK_THREAD_CPUTIME_ID */, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// TestTuneCPU reports single-thread GFLOP/s by thread CPU time, which is
// less disturbed by other load on a shared machine than wall time. Run it
// with TUNE=1 go test -count=1 -run TuneCPU -v when changing the blocking.
func TestTuneCPU(t *testing.T) {
	if os.Getenv("TUNE") == "" {
		t.Skip()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, s := range benchShapes {
		tc := s.tc
		a, lda, bm, ldb, c, ldc := tc.operands(1)
		best := 0.0
		for rep := 0; rep < 5; rep++ {
			n := 1 + (1<<28)/(tc.m*tc.n*tc.k)
			t0 := threadCPU()
			for range n {
				sgemmWith(active, tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, a, lda, bm, ldb, tc.beta, c, ldc, 1)
			}
			g := 2 * float64(tc.m*tc.n*tc.k) * float64(n) / (threadCPU() - t0).Seconds() / 1e9
			best = max(best, g)
		}
		t.Logf("%-12s %6.1f", s.name, best)
	}
}
