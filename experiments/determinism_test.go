package experiments

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/repro-np/repro/results"
)

// runRecords trains a small fashion-ablation and returns its run records
// with wall-clock fields zeroed (the only fields allowed to differ).
func runRecords(t *testing.T, data string, jobs, threads int) map[string]results.Run {
	t.Helper()
	s := FashionAblation()
	s.Seeds = DefaultSeeds(2)
	s.Epochs = 2
	s.TrainLimit = 600
	s.TestLimit = 300
	s.BatchSize = 64
	out := t.TempDir()
	if _, err := Run(context.Background(), s, Options{DataDir: data, Out: out, Jobs: jobs, Threads: threads}); err != nil {
		t.Fatal(err)
	}
	recs := map[string]results.Run{}
	files, _ := filepath.Glob(filepath.Join(out, "runs", "*", "metrics.json"))
	if len(files) != 4 {
		t.Fatalf("expected 4 run records, found %d", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r results.Run
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		r.TrainSeconds = 0
		for i := range r.Epochs {
			r.Epochs[i].Seconds = 0
		}
		recs[filepath.Base(filepath.Dir(f))] = r
	}
	return recs
}

// TestBitwiseAcrossThreadsAndJobs: the same seeds give bitwise-identical
// metrics and optimizer diagnostics (which include parameter and update
// norms) whatever the kernel thread count and however many runs train side
// by side.
func TestBitwiseAcrossThreadsAndJobs(t *testing.T) {
	data := writeFakeFashion(t, 600, 300)
	want := runRecords(t, data, 1, 1)
	for _, c := range []struct{ jobs, threads int }{{2, 1}, {1, 2}, {2, 3}} {
		got := runRecords(t, data, c.jobs, c.threads)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("jobs=%d threads=%d: records differ from jobs=1 threads=1", c.jobs, c.threads)
		}
	}
	for id, r := range want {
		if r.Status != results.StatusComplete || len(r.Epochs) != 2 {
			t.Fatalf("%s: status %s with %d epochs", id, r.Status, len(r.Epochs))
		}
		if r.Epochs[1].TestAccuracy < 50 {
			t.Fatalf("%s: test accuracy %.1f%% on an easy synthetic task", id, r.Epochs[1].TestAccuracy)
		}
	}
}
