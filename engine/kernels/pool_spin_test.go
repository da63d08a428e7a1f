package kernels

import (
	"testing"
	"time"
)

// TestPreemptedBackoff: a preemption makes spins short for backoffMin; one
// soon after the back-off ends doubles it (up to backoffMax); one long after
// starts again from backoffMin.
func TestPreemptedBackoff(t *testing.T) {
	oldUntil, oldBackoff := shortUntil.Load(), backoff.Load()
	defer func() { shortUntil.Store(oldUntil); backoff.Store(oldBackoff) }()
	shortUntil.Store(0)
	backoff.Store(0)
	ms := int64(time.Millisecond)
	t0 := int64(time.Hour)
	if got := spinUntil(t0) - t0; got != int64(spinLong) {
		t.Fatalf("quiet spin %v, want %v", time.Duration(got), spinLong)
	}
	preempted(t0)
	if got := spinUntil(t0+ms) - (t0 + ms); got != int64(spinShort) {
		t.Fatalf("spin after preemption %v, want %v", time.Duration(got), spinShort)
	}
	preempted(t0 + ms) // during the back-off: no change
	want := t0 + int64(backoffMin)
	if shortUntil.Load() != want {
		t.Fatalf("back-off until %d, want %d", shortUntil.Load(), want)
	}
	tt := want + ms
	for _, b := range []time.Duration{2 * backoffMin, 4 * backoffMin, 8 * backoffMin} {
		preempted(tt)
		if got := time.Duration(backoff.Load()); got != b {
			t.Fatalf("back-off %v, want %v", got, b)
		}
		tt = shortUntil.Load() + ms
	}
	for i := 0; i < 20; i++ {
		preempted(tt)
		tt = shortUntil.Load() + ms
	}
	if got := time.Duration(backoff.Load()); got != backoffMax {
		t.Fatalf("back-off %v, want the cap %v", got, backoffMax)
	}
	tt = shortUntil.Load() + 10*int64(backoffMax)
	preempted(tt)
	if got := time.Duration(backoff.Load()); got != backoffMin {
		t.Fatalf("back-off after a quiet spell %v, want %v", got, backoffMin)
	}
}
