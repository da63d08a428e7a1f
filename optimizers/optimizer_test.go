package optimizers

import (
	"math"
	"strings"
	"testing"
)

// mlpShapes is the paper's Fashion-MNIST MLP (784-256-256-10).
var mlpShapes = [][]int{{256, 784}, {256}, {256, 256}, {256}, {10, 256}, {10}}

// makeParams builds parameters of the given shapes with deterministic
// pseudo-random values.
func makeParams(shapes [][]int, seed uint32) []Param {
	ps := make([]Param, len(shapes))
	x := seed*2654435761 + 1
	next := func() float32 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return float32(x)/float32(math.MaxUint32)*2 - 1
	}
	for i, s := range shapes {
		n := 1
		for _, d := range s {
			n *= d
		}
		ps[i] = Param{Name: "p" + string(rune('0'+i)), Shape: s, Data: make([]float32, n), Grad: make([]float32, n)}
		for j := range ps[i].Data {
			ps[i].Data[j] = 0.1 * next()
		}
	}
	return ps
}

// fillGrads writes deterministic gradients that depend on the step and the
// current parameters.
func fillGrads(ps []Param, step int) {
	for i, p := range ps {
		for j := range p.Grad {
			p.Grad[j] = 0.5*p.Data[j] + 0.01*float32(math.Sin(float64(step*7+i*13+j)))
		}
	}
}

func cloneParams(ps []Param) []Param {
	out := make([]Param, len(ps))
	for i, p := range ps {
		out[i] = Param{Name: p.Name, Shape: p.Shape, Data: append([]float32(nil), p.Data...), Grad: make([]float32, len(p.Grad))}
	}
	return out
}

func testConfigs() map[string]Config {
	sgdN := DefaultConfig(NameSGD)
	sgdN.Nesterov, sgdN.WeightDecay = true, 1e-3
	adamWD := DefaultConfig(NameAdam)
	adamWD.WeightDecay = 0.01
	hyb := LockedFull()
	hyb.LR, hyb.WeightDecay = 0.003, 0.01
	hyb.Plasticity.HybridBase, hyb.Plasticity.ModulationTarget, hyb.Plasticity.LRControllerMode = "adamw", "trust_ratio", "layerwise"
	sgdm := LockedFull()
	sgdm.Plasticity.HybridBase, sgdm.Plasticity.ModulationTarget, sgdm.Plasticity.PhaseScope = "sgd_momentum", "momentum", "late"
	orth := LockedFull()
	orth.Plasticity.OrthogonalResidual, orth.Plasticity.OrthogonalSchedule = true, "cosine"
	bounded := LockedFull()
	bounded.Plasticity.BoundedResidual, bounded.Plasticity.LRControllerMode = true, "global"
	scalar := LockedFull()
	scalar.Plasticity.Parameterwise, scalar.DecoupledWeightDecay, scalar.WeightDecay = false, true, 0.01
	return map[string]Config{
		"sgd": DefaultConfig(NameSGD), "sgd-nesterov-wd": sgdN, "adam": DefaultConfig(NameAdam), "adam-wd": adamWD,
		"adamw": DefaultConfig(NameAdamW), "np-grad-only": Baseline(), "np-full": LockedFull(),
		"np-hybrid-adamw-trust": hyb, "np-hybrid-sgdm-momentum": sgdm, "np-orthogonal": orth,
		"np-bounded": bounded, "np-scalar": scalar,
	}
}

// TestStateRoundTrip: an optimizer restored from State at step k continues
// bitwise identically to the one that was never interrupted.
func TestStateRoundTrip(t *testing.T) {
	shapes := [][]int{{8, 1, 3, 3}, {8}, {16, 12}, {16}, {12, 16}, {12}, {10, 12}, {10}}
	const total, cut = 12, 5
	for name, cfg := range testConfigs() {
		t.Run(name, func(t *testing.T) {
			ps := makeParams(shapes, 7)
			a, err := New(cfg, ps)
			if err != nil {
				t.Fatal(err)
			}
			epoch := func(k int) int { return 1 + k/4 }
			var saved State
			var savedParams []Param
			for k := 0; k < total; k++ {
				if k == cut {
					saved = a.State()
					savedParams = cloneParams(ps)
				}
				fillGrads(ps, k)
				a.SetEpoch(epoch(k), 3)
				if err := a.Step(); err != nil {
					t.Fatal(err)
				}
			}
			b, err := New(cfg, savedParams)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.LoadState(saved); err != nil {
				t.Fatal(err)
			}
			// A state that is mutated afterwards must not alias b's buffers.
			for _, nt := range saved.Tensors {
				for j := range nt.Data {
					nt.Data[j] = float32(math.NaN())
				}
			}
			for k := cut; k < total; k++ {
				fillGrads(savedParams, k)
				b.SetEpoch(epoch(k), 3)
				if err := b.Step(); err != nil {
					t.Fatal(err)
				}
			}
			for i := range ps {
				for j := range ps[i].Data {
					if math.Float32bits(ps[i].Data[j]) != math.Float32bits(savedParams[i].Data[j]) {
						t.Fatalf("param %d[%d]: uninterrupted %v, resumed %v", i, j, ps[i].Data[j], savedParams[i].Data[j])
					}
				}
			}
			sa, sb := a.State(), b.State()
			if len(sa.Tensors) != len(sb.Tensors) {
				t.Fatal("state sizes differ")
			}
			for i := range sa.Tensors {
				for j := range sa.Tensors[i].Data {
					if math.Float32bits(sa.Tensors[i].Data[j]) != math.Float32bits(sb.Tensors[i].Data[j]) {
						t.Fatalf("state %s differs", sa.Tensors[i].Name)
					}
				}
			}
		})
	}
}

