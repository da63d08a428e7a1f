package results

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(want) {
		if !math.IsNaN(got) {
			t.Errorf("%s = %v, want NaN", what, got)
		}
		return
	}
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.9g, want %.9g (tol %g)", what, got, want, tol)
	}
}

func TestMeanStd(t *testing.T) {
	xs := []float64{2, 4, 4, 4, 5, 5, 7, 9}
	near(t, "mean", Mean(xs), 5, 1e-12)
	near(t, "std", StdDev(xs), math.Sqrt(32.0/7), 1e-12)
	near(t, "mean(empty)", Mean(nil), math.NaN(), 0)
	near(t, "std(n=1)", StdDev([]float64{3}), math.NaN(), 0)
	near(t, "std(n=2)", StdDev([]float64{1, 3}), math.Sqrt2, 1e-12)
}

func TestTQuantileKnownValues(t *testing.T) {
	for _, c := range []struct {
		df   int
		want float64
	}{{1, 12.706205}, {2, 4.302653}, {4, 2.776445}, {9, 2.262157}, {29, 2.045230}} {
		near(t, "t_{0.975}", TQuantile(0.975, c.df), c.want, 5e-6)
	}
	near(t, "t(df=0)", TQuantile(0.975, 0), math.NaN(), 0)
}

func TestCI95(t *testing.T) {
	cases := []struct {
		name   string
		xs     []float64
		lo, hi float64
	}{
		{"n=1 undefined", []float64{87.5}, math.NaN(), math.NaN()},
		{"n=2", []float64{1, 3}, 2 - 12.706205, 2 + 12.706205},
		{"n=3", []float64{1, 2, 3}, 2 - 4.302653/math.Sqrt(3), 2 + 4.302653/math.Sqrt(3)},
		{"n=10", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			5.5 - 2.262157*math.Sqrt(82.5/9)/math.Sqrt(10), 5.5 + 2.262157*math.Sqrt(82.5/9)/math.Sqrt(10)},
		{"zero spread", []float64{4, 4, 4}, 4, 4},
	}
	for _, c := range cases {
		lo, hi := CI95(c.xs)
		near(t, c.name+" lo", lo, c.lo, 1e-5)
		near(t, c.name+" hi", hi, c.hi, 1e-5)
	}
}

func TestPairedTTestP(t *testing.T) {
	// df=2 has a closed form: p = 1 - t/sqrt(2+t^2); d=[1,2,3] gives t=2*sqrt(3).
	tt := 2 * math.Sqrt(3)
	near(t, "p(1,2,3)", PairedTTestP([]float64{1, 2, 3}), 1-tt/math.Sqrt(2+tt*tt), 1e-9)
	// df=1 is Cauchy: p = 1 - (2/pi) atan|t|; d=[1,3] gives t=2.
	near(t, "p(1,3)", PairedTTestP([]float64{1, 3}), 1-2/math.Pi*math.Atan(2), 1e-9)
	near(t, "sign symmetric", PairedTTestP([]float64{-1, -3}), 1-2/math.Pi*math.Atan(2), 1e-9)
	near(t, "n=1", PairedTTestP([]float64{0.4}), math.NaN(), 0)
	near(t, "all zero", PairedTTestP([]float64{0, 0, 0}), 1, 0)
	near(t, "constant non-zero", PairedTTestP([]float64{0.5, 0.5}), 0, 0)
	// Float noise from subtracting accuracies must not turn a constant gap into noise.
	near(t, "constant with rounding", PairedTTestP([]float64{88.5 - 88.4, 87.5 - 87.4, 86.5 - 86.4}), 0, 0)
	// t exactly at the 0.975 quantile gives p = 0.05: d with mean/se = t_{0.975,9}.
	d := make([]float64, 10)
	for i := range d {
		d[i] = float64(i) - 4.5 // mean 0, sd sqrt(82.5/9)
	}
	shift := 2.262157 * math.Sqrt(82.5/9) / math.Sqrt(10)
	for i := range d {
		d[i] += shift
	}
	near(t, "p at critical t", PairedTTestP(d), 0.05, 1e-6)
}

