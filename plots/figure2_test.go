package plots

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestFigure2TwoPanelsDeterministic(t *testing.T) {
	fashion := fakeStudy("fashion-ablation", "", nil, 3)
	mnist := fakeStudy("mnist-tuning", "", nil, 3)
	for i := range mnist {
		if mnist[i].Variant == "full" {
			mnist[i].Variant = "full-lr0.1-w2-s2"
		}
	}
	panels := []Panel{
		{Title: "MNIST", Runs: mnist, Baseline: "grad-only", Treatment: "full-lr0.1-w2-s2"},
		{Title: "Fashion-MNIST", Runs: fashion, Baseline: "grad-only", Treatment: "full"},
	}
	var first [][]byte
	for round := 0; round < 2; round++ {
		files, err := Figure2(t.TempDir(), panels)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 || !strings.HasSuffix(files[0], "fig2-test-accuracy.png") || !strings.HasSuffix(files[1], "fig2-test-accuracy.svg") {
			t.Fatalf("files %v", files)
		}
		for i, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checkImage(t, f, data)
			if round == 0 {
				first = append(first, data)
			} else if !bytes.Equal(first[i], data) {
				t.Fatalf("%s differs between two renderings", f)
			}
		}
	}
	for _, want := range []string{"MNIST", "Fashion-MNIST", "grad-only (n=3)", "full (n=3)"} {
		if !bytes.Contains(first[1], []byte(want)) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	// A panel without the treatment's runs is an error, not an empty plot.
	panels[0].Treatment = "full-lr9-w9-s9"
	if _, err := Figure2(t.TempDir(), panels); err == nil || !strings.Contains(err.Error(), "full-lr9-w9-s9") {
		t.Fatalf("missing treatment: %v", err)
	}
}
