package optimizers

import (
	"math"
	"testing"
)

// kernelSizes are awkward lengths around the vector width and the block.
var kernelSizes = []int{0, 1, 7, 15, 16, 17, 31, 33, 255, 1023, 1024, 1025, 1040, 2047, 2 * 16 * npBlock, 2*16*npBlock + 13, 5000}

func randVec(n int, seed uint32, scale float32) []float32 {
	x := seed*2654435761 + 1
	out := make([]float32, n)
	for j := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[j] = scale * (float32(x)/float32(math.MaxUint32)*2 - 1)
		if j%97 == 5 {
			out[j] = 0 // exact zeros and sign cases
		}
		if j%101 == 7 {
			out[j] = -out[j] * 40 // outliers that saturate alpha
		}
	}
	return out
}

func sameBits(t *testing.T, what string, a, b []float32) {
	t.Helper()
	for j := range a {
		if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
			t.Fatalf("%s[%d]: fast %v, portable %v", what, j, a[j], b[j])
		}
	}
}

func sameAcc(t *testing.T, what string, a, b *npAcc) {
	t.Helper()
	for k := range a.s64 {
		for l := range a.s64[k] {
			if math.Float64bits(a.s64[k][l]) != math.Float64bits(b.s64[k][l]) {
				t.Fatalf("%s: sum %d lane %d: fast %v, portable %v", what, k, l, a.s64[k][l], b.s64[k][l])
			}
		}
	}
	sameBits(t, what+" min", a.mn[:], b.mn[:])
	sameBits(t, what+" max", a.mx[:], b.mx[:])
	if a.cLo != b.cLo || a.cHi != b.cHi {
		t.Fatalf("%s: counts differ", what)
	}
}

func clone32(x []float32) []float32 { return append([]float32(nil), x...) }

// withISA runs f with the kernel bodies of the given set.
func withISA(isa int, f func()) {
	saved := kernelISA
	kernelISA = isa
	defer func() { kernelISA = saved }()
	f()
}

// withPortable runs f with the portable kernel bodies.
func withPortable(f func()) { withISA(isaGo, f) }

// fastISAs are the fast kernel sets this machine runs.
func fastISAs() []int {
	var out []int
	for isa := isaAVX2; isa <= bestISA; isa++ {
		out = append(out, isa)
	}
	return out
}

// TestKernelsMatchPortable: the fast kernel bodies agree bit for bit with
// the portable ones, outputs and lane sums, at every size.
func TestKernelsMatchPortable(t *testing.T) {
	if bestISA == isaGo {
		t.Skip("no fast kernels on this machine or build")
	}
	c1 := np1Coef{0.95, 0.05, 0.9, 0.1, 0.99, 0.01, 1e-8}
	c2 := np2Coef{dg: 1 / 0.3, dt: 1 / 0.2, dm: 1 / 0.5, wa: 0.4, wg: 0.4, wm: 0.2, lo: 0.2, hi: 2,
		gs: 2, hScale: 64 / 1.8, tLo: below32(0.2 + 0.09 + 1e-6), tHi: above32(2 - 0.09 - 1e-6)}
	c3 := np3Coef{0.7, 1.1, -0.1}
	for _, n := range kernelSizes {
		g := randVec(n, 1, 0.5)
		tr0, m0, v0 := randVec(n, 2, 0.3), randVec(n, 3, 0.2), randVec(n, 4, 0.1)
		for j := range v0 {
			v0[j] = abs32(v0[j])
			tr0[j] = abs32(tr0[j])
		}
		for variant := range 4 {
			full := variant&1 == 0
			c2.alphaOut = 0
			if variant&2 != 0 {
				c2.alphaOut = 0xffff
			}
			type out struct {
				tr, m, v, mem, u, p []float32
				bins                []uint8
				a1, a2, a3          npAcc
			}
			run := func() out {
				o := out{tr: clone32(tr0), m: clone32(m0), v: clone32(v0), u: make([]float32, n),
					p: randVec(n, 5, 0.1), bins: make([]uint8, n)}
				var mem []float32
				if full {
					o.mem = make([]float32, n)
					mem = o.mem
				}
				o.a1.reset()
				o.a2.reset()
				o.a3.reset()
				np1(g, o.tr, o.m, o.v, mem, &c1, &o.a1)
				np2(g, o.tr, mem, o.u, o.bins, &c2, &o.a2)
				np3(o.p, o.u, &c3, &o.a3)
				return o
			}
			for _, isa := range fastISAs() {
				var fast out
				withISA(isa, func() { fast = run() })
				var slow out
				withPortable(func() { slow = run() })
				for _, c := range []struct {
					name string
					a, b []float32
				}{{"trace", fast.tr, slow.tr}, {"m", fast.m, slow.m}, {"v", fast.v, slow.v},
					{"mem", fast.mem, slow.mem}, {"u", fast.u, slow.u}, {"p", fast.p, slow.p}} {
					sameBits(t, c.name, c.a, c.b)
				}
				for j := range fast.bins {
					if fast.bins[j] != slow.bins[j] {
						t.Fatalf("n=%d full=%v: bin[%d] fast %d, portable %d", n, full, j, fast.bins[j], slow.bins[j])
					}
				}
				if n >= 1024 {
					lo, hi := fast.a2.counts()
					var out, in int
					for _, b := range fast.bins {
						if b == binOut {
							out++
						} else {
							in++
						}
					}
					if lo == 0 || hi == 0 || in == 0 || (full && out == 0) {
						t.Fatalf("n=%d full=%v: test data too tame: %d near min, %d near max, %d in range, %d outside", n, full, lo, hi, in, out)
					}
				}
				sameAcc(t, "pass 1", &fast.a1, &slow.a1)
				sameAcc(t, "pass 2", &fast.a2, &slow.a2)
				sameAcc(t, "pass 3", &fast.a3, &slow.a3)
			}
		}
	}
}

