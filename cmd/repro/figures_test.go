package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/repro-np/repro/results"
)

// writeFakeStudy writes synthetic run records for a study: groups of the
// given axis (none when axis is empty), grad-only and full, seeds 1..n, and
// one diverged run that must be listed but not averaged.
func writeFakeStudy(t *testing.T, dir, experiment, axis string, values []float64, seeds int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, uint64(len(experiment))))
	if axis == "" {
		values = []float64{0}
	}
	write := func(r results.Run) {
		id := fmt.Sprintf("%s-seed%d", r.Variant, r.Seed)
		if r.Group != "" {
			id = strings.ReplaceAll(r.Group, "=", "") + "-" + id
		}
		b, err := json.MarshalIndent(r, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "runs", id, "metrics.json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range values {
		for seed := 1; seed <= seeds; seed++ {
			for vi, variant := range []string{"grad-only", "full"} {
				r := results.Run{Experiment: experiment, Variant: variant, Seed: seed, Status: results.StatusComplete,
					SpecHash: "feedbeef", TrainSeconds: 30 + rng.Float64()}
				if axis != "" {
					r.Group = fmt.Sprintf("%s=%g", axis, v)
					r.Axes = map[string]float64{axis: v}
				}
				for e := 1; e <= 4; e++ {
					ep := results.Epoch{Epoch: e, TestAccuracy: 70 + 4*float64(e) + float64(vi) + rng.NormFloat64(),
						TestLoss: 1 - 0.15*float64(e) + 0.03*rng.NormFloat64()}
					if variant == "full" {
						ep.Diagnostics = map[string]float64{"alpha_mean": 0.4 + 0.1*float64(e), "alpha_std": 0.1,
							"effective_update_norm": 0.5 / float64(e), "grad_norm": 1, "param_norm": 10}
					}
					r.Epochs = append(r.Epochs, ep)
				}
				write(r)
			}
		}
	}
	write(results.Run{Experiment: experiment, Variant: "full", Seed: 99, Group: fmt.Sprintf("%s=%g", axis, values[0]),
		Axes: map[string]float64{axis: values[0]}, Status: results.StatusDiverged,
		Diverged: &results.Divergence{Epoch: 2, Step: 17, Reason: "non-finite loss"},
		Epochs:   []results.Epoch{{Epoch: 1, TestAccuracy: 10, TestLoss: 2.3}}})
}

func listFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFiguresParentOfStudiesByteIdentical(t *testing.T) {
	root := t.TempDir()
	writeFakeStudy(t, filepath.Join(root, "lowdata"), "lowdata", "fraction", []float64{0.1, 0.5, 1}, 3)
	writeFakeStudy(t, filepath.Join(root, "fewshot"), "fewshot", "shots", []float64{1, 5}, 2)

	var log bytes.Buffer
	out1, out2 := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if err := runFigures(figuresOptions{From: root, OutDir: out1, Out: &log}); err != nil {
		t.Fatal(err)
	}
	if err := runFigures(figuresOptions{From: root, OutDir: out2, Out: &log}); err != nil {
		t.Fatal(err)
	}
	a, b := listFiles(t, out1), listFiles(t, out2)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d vs %d files", len(a), len(b))
	}
	var names []string
	for name, data := range a {
		names = append(names, name)
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between two runs of figures", name)
		}
		switch filepath.Ext(name) {
		case ".png":
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("%s: invalid PNG: %v", name, err)
			}
		case ".svg":
			if s := string(data); !strings.HasPrefix(s, "<?xml") && !strings.HasPrefix(s, "<svg") {
				t.Errorf("%s: not an SVG", name)
			}
		}
	}
	sort.Strings(names)
	for _, want := range []string{
		filepath.Join("lowdata", "final-accuracy-vs-fraction.png"),
		filepath.Join("lowdata", "final-loss-vs-fraction.svg"),
		filepath.Join("lowdata", "test-accuracy-fraction-0.1.png"),
		filepath.Join("fewshot", "final-accuracy-vs-shots.png"),
		filepath.Join("fewshot", "alpha-mean-shots-5.png"),
		filepath.Join("fewshot", "update-norm-shots-1.svg"),
	} {
		if _, ok := a[want]; !ok {
			t.Errorf("missing %s; have %v", want, names)
		}
	}
	if !strings.Contains(log.String(), "lowdata:") || !strings.Contains(log.String(), "fewshot:") {
		t.Errorf("progress lines missing: %q", log.String())
	}
}

func TestFiguresDefaultOutDir(t *testing.T) {
	study := filepath.Join(t.TempDir(), "fashion-ablation")
	writeFakeStudy(t, study, "fashion-ablation", "", nil, 3)
	if err := runFigures(figuresOptions{From: study}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"test-accuracy.png", "test-accuracy.svg", "test-loss.png", "alpha-mean.svg", "update-norm.png"} {
		if _, err := os.Stat(filepath.Join(study, "figures", f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

func TestReportAndFiguresErrors(t *testing.T) {
	var u usageError
	if err := runReport(reportOptions{From: t.TempDir(), Format: "xml", Out: &bytes.Buffer{}}); !errors.As(err, &u) {
		t.Errorf("bad --format: want a usage error, got %v", err)
	}
	if err := runFigures(figuresOptions{}); !errors.As(err, &u) {
		t.Errorf("missing --from: want a usage error, got %v", err)
	}
	study := t.TempDir()
	p := filepath.Join(study, "runs", "full-seed1", "metrics.json")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(`{"variant":"full","epochs":[{"epoch":1,"test_accuracy":"high"}]}`), 0o644)
	err := runReport(reportOptions{From: study, Format: "table", Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("malformed record: error must name %s, got %v", p, err)
	}
	if err := runFigures(figuresOptions{From: study}); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("figures on malformed record: %v", err)
	}
}
