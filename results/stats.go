package results

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Mean is the arithmetic mean of xs; NaN when xs is empty.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// StdDev is the sample standard deviation of xs (divisor n-1); NaN when
// fewer than two values are given.
func StdDev(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	m := Mean(xs)
	ss := 0.0
	for _, x := range xs {
		d := x - m
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// TQuantile is the p-quantile of Student's t distribution with df degrees of
// freedom; NaN when df < 1.
func TQuantile(p float64, df int) float64 {
	if df < 1 {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(p)
}

// CI95 is the two-sided 95 % confidence interval of the mean of xs from
// Student's t with n-1 degrees of freedom. Both ends are NaN when n < 2:
// one value says nothing about spread.
func CI95(xs []float64) (lo, hi float64) {
	n := len(xs)
	if n < 2 {
		return math.NaN(), math.NaN()
	}
	m := Mean(xs)
	h := TQuantile(0.975, n-1) * StdDev(xs) / math.Sqrt(float64(n))
	return m - h, m + h
}

// PairedTTestP is the two-sided p-value of the one-sample t-test of the
// paired differences d against zero (df = n-1). NaN when n < 2. When every
// difference is identical the t statistic is undefined or infinite: the
// p-value is 1 when they are all zero and 0 otherwise.
func PairedTTestP(d []float64) float64 {
	n := len(d)
	if n < 2 {
		return math.NaN()
	}
	m := Mean(d)
	sd := StdDev(d)
	if sd == 0 || sd < 1e-12*math.Abs(m) {
		if m == 0 {
			return 1
		}
		return 0
	}
	t := m / (sd / math.Sqrt(float64(n)))
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	return clampP(2 * dist.Survival(math.Abs(t)))
}

// SignTestP is the exact two-sided sign-test p-value of the differences d
// against a zero median. Zero differences (ties) are dropped; with no
// non-zero difference left the p-value is 1.
func SignTestP(d []float64) float64 {
	pos, neg := 0, 0
	for _, x := range d {
		switch {
		case x > 0:
			pos++
		case x < 0:
			neg++
		}
	}
	n := pos + neg
	if n == 0 {
		return 1
	}
	k := min(pos, neg)
	// P(X <= k) for X ~ Binomial(n, 1/2): binomial coefficients built up
	// exactly (integers in float64 for any realistic n), scaled by 2^-n.
	tail, c := 0.0, 1.0
	for i := 0; i <= k; i++ {
		tail += c
		c = c * float64(n-i) / float64(i+1)
	}
	return clampP(2 * math.Ldexp(tail, -n))
}

// WilcoxonSignedRankP is the exact two-sided p-value of the Wilcoxon
// signed-rank test of the differences d against zero. Zero differences are
// dropped; tied absolute differences get the average of their ranks. The
// null distribution of W+ is enumerated exactly over all 2^n sign
// assignments of the observed ranks (by dynamic programming over the sums,
// which equals brute-force enumeration and stays exact with tied ranks).
// With no non-zero difference left the p-value is 1.
func WilcoxonSignedRankP(d []float64) float64 {
	var nz []float64
	for _, x := range d {
		if x != 0 {
			nz = append(nz, x)
		}
	}
	n := len(nz)
	if n == 0 {
		return 1
	}
	ranks := averageRanks(nz)
	// Doubled ranks are integers even with ties (averages are multiples of 1/2).
	r2 := make([]int, n)
	wObs := 0
	total := 0
	for i, r := range ranks {
		r2[i] = int(math.Round(2 * r))
		total += r2[i]
		if nz[i] > 0 {
			wObs += r2[i]
		}
	}
	// dist[s] = number of sign assignments whose doubled W+ equals s, scaled by 2^-n.
	dist := make([]float64, total+1)
	dist[0] = 1
	for _, r := range r2 {
		next := make([]float64, total+1)
		for s, p := range dist {
			if p == 0 {
				continue
			}
			next[s] += p / 2
			next[s+r] += p / 2
		}
		dist = next
	}
	lower, upper := 0.0, 0.0
	for s, p := range dist {
		if s <= wObs {
			lower += p
		}
		if s >= wObs {
			upper += p
		}
	}
	return clampP(2 * math.Min(lower, upper))
}

// averageRanks ranks |xs| from 1, giving tied values the mean of their ranks.
func averageRanks(xs []float64) []float64 {
	n := len(xs)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(xs[idx[a]]) < math.Abs(xs[idx[b]]) })
	ranks := make([]float64, n)
	for i := 0; i < n; {
		j := i + 1
		for j < n && math.Abs(xs[idx[j]]) == math.Abs(xs[idx[i]]) {
			j++
		}
		avg := float64(i+1+j) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			ranks[idx[k]] = avg
		}
		i = j
	}
	return ranks
}

