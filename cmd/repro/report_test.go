package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repro-np/repro/results"
)

func TestReportFormatsAndRewrite(t *testing.T) {
	study := filepath.Join(t.TempDir(), "lowdata")
	writeFakeStudy(t, study, "lowdata", "fraction", []float64{0.25, 1}, 3)
	for _, c := range []struct{ format, want string }{
		{"table", "Wins/Losses/Ties"},
		{"markdown", "| --- |"},
		{"csv", "experiment,group,variant,axis_fraction,n,excluded"},
	} {
		var out bytes.Buffer
		if err := runReport(reportOptions{From: study, Format: c.format, Out: &out}); err != nil {
			t.Fatalf("%s: %v", c.format, err)
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("--format %s output lacks %q:\n%s", c.format, c.want, out.String())
		}
	}
	s, err := results.ReadSummary(filepath.Join(study, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Excluded != 1 || s.Included != 12 || len(s.Comparisons) != 2 || s.Baseline != "grad-only" {
		t.Errorf("summary: included %d excluded %d comparisons %d baseline %q", s.Included, s.Excluded, len(s.Comparisons), s.Baseline)
	}
	for _, f := range []string{"summary.csv", "summary.md", "runs.csv"} {
		if _, err := os.Stat(filepath.Join(study, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}
