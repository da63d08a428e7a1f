package optimizers

import (
	"path/filepath"
	"testing"
)

// TestConformanceTraces replays every trace recorded from the reference
// implementation and requires every step to match within tolerance.
//
// testdata/traces holds the shared traces; testdata/traces_extra holds
// traces recorded the same way (testdata/gen_traces.py, run against the
// reference implementation) for the configuration branches the shared ones
// leave out: parameterwise=false in grad-only mode, per-third target RMS
// scales, every layer scope (and the legacy aliases), every phase, the
// layerwise and classifier_only controllers, the orthogonal raw/cosine and
// constant schedules, Nesterov, plain SGD, Adam with weight decay.
func TestConformanceTraces(t *testing.T) {
	var files []string
	for dir, want := range map[string]int{"traces": 12, "traces_extra": 15} {
		got, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < want {
			t.Fatalf("found %d traces in testdata/%s, expected at least %d", len(got), dir, want)
		}
		files = append(files, got...)
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
