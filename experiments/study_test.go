package experiments

import (
	"strings"
	"testing"

	"github.com/repro-np/repro/optimizers"
)

func TestSetVariant(t *testing.T) {
	s := FashionAblation()
	adamw := optimizers.DefaultConfig("adamw")
	if err := s.SetVariant("adamw", adamw); err != nil {
		t.Fatal(err)
	}
	if len(s.Variants) != 3 || s.Variants[2].Name != "adamw" || s.Variants[2].Optimizer.Name != "adamw" {
		t.Fatalf("variants after adding: %+v", s.Variants)
	}
	sgd := optimizers.DefaultConfig("sgd")
	if err := s.SetVariant("full", sgd); err != nil {
		t.Fatal(err)
	}
	if len(s.Variants) != 3 || s.Variants[1].Optimizer.Name != "sgd" {
		t.Fatalf("replacing full: %+v", s.Variants)
	}
	for _, bad := range []string{"", "a/b", "../x", ".hidden", "two words"} {
		if err := s.SetVariant(bad, sgd); err == nil || !strings.Contains(err.Error(), "variant name") {
			t.Errorf("SetVariant(%q) = %v, want a variant-name error", bad, err)
		}
	}
	broken := sgd
	broken.LR = -1
	if err := s.SetVariant("neg", broken); err == nil || !strings.Contains(err.Error(), "lr") {
		t.Errorf("negative lr accepted: %v", err)
	}
}

func TestExpandGroupsAndSteps(t *testing.T) {
	s := FewShot()
	s.Shots = []int{1, 5}
	s.Seeds = DefaultSeeds(2)
	s.Steps = 25
	runs := Expand(s)
	if len(runs) != 2*2*2 {
		t.Fatalf("%d runs, want 8", len(runs))
	}
	if runs[0].ID() != "shots1-grad-only-seed41" || runs[0].Axes["shots"] != 1 || runs[0].Steps != 25 {
		t.Fatalf("first run %+v", runs[0])
	}
	if runs[0].Hash() == runs[1].Hash() {
		t.Fatal("different variants share a spec hash")
	}
	tr := &trainer{spec: runs[0], indices: make([]int, 10), y: make([]int32, 10)}
	total := 0
	for e := 1; e <= s.Epochs; e++ {
		total += tr.stepsIn(e)
	}
	if total != 25 {
		t.Fatalf("steps over all epochs = %d, want the budget 25", total)
	}
}
