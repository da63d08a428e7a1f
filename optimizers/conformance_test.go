package optimizers

import (
	"path/filepath"
	"testing"
)

// TestConformanceTraces replays every trace recorded from the reference
// implementation and requires every step to match within tolerance.
func TestConformanceTraces(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "traces", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 12 {
		t.Fatalf("found %d traces in testdata/traces, expected at least 12", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tr, err := LoadTrace(f)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Replay(tr)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s (%s): %d steps, max abs %.3g, max rel %.3g", rep.ID, rep.Optimizer, rep.Steps, rep.MaxAbsErr, rep.MaxRelErr)
			if !rep.Pass {
				t.Errorf("%s: out of tolerance: %s", rep.ID, rep.FirstFailure)
			}
		})
	}
}
