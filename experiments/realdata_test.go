package experiments

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/repro-np/repro/datasets"
)

// TestRealFashionMNISTSmoke trains both variants for one epoch on the first
// 5,000 real Fashion-MNIST images and checks they learn far above chance
// (10 %). CI installs the Debian dataset package so this runs there.
func TestRealFashionMNISTSmoke(t *testing.T) {
	dir := datasets.DefaultFashionMNISTDir
	if m, _ := filepath.Glob(filepath.Join(dir, "train-images-idx3-ubyte*")); len(m) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("Fashion-MNIST is missing from %s in CI; .ci/run should install dataset-fashion-mnist", dir)
		}
		t.Skipf("Fashion-MNIST not installed in %s (apt-get install dataset-fashion-mnist)", dir)
	}
	s := FashionAblation()
	s.Seeds = DefaultSeeds(1)
	s.Epochs = 1
	s.TrainLimit = 5000
	s.TestLimit = 2000
	out, err := Run(context.Background(), s, Options{DataDir: dir, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Runs) != 2 {
		t.Fatalf("got %d runs, want 2", len(out.Runs))
	}
	for _, r := range out.Runs {
		final, _ := r.Final()
		t.Logf("%s: test accuracy %.2f%%, loss %.4f", r.Variant, final.TestAccuracy, final.TestLoss)
		if final.TestAccuracy < 50 {
			t.Errorf("%s: test accuracy %.2f%% after one epoch on 5,000 images; expected well above chance (>= 50%%)", r.Variant, final.TestAccuracy)
		}
	}
}
