package results

import (
	"fmt"
	"math"
	"sort"
)

// Summary is a study's outcome computed from its run records, written as
// summary.json. Runs that did not complete (diverged, partial, missing) are
// listed with their status but left out of every aggregate and comparison;
// Excluded counts them.
type Summary struct {
	Experiment string `json:"experiment"`
	// SpecHash identifies the study specification the summary describes
	// (set by the runner; each run's own spec hash is in Runs); Spec is
	// whatever description the runner supplied, stored as given.
	SpecHash string `json:"spec_hash,omitempty"`
	Spec     any    `json:"spec,omitempty"`
	Baseline string `json:"baseline"`
	// Groups lists the study's cells in display order ("" for a study with
	// a single cell).
	Groups   []string `json:"groups"`
	Included int      `json:"included"`
	Excluded int      `json:"excluded"`
	// Warnings says what could not be computed and why.
	Warnings    []string     `json:"warnings,omitempty"`
	Runs        []RunSummary `json:"runs"`
	Aggregates  []Aggregate  `json:"aggregates"`
	Comparisons []Comparison `json:"comparisons"`
	// Ranking orders the variants of each group with more than two variants
	// (a grid study) by mean final test accuracy, best first.
	Ranking []RankEntry `json:"ranking,omitempty"`
}

// RunSummary is one run's line in the summary. Accuracies are in percent.
type RunSummary struct {
	Variant           string             `json:"variant"`
	Group             string             `json:"group"`
	Seed              int                `json:"seed"`
	Axes              map[string]float64 `json:"axes,omitempty"`
	Status            string             `json:"status"`
	Included          bool               `json:"included"`
	Epochs            int                `json:"epochs"`
	FinalTestAccuracy Float              `json:"final_test_accuracy"`
	BestTestAccuracy  Float              `json:"best_test_accuracy"`
	FinalTestLoss     Float              `json:"final_test_loss"`
	TrainSeconds      Float              `json:"train_seconds"`
	Diverged          *Divergence        `json:"diverged,omitempty"`
	// SpecHash identifies the run's fully resolved specification.
	SpecHash string `json:"spec_hash,omitempty"`
}

// Aggregate describes one (group, variant) over its included runs.
type Aggregate struct {
	Group   string `json:"group"`
	Variant string `json:"variant"`
	// Axes holds the axis values shared by all runs of the cell.
	Axes              map[string]float64 `json:"axes,omitempty"`
	N                 int                `json:"n"`
	Excluded          int                `json:"excluded"`
	Seeds             []int              `json:"seeds"`
	FinalTestAccuracy Stat               `json:"final_test_accuracy"`
	BestTestAccuracy  Stat               `json:"best_test_accuracy"`
	FinalTestLoss     Stat               `json:"final_test_loss"`
	TrainSeconds      Stat               `json:"train_seconds"`
}

// Comparison is a treatment against the baseline within one group, paired
// by seed over the seeds where both runs completed.
type Comparison struct {
	Group             string             `json:"group"`
	Treatment         string             `json:"treatment"`
	Baseline          string             `json:"baseline"`
	BaselineGroup     string             `json:"baseline_group"`
	Axes              map[string]float64 `json:"axes,omitempty"`
	FinalTestAccuracy Paired             `json:"final_test_accuracy"`
	FinalTestLoss     Paired             `json:"final_test_loss"`
}

// RankEntry is one variant's place in its group's ranking.
type RankEntry struct {
	Rank                  int                `json:"rank"`
	Group                 string             `json:"group"`
	Variant               string             `json:"variant"`
	Axes                  map[string]float64 `json:"axes,omitempty"`
	N                     int                `json:"n"`
	MeanFinalTestAccuracy Float              `json:"mean_final_test_accuracy"`
	StdFinalTestAccuracy  Float              `json:"std_final_test_accuracy"`
}

