package results

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mkRun(variant, group string, seed int, acc, loss float64, status string) Run {
	r := Run{Experiment: "toy", Variant: variant, Group: group, Seed: seed, Status: status, SpecHash: "abc123",
		TrainSeconds: 10 + float64(seed)}
	for e := 1; e <= 3; e++ {
		r.Epochs = append(r.Epochs, Epoch{Epoch: e, TestAccuracy: acc - float64(3-e), TestLoss: loss + 0.1*float64(3-e)})
	}
	return r
}

func toyRuns() []Run {
	return []Run{
		mkRun("full", "", 1, 88, 0.30, StatusComplete),
		mkRun("full", "", 2, 87, 0.32, StatusComplete),
		mkRun("full", "", 3, 89, 0.31, StatusComplete),
		mkRun("grad-only", "", 1, 87, 0.35, StatusComplete),
		mkRun("grad-only", "", 2, 85, 0.33, StatusComplete),
		mkRun("grad-only", "", 3, 86, 0.31, StatusComplete),
		mkRun("full", "", 4, 10, 5, StatusDiverged),
	}
}

func TestSummarizeToy(t *testing.T) {
	s := Summarize("toy", "grad-only", map[string]any{"epochs": 3}, toyRuns())
	if s.Included != 6 || s.Excluded != 1 {
		t.Fatalf("included/excluded = %d/%d, want 6/1", s.Included, s.Excluded)
	}
	if len(s.Runs) != 7 || s.Runs[0].Variant != "grad-only" || s.Runs[3].Variant != "full" || s.Runs[6].Seed != 4 {
		t.Errorf("run order: baseline first then by seed, got %+v", s.Runs)
	}
	if s.SpecHash != "" || s.Runs[0].SpecHash != "abc123" {
		t.Errorf("study spec hash = %q (the runner sets it), run spec hash = %q", s.SpecHash, s.Runs[0].SpecHash)
	}
	if len(s.Aggregates) != 2 {
		t.Fatalf("aggregates = %d, want 2", len(s.Aggregates))
	}
	full := s.Aggregates[1]
	if full.Variant != "full" || full.N != 3 || full.Excluded != 1 {
		t.Fatalf("full aggregate = %+v", full)
	}
	near(t, "full mean acc", float64(full.FinalTestAccuracy.Mean), 88, 1e-12)
	near(t, "full std acc", float64(full.FinalTestAccuracy.Std), 1, 1e-12)
	near(t, "full ci lo", float64(full.FinalTestAccuracy.CI95Low), 88-4.302653/math.Sqrt(3), 1e-5)
	near(t, "full mean loss", float64(full.FinalTestLoss.Mean), 0.31, 1e-12)
	if len(s.Comparisons) != 1 {
		t.Fatalf("comparisons = %d, want 1", len(s.Comparisons))
	}
	c := s.Comparisons[0].FinalTestAccuracy
	// diffs by seed: 1, 2, 3 -> mean 2, sd 1.
	near(t, "mean diff", float64(c.MeanDiff), 2, 1e-12)
	near(t, "ci hi", float64(c.CI95High), 2+4.302653/math.Sqrt(3), 1e-5)
	near(t, "sign p", float64(c.SignTestP), 0.25, 1e-12)
	near(t, "wilcoxon p", float64(c.WilcoxonP), 0.25, 1e-12)
	if c.Wins != 3 || c.N != 3 {
		t.Errorf("wins %d of %d, want 3 of 3", c.Wins, c.N)
	}
	l := s.Comparisons[0].FinalTestLoss
	// loss diffs: -0.05, -0.01, 0 -> 2 wins, 1 tie.
	if l.Wins != 2 || l.Losses != 0 || l.Ties != 1 {
		t.Errorf("loss tally %d/%d/%d, want 2/0/1", l.Wins, l.Losses, l.Ties)
	}
	if len(s.Ranking) != 0 {
		t.Errorf("two variants need no ranking, got %v", s.Ranking)
	}
}

func TestSummarizeGroupsOrderAndSingleSeed(t *testing.T) {
	var runs []Run
	for _, shots := range []float64{10, 5, 1} {
		g := "shots=" + map[float64]string{1: "1", 5: "5", 10: "10"}[shots]
		for _, v := range []string{"full", "grad-only"} {
			r := mkRun(v, g, 1, 50+shots, 1, StatusComplete)
			r.Axes = map[string]float64{"shots": shots}
			runs = append(runs, r)
		}
	}
	s := Summarize("fewshot", "grad-only", nil, runs)
	if got := strings.Join(s.Groups, ","); got != "shots=1,shots=5,shots=10" {
		t.Errorf("groups = %s, want numeric order", got)
	}
	for _, a := range s.Aggregates {
		if a.N != 1 || !a.FinalTestAccuracy.Std.IsNaN() || !a.FinalTestAccuracy.CI95Low.IsNaN() {
			t.Errorf("n=1 aggregate must have undefined std and CI: %+v", a)
		}
	}
	var buf bytes.Buffer
	if err := PrintTables(&buf, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "n/a") || !strings.Contains(buf.String(), "shots=10") {
		t.Errorf("tables must show n/a for undefined values and the groups:\n%s", buf.String())
	}
}

func TestSummarizeGridRanking(t *testing.T) {
	var runs []Run
	for i, v := range []string{"full-lr0.1", "full-lr0.05", "full-lr0.01", "grad-only"} {
		for seed := 1; seed <= 2; seed++ {
			runs = append(runs, mkRun(v, "", seed, 90-float64(i)+0.1*float64(seed), 0.3, StatusComplete))
		}
	}
	s := Summarize("mnist-tuning", "grad-only", nil, runs)
	if len(s.Ranking) != 4 || s.Ranking[0].Variant != "full-lr0.1" || s.Ranking[3].Variant != "grad-only" {
		t.Fatalf("ranking = %+v", s.Ranking)
	}
	if len(s.Comparisons) != 3 {
		t.Errorf("comparisons = %d, want one per treatment", len(s.Comparisons))
	}
}

