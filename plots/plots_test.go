package plots

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/repro-np/repro/results"
)

// fakeStudy generates synthetic runs: per group and seed, grad-only and full
// with noisy learning curves; full carries NeuroPlastic diagnostics.
func fakeStudy(experiment, axis string, values []float64, seeds int) []results.Run {
	rng := rand.New(rand.NewPCG(7, 11))
	var runs []results.Run
	if len(values) == 0 {
		values = []float64{math.NaN()}
	}
	for _, v := range values {
		group := ""
		var axes map[string]float64
		if !math.IsNaN(v) {
			group = axis + "=" + strconv.FormatFloat(v, 'g', -1, 64)
			axes = map[string]float64{axis: v}
		}
		for seed := 1; seed <= seeds; seed++ {
			for vi, variant := range []string{"full", "grad-only"} {
				r := results.Run{Experiment: experiment, Variant: variant, Seed: seed, Group: group, Axes: axes,
					Status: results.StatusComplete, TrainSeconds: 20}
				for e := 1; e <= 5; e++ {
					acc := 80 + 2*float64(e) - float64(vi) + rng.NormFloat64()
					ep := results.Epoch{Epoch: e, TestAccuracy: acc, TestLoss: 1.5 - 0.2*float64(e) + 0.05*rng.NormFloat64()}
					if variant == "full" {
						ep.Diagnostics = map[string]float64{"alpha_mean": 0.5 + 0.05*float64(e) + 0.01*rng.NormFloat64(),
							"effective_update_norm": 1 / float64(e)}
					}
					r.Epochs = append(r.Epochs, ep)
				}
				runs = append(runs, r)
			}
		}
	}
	return runs
}

func TestWriteAllLowDataDeterministicAndValid(t *testing.T) {
	runs := fakeStudy("lowdata", "fraction", []float64{0.1, 0.25, 0.5, 1}, 3)
	study := t.TempDir()
	s := results.Summarize("lowdata", "grad-only", nil, runs)
	out1, out2 := filepath.Join(study, "a"), filepath.Join(study, "b")
	files1, err := WriteAll(study, out1, runs, s)
	if err != nil {
		t.Fatal(err)
	}
	files2, err := WriteAll(study, out2, runs, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(files1) != len(files2) {
		t.Fatalf("%d vs %d files", len(files1), len(files2))
	}
	names := map[string]bool{}
	for i := range files1 {
		names[filepath.Base(files1[i])] = true
		a, _ := os.ReadFile(files1[i])
		b, _ := os.ReadFile(files2[i])
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two renderings", filepath.Base(files1[i]))
		}
		checkImage(t, files1[i], a)
	}
	for _, want := range []string{"test-accuracy-fraction-0.25.png", "test-loss-fraction-1.svg",
		"alpha-mean-fraction-0.1.png", "update-norm-fraction-0.5.svg",
		"final-accuracy-vs-fraction.png", "final-loss-vs-fraction.svg"} {
		if !names[want] {
			t.Errorf("missing %s among %v", want, names)
		}
	}
}

func checkImage(t *testing.T, path string, data []byte) {
	t.Helper()
	switch filepath.Ext(path) {
	case ".png":
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s: not a PNG: %v", path, err)
		} else if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 400 {
			t.Errorf("%s: %dx%d is too small to read", path, b.Dx(), b.Dy())
		}
	case ".svg":
		s := strings.TrimSpace(string(data))
		if !strings.HasPrefix(s, "<?xml") && !strings.HasPrefix(s, "<svg") {
			t.Errorf("%s: does not start like an SVG", path)
		}
	default:
		t.Errorf("unexpected file %s", path)
	}
}

func TestWriteAllSingleGroupWithoutDiagnostics(t *testing.T) {
	runs := fakeStudy("fashion-ablation", "", nil, 2)
	for i := range runs {
		for j := range runs[i].Epochs {
			runs[i].Epochs[j].Diagnostics = nil
		}
	}
	files, err := WriteAll(t.TempDir(), "", runs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	want := "test-accuracy.png test-accuracy.svg test-loss.png test-loss.svg"
	if strings.Join(got, " ") != want {
		t.Errorf("files = %v, want %s (no plasticity figures without diagnostics, no axis figures)", got, want)
	}
}

func TestStylesFixedAndStable(t *testing.T) {
	a := variantStyles([]string{"full", "grad-only", "zeta", "alpha"})
	b := variantStyles([]string{"alpha", "zeta", "grad-only", "full", "alpha"})
	if a["full"].color != fixedColors["full"] || a["grad-only"].color != fixedColors["grad-only"] {
		t.Error("the paper's variants must keep their fixed colours")
	}
	if a["alpha"].color != palette[0] || a["zeta"].color != palette[1] || a["zeta"].color != b["zeta"].color {
		t.Error("other variants take palette colours by sorted name")
	}
}

func TestGridKeepsBaselineAndBest(t *testing.T) {
	var runs []results.Run
	for i := 0; i < 9; i++ {
		v := "full-lr" + strconv.Itoa(i)
		if i == 8 {
			v = "grad-only"
		}
		for seed := 1; seed <= 2; seed++ {
			runs = append(runs, results.Run{Experiment: "mnist-tuning", Variant: v, Seed: seed, Status: results.StatusComplete,
				Epochs: []results.Epoch{{Epoch: 1, TestAccuracy: 90 + float64(i), TestLoss: 0.3}}})
		}
	}
	s := results.Summarize("mnist-tuning", "grad-only", nil, runs)
	cells := epochCells(results.SortRuns(runs, "grad-only"), "", s)
	var got []string
	for _, c := range cells {
		got = append(got, c.variant)
	}
	if strings.Join(got, ",") != "grad-only,full-lr3,full-lr4,full-lr5,full-lr6,full-lr7" {
		t.Errorf("grid curves = %v, want baseline and the 5 best", got)
	}
}