func clampP(p float64) float64 {
	if p > 1 {
		return 1
	}
	if p < 0 {
		return 0
	}
	return p
}

// Stat is the mean, sample standard deviation and 95 % confidence interval
// of one quantity over the included runs. Undefined values (std and CI for a
// single run) are NaN in memory and null in JSON.
type Stat struct {
	Mean     Float `json:"mean"`
	Std      Float `json:"std"`
	CI95Low  Float `json:"ci95_low"`
	CI95High Float `json:"ci95_high"`
}

// Describe computes the Stat of xs.
func Describe(xs []float64) Stat {
	lo, hi := CI95(xs)
	return Stat{Mean: Float(Mean(xs)), Std: Float(StdDev(xs)), CI95Low: Float(lo), CI95High: Float(hi)}
}

// Paired is the comparison of a treatment against the baseline over the
// seeds both completed: statistics of the differences treatment minus
// baseline and the seed-wise tally. A win is a seed where the treatment is
// better (higher when HigherIsBetter, lower otherwise); a tie is an exactly
// equal pair.
type Paired struct {
	N              int     `json:"n"`
	Seeds          []int   `json:"seeds"`
	Diffs          []Float `json:"diffs"`
	MeanDiff       Float   `json:"mean_diff"`
	StdDiff        Float   `json:"std_diff"`
	CI95Low        Float   `json:"ci95_low"`
	CI95High       Float   `json:"ci95_high"`
	TTestP         Float   `json:"t_test_p"`
	SignTestP      Float   `json:"sign_test_p"`
	WilcoxonP      Float   `json:"wilcoxon_p"`
	Wins           int     `json:"wins"`
	Losses         int     `json:"losses"`
	Ties           int     `json:"ties"`
	HigherIsBetter bool    `json:"higher_is_better"`
}

// ComparePaired computes the Paired statistics of the differences d
// (treatment minus baseline, one per seed listed in seeds).
func ComparePaired(seeds []int, d []float64, higherIsBetter bool) Paired {
	lo, hi := CI95(d)
	p := Paired{
		N:              len(d),
		Seeds:          append([]int{}, seeds...),
		Diffs:          make([]Float, len(d)),
		MeanDiff:       Float(Mean(d)),
		StdDiff:        Float(StdDev(d)),
		CI95Low:        Float(lo),
		CI95High:       Float(hi),
		TTestP:         Float(PairedTTestP(d)),
		SignTestP:      Float(SignTestP(d)),
		WilcoxonP:      Float(WilcoxonSignedRankP(d)),
		HigherIsBetter: higherIsBetter,
	}
	if len(d) == 0 {
		p.SignTestP, p.WilcoxonP = Float(math.NaN()), Float(math.NaN())
	}
	for i, x := range d {
		p.Diffs[i] = Float(x)
		switch {
		case x == 0:
			p.Ties++
		case (x > 0) == higherIsBetter:
			p.Wins++
		default:
			p.Losses++
		}
	}
	return p
}
