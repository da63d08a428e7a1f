package datasets

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
)

// UniformSubset draws round(n*fraction) distinct indices of 0..n-1 uniformly
// at random and returns them sorted ascending. fraction must be in (0, 1].
// The draw is a partial Fisher-Yates shuffle: for i = 0, 1, ..., k-1 it swaps
// position i with i + r.IntN(n-i); fraction 1 returns every index without
// drawing.
func UniformSubset(n int, fraction float64, r Rand) ([]int, error) {
	if !(fraction > 0 && fraction <= 1) {
		return nil, fmt.Errorf("training fraction %v is outside (0, 1]", fraction)
	}
	if n <= 0 {
		return nil, fmt.Errorf("cannot draw a subset of an empty training set")
	}
	k := int(math.Round(float64(n) * fraction))
	if k == 0 {
		return nil, fmt.Errorf("training fraction %v of %d examples rounds to an empty subset", fraction, n)
	}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	if k == n {
		return p, nil
	}
	return pickSorted(p, k, r), nil
}

// pickSorted moves k random elements of p to its front (partial Fisher-Yates)
// and returns them sorted.
func pickSorted(p []int, k int, r Rand) []int {
	for i := range k {
		j := i + r.IntN(len(p)-i)
		p[i], p[j] = p[j], p[i]
	}
	out := p[:k:k]
	slices.Sort(out)
	return out
}

// ClassBalanced draws k distinct examples of each class 0..classes-1 and
// returns their indices sorted ascending. Classes are drawn in label order,
// each by a partial Fisher-Yates shuffle of that class's indices (ascending)
// as in UniformSubset. It fails if a class has fewer than k examples or a
// label is not below classes.
func ClassBalanced(labels []uint8, classes, k int, r Rand) ([]int, error) {
	if k <= 0 {
		return nil, fmt.Errorf("shots per class must be positive, got %d", k)
	}
	if classes <= 0 {
		return nil, fmt.Errorf("number of classes must be positive, got %d", classes)
	}
	byClass := make([][]int, classes)
	for i, l := range labels {
		if int(l) >= classes {
			return nil, fmt.Errorf("label %d of example %d is not below %d classes", l, i, classes)
		}
		byClass[l] = append(byClass[l], i)
	}
	for c, idx := range byClass {
		if len(idx) < k {
			return nil, fmt.Errorf("class %d has %d training examples, fewer than the %d shots asked for", c, len(idx), k)
		}
	}
	out := make([]int, 0, classes*k)
	for _, idx := range byClass {
		out = append(out, pickSorted(idx, k, r)...)
	}
	slices.Sort(out)
	return out, nil
}

// LoadSubsetFile reads a JSON list of training indices (as the reference code
// accepts; an object {"indices": [...]} is accepted too) and checks that each
// is in 0..n-1 and appears once. It returns them sorted ascending.
func LoadSubsetFile(path string, n int) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading subset file: %w", err)
	}
	return parseSubset(b, path, n)
}

func parseSubset(b []byte, path string, n int) ([]int, error) {
	var idx []int
	if err := json.Unmarshal(b, &idx); err != nil {
		var obj struct {
			Indices *[]int `json:"indices"`
		}
		if err2 := json.Unmarshal(b, &obj); err2 != nil || obj.Indices == nil {
			return nil, fmt.Errorf("%s: expected a JSON list of training indices such as [0, 5, 17]: %v", path, err)
		}
		idx = *obj.Indices
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("%s: the subset is empty; expected at least one training index", path)
	}
	seen := make([]bool, n)
	for pos, i := range idx {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("%s: index %d (entry %d) is outside the training set 0..%d", path, i, pos, n-1)
		}
		if seen[i] {
			return nil, fmt.Errorf("%s: index %d appears more than once (again at entry %d)", path, i, pos)
		}
		seen[i] = true
	}
	slices.Sort(idx)
	return idx, nil
}