// TestKernelSums checks the lane sums against float64 sums.
func TestKernelSums(t *testing.T) {
	for _, n := range kernelSizes {
		p := randVec(n, 9, 1)
		u := make([]float32, n)
		var acc npAcc
		acc.reset()
		var want float64
		for _, x := range p {
			want += float64(x) * float64(x)
		}
		np3(p, u, &np3Coef{1, 1, 0}, &acc)
		if got := acc.sum(0); math.Abs(got-want) > 1e-6*want {
			t.Errorf("n=%d: sum of squares %v, want %v", n, got, want)
		}
	}
}

// TestStepMatchesPortable: whole optimizer runs with the fast and the
// portable kernel bodies give bitwise-identical parameters, state and
// diagnostics, for every test configuration.
func TestStepMatchesPortable(t *testing.T) {
	if bestISA == isaGo {
		t.Skip("no fast kernels on this machine or build")
	}
	shapes := [][]int{{24, 49}, {24}, {16, 24}, {16}, {10, 16}, {10}}
	for name, cfg := range testConfigs() {
		run := func() ([]Param, State, map[string]float64) {
			ps := makeParams(shapes, 11)
			opt, err := New(cfg, ps)
			if err != nil {
				t.Fatal(err)
			}
			for k := 0; k < 9; k++ {
				fillGrads(ps, k)
				opt.SetEpoch(1+k/3, 3)
				if err := opt.Step(); err != nil {
					t.Fatal(err)
				}
			}
			return ps, opt.State(), opt.Diagnostics()
		}
		for _, isa := range fastISAs() {
			var pf []Param
			var sf State
			var df map[string]float64
			withISA(isa, func() { pf, sf, df = run() })
			var ps []Param
			var ss State
			var ds map[string]float64
			withPortable(func() { ps, ss, ds = run() })
			for i := range pf {
				sameBits(t, name+" "+pf[i].Name, pf[i].Data, ps[i].Data)
			}
			for i := range sf.Tensors {
				sameBits(t, name+" "+sf.Tensors[i].Name, sf.Tensors[i].Data, ss.Tensors[i].Data)
			}
			for k, v := range df {
				if math.Float64bits(v) != math.Float64bits(ds[k]) && !(math.IsNaN(v) && math.IsNaN(ds[k])) {
					t.Errorf("%s: diagnostic %s: fast %v, portable %v", name, k, v, ds[k])
				}
			}
		}
	}
}

func TestAdamKernelMatchesPortable(t *testing.T) {
	if bestISA < isaAVX512 {
		t.Skip("no AVX-512 kernels on this machine or build")
	}
	for _, n := range kernelSizes {
		for _, c := range []adamCoef{
			{decay: 1, w1: 0.1, b2: 0.999, c2: 0.001, bc2s: 0.03, eps: 1e-8, negStep: -0.01},
			{decay: 0.999, w1: 0.1, b2: 0.99, c2: 0.01, bc2s: 0.5, eps: 1e-8, negStep: -0.002},
			{decay: 1, wd: 0.01, coupled: 0xffff, w1: 0.2, b2: 0.999, c2: 0.001, bc2s: 0.1, eps: 1e-8, negStep: -0.01},
		} {
			g, m0, v0 := randVec(n, 1, 0.5), randVec(n, 2, 0.1), randVec(n, 3, 0.01)
			for j := range v0 {
				v0[j] = abs32(v0[j])
			}
			run := func() (w, m, v []float32) {
				w, m, v = randVec(n, 4, 0.2), clone32(m0), clone32(v0)
				adamStep(w, g, m, v, &c)
				return w, m, v
			}
			wf, mf, vf := run()
			var ws, ms, vs []float32
			withPortable(func() { ws, ms, vs = run() })
			sameBits(t, "p", wf, ws)
			sameBits(t, "m", mf, ms)
			sameBits(t, "v", vf, vs)
		}
	}
}

