package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Float64()*2 - 1)
	}
	return x
}

// refGemm is the triple loop Sgemm is checked against, in float64.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(v)
		}
	}
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra stride beyond the width
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,%dx%dx%d,a=%g,b=%g,pad=%d", tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

// operands returns A, B and C with their strides for tc.
func (tc gemmCase) operands(seed uint64) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	r := rand.New(rand.NewPCG(seed, 7))
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc = ac+tc.pad, bc+tc.pad, tc.n+tc.pad
	a = randSlice(r, max(ar*lda, 1))
	b = randSlice(r, max(br*ldb, 1))
	c = randSlice(r, tc.m*ldc)
	if tc.beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN()) // must be ignored
		}
	}
	return
}

func (tc gemmCase) check(t *testing.T, kern *microKernel, threads int) {
	t.Helper()
	tc.checkKernels(t, []*microKernel{kern}, threads)
}

// checkKernels runs every kernel in kerns on tc against one reference result.
func (tc gemmCase) checkKernels(t *testing.T, kerns []*microKernel, threads int) {
	t.Helper()
	a, lda, b, ldb, c0, ldc := tc.operands(1)
	want := append([]float32(nil), c0...)
	refGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	for _, kern := range kerns {
		c := append([]float32(nil), c0...)
		tc.compare(t, kern, threads, a, lda, b, ldb, c, ldc, want)
	}
}

func (tc gemmCase) compare(t *testing.T, kern *microKernel, threads int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, want []float32) {
	t.Helper()
	sgemmWith(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc, threads)
	tol := 1e-6 * float64(tc.k+4) * 4
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			g, w := c[i*ldc+j], want[i*ldc+j]
			if j >= tc.n { // padding must be untouched
				if math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("%s %v: padding C[%d][%d] changed", kern.name, tc, i, j)
				}
				continue
			}
			if d := math.Abs(float64(g - w)); !(d <= tol*(1+math.Abs(float64(w)))) {
				t.Fatalf("%s %v threads=%d: C[%d][%d] = %g, want %g", kern.name, tc, threads, i, j, g, w)
			}
		}
	}
}

var awkward = []int{1, 2, 7, 8, 15, 16, 17, 24, 31, 33, 63, 64, 65, 127, 255, 257}

func TestSgemmAgainstReference(t *testing.T) {
	for _, kern := range kernelList {
		t.Run(kern.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 3))
			for _, m := range awkward {
				for _, n := range awkward {
					// A few k per (m, n) keep the test fast while covering all.
					for range 2 {
						k := awkward[r.IntN(len(awkward))]
						if m*n*k > 1<<21 {
							k = 17
						}
						tc := gemmCase{transA: r.IntN(2) == 1, transB: r.IntN(2) == 1, m: m, n: n, k: k,
							alpha: 1, beta: 0, pad: r.IntN(3) * 5}
						switch r.IntN(4) {
						case 1:
							tc.beta = 1
						case 2:
							tc.alpha, tc.beta = -0.5, 2
						case 3:
							tc.alpha, tc.beta = 1.5, -1
						}
						tc.check(t, kern, 1+r.IntN(3))
					}
				}
			}
		})
	}
}

func TestSgemmShapes(t *testing.T) {
	// The MLP shapes (batch 128, 784->256->256->10) in all transpose
	// combinations, K larger than one block, and k = 0.
	shapes := [][3]int{
		{128, 256, 784}, {128, 784, 256}, {256, 784, 128},
		{128, 256, 256}, {256, 256, 128},
		{128, 10, 256}, {128, 256, 10}, {10, 256, 128},
		{65, 70, 1000}, {33, 1025, 9}, {5, 3, 0},
	}
	abs := [][2]float32{{1, 0}, {1, 1}, {0.25, -3}}
	for si, s := range shapes {
		for ti, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			ab := abs[(si+ti)%len(abs)]
			tc := gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2], alpha: ab[0], beta: ab[1], pad: 3}
			tc.checkKernels(t, kernelList, 2)
		}
	}
}

func TestSgemmAlphaZero(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	Sgemm(false, false, 2, 2, 3, 0, make([]float32, 6), 3, make([]float32, 6), 2, 2, c, 2)
	for i, v := range []float32{2, 4, 6, 8} {
		if c[i] != v {
			t.Fatalf("alpha=0: c = %v", c)
		}
	}
}

// TestSgemmDeterministic checks bitwise-identical results over thread
// counts and repeated calls, and that the AVX2 and AVX-512 kernels agree.
func TestSgemmDeterministic(t *testing.T) {
	shapes := []gemmCase{
		{m: 257, n: 255, k: 1000, alpha: 1, beta: 0},
		{transB: true, m: 128, n: 256, k: 784, alpha: 1, beta: 0},
		{transA: true, m: 256, n: 784, k: 128, alpha: 1, beta: 1},
		{m: 128, n: 784, k: 256, alpha: 0.5, beta: 0, pad: 1},
		{transA: true, transB: true, m: 97, n: 1031, k: 389, alpha: -1, beta: 0.5, pad: 2},
		{m: 1500, n: 33, k: 70, alpha: 1, beta: 0},
		{transB: true, m: 128, n: 10, k: 256, alpha: 1, beta: 0},
		{transA: true, m: 777, n: 5, k: 300, alpha: 1, beta: 1},
	}
	for _, kern := range kernelList {
		for _, tc := range shapes {
			var first []float32
			counts := []int{1, 2, 3, 8, 2, 1}
			if kern == portableKernel {
				counts = []int{1, 3} // slow; the split logic is shared anyway
			}
			for _, th := range counts {
				a, lda, b, ldb, c, ldc := tc.operands(5)
				sgemmWith(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc, th)
				if first == nil {
					first = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("%s %v: threads=%d differs from threads=1 at %d", kern.name, tc, th, i)
					}
				}
			}
		}
	}
	if len(kernelList) < 3 {
		return // fewer than two SIMD kernels to compare
	}
	for _, tc := range shapes {
		var res [2][]float32
		for i := range res {
			a, lda, b, ldb, c, ldc := tc.operands(9)
			sgemmWith(kernelList[i], tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc, 2)
			res[i] = c
		}
		for i := range res[0] {
			if math.Float32bits(res[0][i]) != math.Float32bits(res[1][i]) {
				t.Fatalf("%v: %s and %s differ at %d", tc, kernelList[0].name, kernelList[1].name, i)
			}
		}
	}
}

func TestSgemmNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, tc := range []gemmCase{{m: 128, n: 10, k: 256, alpha: 1}, {transB: true, m: 128, n: 256, k: 784, alpha: 1}} {
		a, lda, b, ldb, c, ldc := tc.operands(1)
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, c, ldc)
		allocs := testing.AllocsPerRun(20, func() {
			Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, c, ldc)
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per call", tc, allocs)
		}
	}
}

func TestParallel(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 100} {
		for _, th := range []int{1, 2, 5} {
			SetThreads(th)
			seen := make([]int32, n)
			Parallel(n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, s := range seen {
				if s != 1 {
					t.Fatalf("n=%d threads=%d: index %d ran %d times", n, th, i, s)
				}
			}
		}
	}
	SetThreads(defaultThreads)
}

var defaultThreads = Threads()

// TestNested runs products inside Parallel inside Parallel: a pool that
// waited for busy workers would deadlock here.
func TestNested(t *testing.T) {
	SetThreads(3)
	defer SetThreads(defaultThreads)
	tc := gemmCase{m: 200, n: 300, k: 100, alpha: 1}
	a, lda, b, ldb, _, ldc := tc.operands(1)
	want := make([]float32, tc.m*ldc)
	sgemmWith(active, false, false, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, want, ldc, 1)
	outs := make([][]float32, 8)
	Parallel(4, func(lo, hi int) {
		Parallel(2, func(l2, h2 int) {
			for i := lo; i < hi; i++ {
				for j := l2; j < h2; j++ {
					c := make([]float32, tc.m*ldc)
					Sgemm(false, false, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, c, ldc)
					outs[2*i+j] = c
				}
			}
		})
	})
	for _, c := range outs {
		for i := range c {
			if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
				t.Fatal("nested result differs")
			}
		}
	}
}

func TestPeakInfo(t *testing.T) {
	t.Log(PeakInfo())
	if PeakInfo() == "" {
		t.Fatal("empty")
	}
}

func TestPlanSplit(t *testing.T) {
	for _, tc := range []gemmCase{
		{transB: true, m: 128, n: 256, k: 784}, {m: 128, n: 784, k: 256}, {transA: true, m: 256, n: 784, k: 128},
		{m: 1024, n: 1024, k: 1024}, {m: 64, n: 65536, k: 576},
	} {
		for _, th := range []int{2, 3} {
			g := gemmJob{kern: active, m: tc.m, n: tc.n, k: tc.k}
			p := g.planSplit(th)
			t.Logf("%dx%dx%d threads=%d: splitM=%v parts=%d of %d tiles", tc.m, tc.n, tc.k, th, g.splitM, p, g.tiles)
			if p < 1 || p > g.tiles {
				t.Fatalf("bad plan")
			}
		}
	}
}

// TestSgemmSplitInvariant forces every split of small awkward products (the
// thread threshold would keep them on one thread) and checks the bits never
// change: edge tiles and band boundaries must not matter.
func TestSgemmSplitInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, kern := range kernelList[:len(kernelList)-1] {
		for range 60 {
			tc := gemmCase{transA: r.IntN(2) == 1, transB: r.IntN(2) == 1,
				m: awkward[r.IntN(len(awkward))], n: awkward[r.IntN(len(awkward))], k: 1 + r.IntN(600),
				alpha: 0.75, beta: float32(r.IntN(2)), pad: r.IntN(2) * 3}
			a, lda, b, ldb, c0, ldc := tc.operands(6)
			var first []float32
			for _, splitM := range []bool{true, false} {
				for parts := 1; parts <= 5; parts++ {
					c := append([]float32(nil), c0...)
					kn := kern
					if kn.narrow != nil && tc.n <= kn.narrow.nr {
						kn = kn.narrow
					}
					g := gemmJob{kern: kn, transA: tc.transA, transB: tc.transB, m: tc.m, n: tc.n, k: tc.k,
						alpha: tc.alpha, beta: tc.beta, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, splitM: splitM}
					g.tiles = (tc.m + kn.mr - 1) / kn.mr
					if !splitM {
						g.tiles = (tc.n + kn.nr - 1) / kn.nr
					}
					for p := 0; p < parts; p++ {
						g.part(p, parts)
					}
					if first == nil {
						first = c
						continue
					}
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
							t.Fatalf("%s %v: splitM=%v parts=%d differs at %d", kern.name, tc, splitM, parts, i)
						}
					}
				}
			}
		}
	}
}