func TestSignTestP(t *testing.T) {
	cases := []struct {
		name string
		d    []float64
		want float64
	}{
		{"3 of 3 positive", []float64{1, 2, 3}, 2.0 / 8},
		{"ties dropped, 4 of 5", []float64{1, -2, 3, 0, 4, 5}, 2 * (1.0 + 5) / 32},
		{"9 of 10", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, -1}, 2 * (1.0 + 10) / 1024},
		{"balanced n=2 capped at 1", []float64{1, -1}, 1},
		{"all ties", []float64{0, 0}, 1},
		{"n=1", []float64{-0.3}, 1},
	}
	for _, c := range cases {
		near(t, c.name, SignTestP(c.d), c.want, 1e-12)
	}
}

func TestWilcoxonSignedRankP(t *testing.T) {
	cases := []struct {
		name string
		d    []float64
		want float64
	}{
		// W+ = 6 is the maximum of 8 equally likely sums: p = 2/8.
		{"3 of 3 positive", []float64{1, 2, 3}, 0.25},
		{"zero dropped", []float64{0, 1, 2, 3}, 0.25},
		// ranks 1.5,1.5,3,4 ; W+ = 8.5 ; 3 of 16 subsets reach >= 8.5.
		{"tied ranks", []float64{1, -1, 2, 3}, 2 * 3.0 / 16},
		// ranks 1..5, W+ = 14: only {}, {1} have complement sum <= 1.
		{"one small negative", []float64{-1, 2, 3, 4, 5}, 4.0 / 32},
		{"all positive n=5", []float64{5, 4, 3, 2, 1}, 2.0 / 32},
		{"n=2", []float64{0.1, -0.2}, 1},
		{"all zero", []float64{0, 0, 0}, 1},
	}
	for _, c := range cases {
		near(t, c.name, WilcoxonSignedRankP(c.d), c.want, 1e-12)
	}
}

// bruteWilcoxon enumerates all 2^n sign assignments directly.
func bruteWilcoxon(d []float64) float64 {
	var nz []float64
	for _, x := range d {
		if x != 0 {
			nz = append(nz, x)
		}
	}
	r := averageRanks(nz)
	obs := 0.0
	for i, x := range nz {
		if x > 0 {
			obs += r[i]
		}
	}
	n := len(nz)
	le, ge := 0, 0
	for mask := 0; mask < 1<<n; mask++ {
		w := 0.0
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				w += r[i]
			}
		}
		if w <= obs+1e-9 {
			le++
		}
		if w >= obs-1e-9 {
			ge++
		}
	}
	return math.Min(1, 2*float64(min(le, ge))/float64(int(1)<<n))
}

func TestWilcoxonMatchesEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 4, 7, 12, 16} {
		for trial := 0; trial < 5; trial++ {
			d := make([]float64, n)
			for i := range d {
				d[i] = float64(rng.IntN(7) - 2) // many ties and zeros
			}
			near(t, "random", WilcoxonSignedRankP(d), bruteWilcoxon(d), 1e-12)
		}
	}
}

func TestComparePairedWins(t *testing.T) {
	p := ComparePaired([]int{1, 2, 3, 4}, []float64{0.5, -0.2, 0, 1}, true)
	if p.Wins != 2 || p.Losses != 1 || p.Ties != 1 || p.N != 4 {
		t.Errorf("accuracy tally = %d/%d/%d n=%d, want 2/1/1 n=4", p.Wins, p.Losses, p.Ties, p.N)
	}
	// For a loss, lower is better: negative differences are wins.
	p = ComparePaired([]int{1, 2, 3}, []float64{-0.1, -0.2, 0.3}, false)
	if p.Wins != 2 || p.Losses != 1 || p.Ties != 0 {
		t.Errorf("loss tally = %d/%d/%d, want 2/1/0", p.Wins, p.Losses, p.Ties)
	}
	p = ComparePaired([]int{7}, []float64{0.4}, true)
	if !p.CI95Low.IsNaN() || !p.TTestP.IsNaN() || p.SignTestP != 1 || p.Wins != 1 {
		t.Errorf("n=1 comparison = %+v, want undefined CI and t-test", p)
	}
	p = ComparePaired(nil, nil, true)
	if !p.MeanDiff.IsNaN() || !p.SignTestP.IsNaN() || !p.WilcoxonP.IsNaN() {
		t.Errorf("empty comparison = %+v, want all undefined", p)
	}
}