func TestLoadStateRejectsMismatch(t *testing.T) {
	ps := makeParams([][]int{{4, 3}, {4}}, 1)
	np, _ := New(LockedFull(), ps)
	ad, _ := New(DefaultConfig(NameAdam), cloneParams(ps))
	if err := np.LoadState(ad.State()); err == nil || !strings.Contains(err.Error(), "param.0.trace") {
		t.Errorf("adam state into neuroplastic: %v", err)
	}
	s := np.State()
	s.Tensors[1].Shape = []int{3, 4}
	if err := np.LoadState(s); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("wrong shape: %v", err)
	}
	s = np.State()
	s.Scalars["extra"] = 1
	if err := np.LoadState(s); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("unknown entry: %v", err)
	}
	s = np.State()
	delete(s.Scalars, "epoch")
	if err := np.LoadState(s); err == nil || !strings.Contains(err.Error(), "epoch") {
		t.Errorf("missing scalar: %v", err)
	}
	names := map[string]bool{}
	for _, nt := range np.State().Tensors {
		names[nt.Name] = true
	}
	for _, want := range []string{"param.0.trace", "param.0.m", "param.0.v", "param.0.base_m", "param.1.base_v"} {
		if !names[want] {
			t.Errorf("state lacks %s", want)
		}
	}
}

// TestDiagnostics checks the documented keys against values computed
// directly for a grad-only step with a known alpha.
func TestDiagnostics(t *testing.T) {
	ps := makeParams([][]int{{4}, {4}, {2}}, 3)
	opt, err := New(Baseline(), ps)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		for j := range p.Grad {
			p.Grad[j] = 1 // |g| = mean(|g|): every alpha is exactly 1
		}
	}
	opt.SetEpoch(1, 1)
	before := 0.0
	for _, p := range ps {
		for _, v := range p.Data {
			before += float64(v) * float64(v)
		}
	}
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	d := opt.Diagnostics()
	for _, k := range DiagnosticKeys {
		if _, ok := d[k]; !ok {
			t.Errorf("missing key %s", k)
		}
	}
	near := func(k string, want float64) {
		t.Helper()
		if math.Abs(d[k]-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", k, d[k], want)
		}
	}
	near("alpha_mean", 1)
	near("alpha_std", 0)
	near("alpha_min", 1)
	near("alpha_max", 1)
	near("alpha_median", 0.5+(32+0.5)/64) // bin 32 of [0.5, 1.5]
	near("saturation_low_fraction", 0)
	near("grad_norm", math.Sqrt(10))
	near("raw_update_norm", math.Sqrt(10))
	near("param_norm", math.Sqrt(before))
	near("delta_norm", 0)
	near("steps", 1)
	near("controller_multiplier_mean", 1)
	opt.ResetDiagnostics()
	if d := opt.Diagnostics(); d["steps"] != 0 || d["alpha_mean"] != 0 {
		t.Errorf("after reset: %v", d)
	}
}

func TestStepDoesNotAllocate(t *testing.T) {
	for name, cfg := range testConfigs() {
		ps := makeParams([][]int{{16, 12}, {16}, {10, 16}, {10}}, 5)
		fillGrads(ps, 1)
		opt, err := New(cfg, ps)
		if err != nil {
			t.Fatal(err)
		}
		opt.SetEpoch(2, 3)
		if n := testing.AllocsPerRun(5, func() { _ = opt.Step() }); n != 0 {
			t.Errorf("%s: %v allocations per step", name, n)
		}
	}
}

func benchOptimizer(b *testing.B, cfg Config) {
	ps := makeParams(mlpShapes, 9)
	fillGrads(ps, 1)
	n := 0
	for _, p := range ps {
		n += len(p.Data)
	}
	opt, err := New(cfg, ps)
	if err != nil {
		b.Fatal(err)
	}
	opt.SetEpoch(2, 3)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := opt.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
}

func BenchmarkSGD(b *testing.B)                  { benchOptimizer(b, DefaultConfig(NameSGD)) }
func BenchmarkAdam(b *testing.B)                 { benchOptimizer(b, DefaultConfig(NameAdam)) }
func BenchmarkAdamW(b *testing.B)                { benchOptimizer(b, DefaultConfig(NameAdamW)) }
func BenchmarkNeuroPlasticGradOnly(b *testing.B) { benchOptimizer(b, Baseline()) }
func BenchmarkNeuroPlasticFull(b *testing.B)     { benchOptimizer(b, LockedFull()) }
func BenchmarkNeuroPlasticHybridAdamW(b *testing.B) {
	c := LockedFull()
	c.Plasticity.HybridBase, c.WeightDecay = "adamw", 0.01
	benchOptimizer(b, c)
}