func TestSummaryJSONRoundTripAndFiles(t *testing.T) {
	dir := t.TempDir()
	runs := toyRuns()
	for _, r := range runs {
		b, _ := json.Marshal(r)
		p := filepath.Join(dir, "runs", r.Variant+"-seed"+string(rune('0'+r.Seed)), MetricsFile)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadRuns(dir)
	if err != nil || len(got) != len(runs) {
		t.Fatalf("ReadRuns = %d runs, %v", len(got), err)
	}
	s := Summarize("toy", "grad-only", map[string]any{"epochs": 3.0}, got)
	s.SpecHash = "study-hash"
	if err := s.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SummaryJSON, SummaryCSV, RunsCSV, SummaryMD} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	js, _ := os.ReadFile(filepath.Join(dir, SummaryJSON))
	var raw map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"experiment", "spec_hash", "spec", "baseline", "runs", "aggregates", "comparisons", "excluded"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("summary.json lacks %q", k)
		}
	}
	run0 := raw["runs"].([]any)[0].(map[string]any)
	for _, k := range []string{"variant", "group", "seed", "status", "final_test_accuracy", "best_test_accuracy", "final_test_loss", "train_seconds"} {
		if _, ok := run0[k]; !ok {
			t.Errorf("summary.json run lacks %q", k)
		}
	}
	back, err := ReadSummary(filepath.Join(dir, SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	if back.Comparisons[0].FinalTestAccuracy.MeanDiff != s.Comparisons[0].FinalTestAccuracy.MeanDiff {
		t.Errorf("round trip changed mean diff")
	}
	if back.Excluded != 1 {
		t.Errorf("excluded after round trip = %d", back.Excluded)
	}
	md, _ := os.ReadFile(filepath.Join(dir, SummaryMD))
	if !strings.Contains(string(md), "| full | grad-only | 3 | +2.00 |") {
		t.Errorf("summary.md lacks the comparison row:\n%s", md)
	}
	csvb, _ := os.ReadFile(filepath.Join(dir, SummaryCSV))
	if lines := strings.Split(strings.TrimSpace(string(csvb)), "\n"); len(lines) != 3 {
		t.Errorf("summary.csv has %d lines, want header + 2", len(lines))
	}
}

func TestNonFiniteCompleteRunExcluded(t *testing.T) {
	runs := toyRuns()
	runs[0].Epochs[2].TestLoss = math.Inf(1)
	s := Summarize("toy", "grad-only", nil, runs)
	if s.Excluded != 2 || s.Aggregates[1].N != 2 {
		t.Errorf("a complete run with a non-finite loss must be left out: excluded %d, full n %d", s.Excluded, s.Aggregates[1].N)
	}
	if s.Comparisons[0].FinalTestAccuracy.N != 2 {
		t.Errorf("pairs = %d, want 2", s.Comparisons[0].FinalTestAccuracy.N)
	}
}

func TestNaNIsNullInJSON(t *testing.T) {
	b, err := json.Marshal(Describe([]float64{1}))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"mean":1,"std":null,"ci95_low":null,"ci95_high":null}` {
		t.Errorf("got %s", b)
	}
	var st Stat
	if err := json.Unmarshal(b, &st); err != nil || !st.Std.IsNaN() || st.Mean != 1 {
		t.Errorf("read back %+v, %v", st, err)
	}
}

func TestReadRunsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRuns(dir); err == nil {
		t.Error("missing runs/ must fail")
	}
	p := filepath.Join(dir, "runs", "full-seed1", MetricsFile)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(`{"variant": "full", "epochs": [`), 0o644)
	_, err := ReadRuns(dir)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("malformed record error must name the file, got %v", err)
	}
	os.WriteFile(p, []byte(`{"seed": 1}`), 0o644)
	if _, err := ReadRuns(dir); err == nil || !strings.Contains(err.Error(), "variant") {
		t.Errorf("record without variant: %v", err)
	}
	if _, err := ReadSummary(filepath.Join(dir, "nope.json")); err == nil {
		t.Error("missing summary must fail")
	}
}

func TestFindStudies(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"b/runs", "a/runs", "c/sub/x"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "c", "sub", SummaryJSON), []byte("{}"), 0o644)
	got, err := FindStudies(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c", "sub")}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("FindStudies = %v, want %v", got, want)
	}
	if got, _ := FindStudies(filepath.Join(root, "a")); len(got) != 1 || got[0] != filepath.Join(root, "a") {
		t.Errorf("study dir itself = %v", got)
	}
	if _, err := FindStudies(filepath.Join(root, "c", "sub", "x")); err == nil {
		t.Error("empty dir must fail")
	}
}

// FuzzReadRun checks that no bytes make the run reader or the summary panic.
func FuzzReadRun(f *testing.F) {
	good, _ := json.Marshal(mkRun("full", "g", 1, 80, 0.5, StatusComplete))
	f.Add(good)
	f.Add([]byte(`{"variant":"full","epochs":[{"epoch":-1}]}`))
	f.Add([]byte(`{"variant":"x","status":"diverged","epochs":[]}`))
	f.Add([]byte(`null`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "metrics.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := ReadRun(p)
		if err != nil {
			return
		}
		s := Summarize("fuzz", "grad-only", nil, []Run{r, mkRun("grad-only", r.Group, r.Seed, 70, 0.6, StatusComplete)})
		if err := PrintTables(&bytes.Buffer{}, s); err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("summary of a readable record must encode: %v", err)
		}
	})
}
