package experiments

import (
	"context"
	"testing"
)

// TestMNISTTuningGridOnFakeData runs a 2x1x1 grid plus the baseline end to
// end (the MNIST loader reads the same IDX files) and checks every run
// carries its grid values and the summary ranks all three variants.
func TestMNISTTuningGridOnFakeData(t *testing.T) {
	data := writeFakeFashion(t, 400, 200)
	s := MNISTTuningGrid(Grid{LR: []float64{0.1, 0.05}, WarmupEpochs: []int{2}, PlasticityScale: []float64{2}})
	s.Seeds = DefaultSeeds(2)
	s.Epochs = 2
	out, err := Run(context.Background(), s, Options{DataDir: data, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Runs) != 6 {
		t.Fatalf("%d runs, want 3 variants x 2 seeds", len(out.Runs))
	}
	for _, r := range out.Runs {
		if r.Variant == "grad-only" {
			continue
		}
		if r.Axes["lr"] == 0 || r.Axes["warmup_epochs"] != 2 || r.Axes["plasticity_scale"] != 2 {
			t.Fatalf("%s: axes %v", r.Variant, r.Axes)
		}
	}
	rk := out.Summary.Ranking
	if len(rk) != 3 {
		t.Fatalf("ranking has %d entries, want 3: %+v", len(rk), rk)
	}
	for i := 1; i < len(rk); i++ {
		if rk[i].MeanFinalTestAccuracy > rk[i-1].MeanFinalTestAccuracy {
			t.Fatalf("ranking not ordered by mean final accuracy: %+v", rk)
		}
	}
}

// TestLowDataSubsetsShared: both variants of a (fraction, seed) cell train on
// the same subset, of round(n*fraction) examples, recorded in the run.
func TestLowDataSubsetsShared(t *testing.T) {
	data := writeFakeFashion(t, 500, 100)
	s := LowData()
	s.Fractions = []float64{0.2, 1}
	s.Seeds = DefaultSeeds(1)
	s.Epochs = 1
	out, err := Run(context.Background(), s, Options{DataDir: data, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{}
	for _, r := range out.Runs {
		want := 500
		if r.Axes["fraction"] == 0.2 {
			want = 100
			if len(r.Subset) != 100 {
				t.Fatalf("%s: %d subset indices recorded", r.Variant, len(r.Subset))
			}
		}
		if r.SubsetSize != want {
			t.Fatalf("%s %s: subset size %d, want %d", r.Group, r.Variant, r.SubsetSize, want)
		}
		if h, ok := hashes[r.Group]; ok && h != r.SubsetHash {
			t.Fatalf("%s: variants trained on different subsets", r.Group)
		}
		hashes[r.Group] = r.SubsetHash
	}
}
