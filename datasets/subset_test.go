package datasets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func checkSortedUnique(t *testing.T, idx []int, n int) {
	t.Helper()
	for i, v := range idx {
		if v < 0 || v >= n || (i > 0 && idx[i-1] >= v) {
			t.Fatalf("indices not sorted, unique and in range at %d: %v", i, idx[max(0, i-1):i+1])
		}
	}
}

func TestUniformSubset(t *testing.T) {
	for _, c := range []struct {
		frac float64
		want int
	}{{0.1, 6000}, {0.25, 15000}, {0.5, 30000}, {1, 60000}, {1e-4, 6}} {
		idx, err := UniformSubset(60000, c.frac, newPCG(41))
		if err != nil {
			t.Fatal(err)
		}
		if len(idx) != c.want {
			t.Errorf("fraction %v: %d indices, want %d", c.frac, len(idx), c.want)
		}
		checkSortedUnique(t, idx, 60000)
	}
	a, _ := UniformSubset(1000, 0.3, newPCG(41))
	b, _ := UniformSubset(1000, 0.3, newPCG(41))
	c, _ := UniformSubset(1000, 0.3, newPCG(42))
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("subset not fixed by the seed")
	}
	// Uniform: every index is chosen with probability 3/10.
	counts := make([]int, 10)
	r := newPCG(1)
	const draws = 20000
	for range draws {
		idx, _ := UniformSubset(10, 0.3, r)
		for _, i := range idx {
			counts[i]++
		}
	}
	for i, k := range counts {
		if k < 5700 || k > 6300 { // mean 6000, sd about 65
			t.Errorf("index %d chosen %d times in %d draws, expected about 6000", i, k, draws)
		}
	}
	for _, f := range []float64{0, -0.5, 1.01, 2} {
		if _, err := UniformSubset(100, f, r); err == nil || !strings.Contains(err.Error(), "outside (0, 1]") {
			t.Errorf("fraction %v: %v", f, err)
		}
	}
	if _, err := UniformSubset(10, 0.01, r); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty subset: %v", err)
	}
}

func TestClassBalanced(t *testing.T) {
	labels := make([]uint8, 300)
	for i := range labels {
		labels[i] = uint8(i % 3)
	}
	for _, k := range []int{1, 5, 100} {
		idx, err := ClassBalanced(labels, 3, k, newPCG(43))
		if err != nil {
			t.Fatal(err)
		}
		checkSortedUnique(t, idx, len(labels))
		per := make([]int, 3)
		for _, i := range idx {
			per[labels[i]]++
		}
		if !slices.Equal(per, []int{k, k, k}) {
			t.Errorf("k=%d: per class %v", k, per)
		}
	}
	a, _ := ClassBalanced(labels, 3, 5, newPCG(1))
	b, _ := ClassBalanced(labels, 3, 5, newPCG(1))
	if !slices.Equal(a, b) {
		t.Error("not fixed by the seed")
	}
	if _, err := ClassBalanced(labels, 3, 101, newPCG(1)); err == nil || !strings.Contains(err.Error(), "class 0 has 100") {
		t.Errorf("too many shots: %v", err)
	}
	if _, err := ClassBalanced(labels, 4, 1, newPCG(1)); err == nil || !strings.Contains(err.Error(), "class 3 has 0") {
		t.Errorf("empty class: %v", err)
	}
	if _, err := ClassBalanced(labels, 2, 1, newPCG(1)); err == nil || !strings.Contains(err.Error(), "label 2") {
		t.Errorf("label out of range: %v", err)
	}
	if _, err := ClassBalanced(labels, 3, 0, newPCG(1)); err == nil {
		t.Error("zero shots accepted")
	}
}

func TestLoadSubsetFile(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "s.json")
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	idx, err := LoadSubsetFile(write("[5, 0, 9]"), 10)
	if err != nil || !slices.Equal(idx, []int{0, 5, 9}) {
		t.Errorf("list: %v %v", idx, err)
	}
	idx, err = LoadSubsetFile(write(`{"indices": [3, 1]}`), 10)
	if err != nil || !slices.Equal(idx, []int{1, 3}) {
		t.Errorf("object: %v %v", idx, err)
	}
	for _, c := range []struct{ text, want string }{
		{"[1, 10]", "index 10 (entry 1) is outside the training set 0..9"},
		{"[-1]", "index -1"},
		{"[2, 3, 2]", "index 2 appears more than once"},
		{"[]", "empty"},
		{"[1.5]", "expected a JSON list"},
		{"{", "expected a JSON list"},
		{`{"other": 1}`, "expected a JSON list"},
	} {
		p := write(c.text)
		_, err := LoadSubsetFile(p, 10)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want %q and the path", c.text, err, c.want)
		}
	}
	if _, err := LoadSubsetFile(filepath.Join(dir, "none.json"), 10); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("missing file: %v", err)
	}
}