func TestSGDKernelMatchesPortable(t *testing.T) {
	if bestISA < isaAVX512 {
		t.Skip("no AVX-512 kernels on this machine or build")
	}
	for _, n := range kernelSizes {
		for mask := range 16 {
			c := sgdCoef{wd: 0.01, mom: 0.9, negLR: -0.05}
			flag := func(bit int) uint32 {
				if mask&bit != 0 {
					return 0xffff
				}
				return 0
			}
			c.coupled, c.notFirst, c.nesterov = flag(1), flag(2), flag(4)
			g, b0 := randVec(n, 1, 0.5), randVec(n, 2, 0.1)
			run := func() (w, b []float32) {
				w = randVec(n, 3, 0.2)
				if mask&8 != 0 {
					b = clone32(b0)
				}
				sgdStep(w, g, b, &c)
				return w, b
			}
			wf, bf := run()
			var ws, bs []float32
			withPortable(func() { ws, bs = run() })
			sameBits(t, "p", wf, ws)
			sameBits(t, "buf", bf, bs)
		}
	}
}

func TestHybridKernelMatchesPortable(t *testing.T) {
	if bestISA < isaAVX512 {
		t.Skip("no AVX-512 kernels on this machine or build")
	}
	c := hybCoef{b1: 0.9, c1: 0.1, b2: 0.999, c2: 0.001, d1: 0.19, d2: 0.002, beps: 1e-8}
	for _, n := range kernelSizes {
		g, w, bm0, bv0 := randVec(n, 1, 0.5), randVec(n, 2, 0.2), randVec(n, 3, 0.1), randVec(n, 4, 0.01)
		for j := range bv0 {
			bv0[j] = abs32(bv0[j])
		}
		run := func() (bm, bv, u []float32, acc npAcc) {
			bm, bv, u = clone32(bm0), clone32(bv0), make([]float32, n)
			acc.reset()
			hybAdamBase(g, w, bm, bv, u, &c, &acc)
			return
		}
		bmf, bvf, uf, af := run()
		var bms, bvs, us []float32
		var as npAcc
		withPortable(func() { bms, bvs, us, as = run() })
		sameBits(t, "bm", bmf, bms)
		sameBits(t, "bv", bvf, bvs)
		sameBits(t, "u", uf, us)
		sameAcc(t, "hybrid base", &af, &as)
	}
}

func TestHybridDeltaFinishMatchPortable(t *testing.T) {
	if bestISA < isaAVX512 {
		t.Skip("no AVX-512 kernels on this machine or build")
	}
	for _, n := range kernelSizes {
		for _, dc := range []hybDeltaCoef{{0.15, 1, 1}, {0.15, -0.3, 1}, {0.1, 1, 0.19}} {
			for _, fc := range []hybFinCoef{{}, {cs: 0.7}, {cs: 1, wdf: 0.01, decay: -1e-3, wdMask: 0xffff}} {
				al0, ref, u0 := randVec(n, 1, 2), randVec(n, 2, 0.3), randVec(n, 3, 0.3)
				run := func() (al, u, w []float32, a1, a2 npAcc) {
					al, u, w = clone32(al0), clone32(u0), randVec(n, 4, 0.2)
					a1.reset()
					a2.reset()
					hybDelta(al, ref, &dc, &a1)
					hybFinish(u, al, w, &fc, &a2)
					return
				}
				alf, uf, wf, a1f, a2f := run()
				var als, us, ws []float32
				var a1s, a2s npAcc
				withPortable(func() { als, us, ws, a1s, a2s = run() })
				sameBits(t, "delta", alf, als)
				sameBits(t, "u", uf, us)
				sameBits(t, "p", wf, ws)
				sameAcc(t, "delta", &a1f, &a1s)
				sameAcc(t, "finish", &a2f, &a2s)
			}
		}
	}
}

// BenchmarkKernelSets runs the two study configurations on every kernel
// set this machine has, portable included.
func BenchmarkKernelSets(b *testing.B) {
	names := []string{"go", "avx2", "avx512"}
	for isa := isaGo; isa <= bestISA; isa++ {
		for _, c := range []struct {
			name string
			cfg  Config
		}{{"np-grad-only", Baseline()}, {"np-full", LockedFull()}} {
			b.Run(names[isa]+"/"+c.name, func(b *testing.B) {
				withISA(isa, func() { benchOptimizer(b, c.cfg) })
			})
		}
	}
}