// Included reports whether a run enters the aggregates: it completed and
// its final numbers are finite.
func Included(r *Run) bool {
	if r.Status != StatusComplete && !(r.Status == "" && r.Diverged == nil) {
		return false
	}
	f, ok := r.Final()
	return ok && isFinite(f.TestAccuracy) && isFinite(f.TestLoss)
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Summarize computes the summary of a study from its run records. baseline
// names the variant every other variant is compared against; spec is stored
// as given. Runs from other experiments are kept (the caller decides what
// belongs together) but the summary is labelled with experiment.
func Summarize(experiment, baseline string, spec any, runs []Run) *Summary {
	s := &Summary{Experiment: experiment, Baseline: baseline, Spec: spec,
		Runs: []RunSummary{}, Aggregates: []Aggregate{}, Comparisons: []Comparison{}}
	sorted := SortRuns(runs, baseline)
	for i := range sorted {
		r := &sorted[i]
		s.Runs = append(s.Runs, summarizeRun(r))
	}
	s.Groups = GroupOrder(sorted)

	// Per (group, variant) cells, in the sorted order.
	type cell struct {
		group, variant string
		runs           []*Run
	}
	var cells []*cell
	index := map[[2]string]*cell{}
	for i := range sorted {
		r := &sorted[i]
		k := [2]string{r.Group, r.Variant}
		c := index[k]
		if c == nil {
			c = &cell{group: r.Group, variant: r.Variant}
			index[k] = c
			cells = append(cells, c)
		}
		c.runs = append(c.runs, r)
	}
	for _, c := range cells {
		a := Aggregate{Group: c.group, Variant: c.variant, Axes: commonAxes(c.runs), Seeds: []int{}}
		var acc, best, loss, secs []float64
		for _, r := range c.runs {
			if !Included(r) {
				a.Excluded++
				continue
			}
			f, _ := r.Final()
			a.N++
			a.Seeds = append(a.Seeds, r.Seed)
			acc = append(acc, f.TestAccuracy)
			best = append(best, r.BestTestAccuracy())
			loss = append(loss, f.TestLoss)
			secs = append(secs, r.TrainSeconds)
		}
		s.Included += a.N
		s.Excluded += a.Excluded
		a.FinalTestAccuracy, a.BestTestAccuracy = Describe(acc), Describe(best)
		a.FinalTestLoss, a.TrainSeconds = Describe(loss), Describe(secs)
		s.Aggregates = append(s.Aggregates, a)
	}

	// Comparisons against the baseline of the same group.
	baseGroups := []string{}
	for _, c := range cells {
		if c.variant == baseline {
			baseGroups = append(baseGroups, c.group)
		}
	}
	for _, c := range cells {
		if c.variant == baseline {
			continue
		}
		bc := index[[2]string{c.group, baseline}]
		if bc == nil && len(baseGroups) == 1 {
			bc = index[[2]string{baseGroups[0], baseline}]
			s.addWarning("group %q has no %s runs; compared against group %q", c.group, baseline, baseGroups[0])
		}
		if bc == nil {
			if len(baseGroups) == 0 {
				s.addWarning("no runs of the baseline variant %q: no comparisons", baseline)
			} else {
				s.addWarning("group %q has no %s runs: %s not compared", c.group, baseline, c.variant)
			}
			continue
		}
		s.Comparisons = append(s.Comparisons, compare(c.group, c.variant, bc.group, baseline, c.runs, bc.runs))
	}

	s.Ranking = rank(s.Aggregates)
	return s
}

func (s *Summary) addWarning(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	for _, x := range s.Warnings {
		if x == w {
			return
		}
	}
	s.Warnings = append(s.Warnings, w)
}

func summarizeRun(r *Run) RunSummary {
	rs := RunSummary{Variant: r.Variant, Group: r.Group, Seed: r.Seed, Axes: r.Axes, Status: r.Status,
		Included: Included(r), Epochs: len(r.Epochs), TrainSeconds: Float(r.TrainSeconds), Diverged: r.Diverged,
		SpecHash: r.SpecHash}
	nan := Float(math.NaN())
	rs.FinalTestAccuracy, rs.BestTestAccuracy, rs.FinalTestLoss = nan, nan, nan
	if f, ok := r.Final(); ok {
		rs.FinalTestAccuracy = Float(f.TestAccuracy)
		rs.BestTestAccuracy = Float(r.BestTestAccuracy())
		rs.FinalTestLoss = Float(f.TestLoss)
	}
	return rs
}

func compare(group, treatment, baseGroup, baseline string, treat, base []*Run) Comparison {
	c := Comparison{Group: group, Treatment: treatment, Baseline: baseline, BaselineGroup: baseGroup,
		Axes: commonAxes(treat)}
	bySeed := map[int]*Run{}
	for _, r := range base {
		if Included(r) {
			if _, dup := bySeed[r.Seed]; !dup {
				bySeed[r.Seed] = r
			}
		}
	}
	var seeds []int
	var dAcc, dLoss []float64
	seen := map[int]bool{}
	for _, r := range treat {
		b := bySeed[r.Seed]
		if !Included(r) || b == nil || seen[r.Seed] {
			continue
		}
		seen[r.Seed] = true
		ft, _ := r.Final()
		fb, _ := b.Final()
		seeds = append(seeds, r.Seed)
		dAcc = append(dAcc, ft.TestAccuracy-fb.TestAccuracy)
		dLoss = append(dLoss, ft.TestLoss-fb.TestLoss)
	}
	c.FinalTestAccuracy = ComparePaired(seeds, dAcc, true)
	c.FinalTestLoss = ComparePaired(seeds, dLoss, false)
	return c
}

func rank(aggs []Aggregate) []RankEntry {
	byGroup := map[string][]Aggregate{}
	var order []string
	for _, a := range aggs {
		if _, ok := byGroup[a.Group]; !ok {
			order = append(order, a.Group)
		}
		byGroup[a.Group] = append(byGroup[a.Group], a)
	}
	var out []RankEntry
	for _, g := range order {
		as := append([]Aggregate{}, byGroup[g]...)
		if len(as) <= 2 {
			continue
		}
		sort.SliceStable(as, func(i, j int) bool {
			mi, mj := float64(as[i].FinalTestAccuracy.Mean), float64(as[j].FinalTestAccuracy.Mean)
			switch {
			case math.IsNaN(mi) != math.IsNaN(mj):
				return math.IsNaN(mj)
			case mi != mj && !math.IsNaN(mi):
				return mi > mj
			}
			return as[i].Variant < as[j].Variant
		})
		for i, a := range as {
			out = append(out, RankEntry{Rank: i + 1, Group: g, Variant: a.Variant, Axes: a.Axes, N: a.N,
				MeanFinalTestAccuracy: a.FinalTestAccuracy.Mean, StdFinalTestAccuracy: a.FinalTestAccuracy.Std})
		}
	}
	return out
}

// commonAxes returns the axis values every run agrees on.
func commonAxes(runs []*Run) map[string]float64 {
	if len(runs) == 0 {
		return nil
	}
	out := map[string]float64{}
	for k, v := range runs[0].Axes {
		out[k] = v
	}
	for _, r := range runs[1:] {
		for k, v := range out {
			if w, ok := r.Axes[k]; !ok || w != v {
				delete(out, k)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// GroupOrder lists the distinct groups of runs in display order: by their
// shared axis values (numerically, axis names sorted), then by name, so that
// "shots=5" comes before "shots=10".
func GroupOrder(runs []Run) []string {
	members := map[string][]*Run{}
	var names []string
	for i := range runs {
		g := runs[i].Group
		if _, ok := members[g]; !ok {
			names = append(names, g)
		}
		members[g] = append(members[g], &runs[i])
	}
	axes := map[string]map[string]float64{}
	for _, g := range names {
		axes[g] = commonAxes(members[g])
	}
	sort.SliceStable(names, func(i, j int) bool {
		if c := compareAxes(axes[names[i]], axes[names[j]]); c != 0 {
			return c < 0
		}
		return names[i] < names[j]
	})
	return names
}

func compareAxes(a, b map[string]float64) int {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	sortedKeys := make([]string, 0, len(keys))
	for k := range keys {
		sortedKeys = append(sortedKeys, k)
	}
	sort.Strings(sortedKeys)
	for _, k := range sortedKeys {
		va, oka := a[k]
		vb, okb := b[k]
		switch {
		case oka != okb:
			if !oka {
				return -1
			}
			return 1
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
	}
	return 0
}

// SortRuns returns a copy of runs in display order: by group (GroupOrder),
// then the baseline variant first and the others by name, then by seed.
func SortRuns(runs []Run, baseline string) []Run {
	out := append([]Run{}, runs...)
	pos := map[string]int{}
	for i, g := range GroupOrder(out) {
		pos[g] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Group != b.Group {
			return pos[a.Group] < pos[b.Group]
		}
		if a.Variant != b.Variant {
			if a.Variant == baseline || b.Variant == baseline {
				return a.Variant == baseline
			}
			return a.Variant < b.Variant
		}
		return a.Seed < b.Seed
	})
	return out
}
