package optimizers

import (
	"math"
)

// Controller groups of a tensor (the reference's names).
const (
	groupStem = iota
	groupClassifier
	groupEarly
	groupLate
	numGroups
)

var groupNames = [numGroups]string{"stem", "classifier", "early_blocks", "late_blocks"}

// npTensor is one parameter with its NeuroPlastic state and scratch.
type npTensor struct {
	p                      Param
	n                      int
	trace, m, v            []float32
	baseM, baseV           []float32
	step                   float64   // kept as torch's float32 step count
	ag, alpha, upd         []float32 // ag, alpha: reference pass 2 only
	bins                   []uint8   // histogram bins: fast pass 2 only
	isConv, isClassifier   bool
	isEarly, isLate        bool
	group                  int
	inLayerScope           bool
	rmsScale               float64
	signal                 float64 // controller signal of this step
	gradSq                 float64 // sum g^2 of this step
	boundSq, rDotG, rSq    float64 // classic-variant sums of this step
	uSq, deltaSq           float64 // fast pass 2: sums of update^2 and delta^2
	multiplier, sigApplied float64
}

// neuroPlastic is the NeuroPlastic optimizer (spec: neuroplastic.md).
type neuroPlastic struct {
	epochClock
	cfg     Config
	pc      PlasticityConfig
	full    bool // rule_based (not ablation_grad_only)
	tensors []npTensor
	diag    npDiag
	// fast: the mode is classic, parameterwise, without residuals, lr
	// controller or weight decay (Baseline and LockedFull), and pass 2 and
	// the update run as the fused kernels np2 and np3. Other modes share
	// pass 1 and the final pass and keep the reference loops in between.
	fast bool
	// alphaFast: a hybrid base, parameterwise, without lr controller; pass
	// 2 runs as np2 storing alpha.
	alphaFast bool
	acc       npAcc
}

func newNeuroPlastic(cfg Config, params []Param) *neuroPlastic {
	o := &neuroPlastic{cfg: cfg, pc: cfg.Plasticity, epochClock: epochClock{1, 1}}
	o.full = o.pc.Mode != "ablation_grad_only"
	o.fast = o.pc.HybridBase == "classic" && !o.pc.OrthogonalResidual && !o.pc.BoundedResidual &&
		o.pc.Parameterwise && (!o.full || o.pc.LRControllerMode == "off") && cfg.WeightDecay == 0
	o.alphaFast = o.pc.HybridBase != "classic" && o.pc.Parameterwise && (!o.full || o.pc.LRControllerMode == "off")
	n := len(params)
	classifierStart := max(n-2, 0)
	body := classifierStart
	earlyCut, lateStart := 0, 0
	if body > 0 {
		earlyCut, lateStart = (body+1)/2, body/2
	}
	third1, third2 := (n+2)/3, (2*n+2)/3
	scope := o.pc.LayerScope
	switch scope {
	case "head_only":
		scope = "classifier_only"
	case "late":
		scope = "late_blocks"
	}
	o.tensors = make([]npTensor, n)
	for i, p := range params {
		t := &o.tensors[i]
		t.p, t.n = p, len(p.Data)
		t.trace, t.m, t.v = make([]float32, t.n), make([]float32, t.n), make([]float32, t.n)
		t.baseM, t.baseV = make([]float32, t.n), make([]float32, t.n)
		t.upd = make([]float32, t.n)
		switch {
		case o.fast:
			t.bins = make([]uint8, t.n)
		case o.alphaFast:
			t.bins, t.alpha = make([]uint8, t.n), make([]float32, t.n)
		case o.full:
			t.ag, t.alpha = make([]float32, t.n), make([]float32, t.n)
		default:
			t.ag = make([]float32, t.n)
			t.alpha = t.ag
		}
		t.isConv = len(p.Shape) == 4
		t.isClassifier = i >= classifierStart
		t.isEarly = i < earlyCut
		t.isLate = lateStart <= i && i < classifierStart
		switch {
		case t.isClassifier:
			t.group = groupClassifier
		case t.isEarly:
			t.group = groupEarly
		case t.isLate:
			t.group = groupLate
		default:
			t.group = groupStem
		}
		switch scope {
		case "all":
			t.inLayerScope = true
		case "conv_only":
			t.inLayerScope = t.isConv
		case "classifier_only":
			t.inLayerScope = t.isClassifier
		case "early_blocks":
			t.inLayerScope = t.isEarly
		case "late_blocks":
			t.inLayerScope = t.isLate
		}
		h := cfg.Homeostatic
		switch {
		case i < third1:
			t.rmsScale = h.EarlyTargetRMSScale
		case i < third2:
			t.rmsScale = h.MiddleTargetRMSScale
		default:
			t.rmsScale = h.LateTargetRMSScale
		}
	}
	o.ResetDiagnostics()
	return o
}

func (o *neuroPlastic) Name() string { return o.cfg.Name }

func (o *neuroPlastic) hybrid() bool { return o.pc.HybridBase != "classic" }

// warmupGate fades the full signal in over warmup_epochs.
func (o *neuroPlastic) warmupGate() float64 {
	if !o.full {
		return 0
	}
	w := o.pc.WarmupEpochs
	if w <= 0 {
		return 1
	}
	return math.Min(math.Max(float64(o.epoch-1)/float64(w), 0), 1)
}

func (o *neuroPlastic) progress() float64 { return float64(o.epoch) / float64(max(o.total, 1)) }

func (o *neuroPlastic) phaseGate() float64 {
	p := o.progress()
	switch o.pc.PhaseScope {
	case "full":
		return 1
	case "early":
		return b2f(p <= 0.3)
	case "middle":
		return b2f(0.3 < p && p < 0.7)
	}
	return b2f(p >= 0.7)
}

func (o *neuroPlastic) orthogonalGate() float64 {
	p := o.progress()
	switch o.pc.OrthogonalSchedule {
	case "constant":
		return 1
	case "late":
		s := o.pc.OrthogonalLateStartFraction
		if p <= s {
			return 0
		}
		return math.Min((p-s)/math.Max(1-s, 1e-12), 1)
	}
	p = math.Min(math.Max(p, 0), 1)
	return 0.5 * (1 - math.Cos(math.Pi*p))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func clamp32(x, lo, hi float32) float32 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

func finite32(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// Step runs one NeuroPlastic step over every tensor: the plasticity signals
// of all tensors first (the lr controller needs them all), then the updates.
func (o *neuroPlastic) Step() error {
	gs := float32(o.warmupGate() * o.pc.PlasticityScale)
	for i := range o.tensors {
		o.signals(&o.tensors[i], gs)
	}
	o.resolveController()
	for i := range o.tensors {
		o.update(&o.tensors[i])
	}
	o.diag.steps++
	return nil
}

// signals updates trace, m, v and step and computes the grad-only alpha
// a_g, the final alpha, the controller signal and the sums the classic
// variants need, accumulating the alpha diagnostics.
func (o *neuroPlastic) signals(t *npTensor, gs float32) {
	pc := &o.pc
	n := t.n
	g := t.p.Grad[:n]
	tr, m, v := t.trace[:n], t.m[:n], t.v[:n]
	trD, trC := float32(o.cfg.ActivityTrace.Decay), float32(1-o.cfg.ActivityTrace.Decay)
	mD, mC := float32(o.cfg.Memory.MomentumDecay), float32(1-o.cfg.Memory.MomentumDecay)
	vD, vC := float32(o.cfg.Memory.VarianceDecay), float32(1-o.cfg.Memory.VarianceDecay)
	eps := float32(pc.Eps)
	full := o.full

	// Pass 1: statistics, and the sums behind the tensor means. The memory
	// signal |m|/(sqrt(v)+eps) is kept in the update buffer, free until the
	// update phase.
	memBuf := t.upd[:n]
	c1 := np1Coef{trD, trC, mD, mC, vD, vC, eps}
	acc := &o.acc
	acc.reset()
	if full {
		np1(g, tr, m, v, memBuf, &c1, acc)
	} else {
		np1(g, tr, m, v, nil, &c1, acc)
	}
	sumAbs, sumSq, sumTr, sumMem := acc.sum(0), acc.sum(1), acc.sum(2), acc.sum(3)
	t.step = float64(float32(t.step + 1))
	t.gradSq = sumSq
	fn := float64(max(n, 1))
	// x/(mean+eps) as x times the reciprocal: within an ulp of the
	// division, far inside the conformance tolerance, and 3 divisions fewer.
	dg := 1 / (float32(sumAbs/fn) + eps)
	dt := 1 / (float32(sumTr/fn) + eps)
	dm := 1 / (float32(sumMem/fn) + eps)
	wa, wg, wm := float32(pc.ActivityWeight), float32(pc.GradientWeight), float32(pc.MemoryWeight)
	lo, hi := float32(pc.MinAlpha), float32(pc.MaxAlpha)

	if o.fast || o.alphaFast {
		o.signalsFast(t, gs, dg, dt, dm, memBuf)
		return
	}

	// parameterwise=false: one alpha per tensor from the means of the
	// unclamped signals.
	scalar := !pc.Parameterwise
	var agS, alphaS float32
	if scalar {
		var sg, sf float64
		for j := range g {
			gsig := abs32(g[j]) * dg
			sg += float64(gsig)
			if full {
				sf += float64(wa*(tr[j]*dt) + wg*gsig + wm*(memBuf[j]*dm))
			}
		}
		agS = clamp32(float32(sg/fn), lo, hi)
		alphaS = agS
		if full {
			af := clamp32(float32(sf/fn), lo, hi)
			alphaS = agS + gs*(af-agS)
		}
	}

	// Pass 2: alpha per element, controller signal, variant sums, diagnostics.
	ctrl := full && pc.LRControllerMode != "off"
	classic := pc.HybridBase == "classic"
	bounded := classic && !pc.OrthogonalResidual && pc.BoundedResidual
	orth := classic && pc.OrthogonalResidual
	d := &o.diag
	var sig, bSq, rg, rr, aSum, aSq float64
	var nearLo, nearHi int
	aMin, aMax := float32(math.Inf(1)), float32(math.Inf(-1))
	thLo, thHi := d.nearLo+1e-6, d.nearHi-1e-6
	ag, al := t.ag[:n], t.alpha[:n]
	hScale := float32(float64(len(d.hist)) / (pc.MaxAlpha - pc.MinAlpha))
	for j := range g {
		gj := g[j]
		var a, alpha float32
		if scalar {
			a, alpha = agS, alphaS
		} else {
			gsig := abs32(gj) * dg
			a = clamp32(gsig, lo, hi)
			alpha = a
			if full {
				af := clamp32(wa*(tr[j]*dt)+wg*gsig+wm*(memBuf[j]*dm), lo, hi)
				alpha = a + gs*(af-a)
			}
		}
		ag[j] = a
		if full {
			al[j] = alpha
		}
		if ctrl {
			s := math.Log(float64(max(alpha, eps) / max(a, eps)))
			if !math.IsNaN(s) && !math.IsInf(s, 0) {
				sig += s
			}
		}
		if bounded {
			r := (alpha - 1) * gj
			bSq += float64(r) * float64(r)
		} else if orth {
			r := (alpha - a) * gj
			if !finite32(r) {
				r = 0
			}
			rg += float64(r) * float64(gj)
			rr += float64(r) * float64(r)
		}
		// diagnostics
		aSum += float64(alpha)
		aSq += float64(alpha) * float64(alpha)
		aMin = min(aMin, alpha)
		aMax = max(aMax, alpha)
		if float64(alpha) <= thLo {
			nearLo++
		}
		if float64(alpha) >= thHi {
			nearHi++
		}
		if alpha >= lo && alpha <= hi {
			b := int((alpha - lo) * hScale)
			if b >= len(d.hist) {
				b = len(d.hist) - 1
			}
			d.hist[b]++
		}
	}
	t.signal = 0
	if ctrl && n > 0 {
		t.signal = sig / fn
	}
	t.boundSq, t.rDotG, t.rSq = bSq, rg, rr
	if n > 0 {
		d.alphaSum += aSum
		d.alphaSq += aSq
		d.alphaCount += n
		d.alphaMin = math.Min(d.alphaMin, float64(aMin))
		d.alphaMax = math.Max(d.alphaMax, float64(aMax))
		d.nearLoCount += nearLo
		d.nearHiCount += nearHi
		d.gradSq += sumSq
	}
}

// resolveController sets each tensor's lr multiplier from the signals.
func (o *neuroPlastic) resolveController() {
	pc := &o.pc
	mode := pc.LRControllerMode
	toMult := func(s float64) float64 {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return 1
		}
		return math.Min(math.Max(1+pc.ControllerAlpha*s, pc.ControllerLow), pc.ControllerHigh)
	}
	switch mode {
	case "off":
		for i := range o.tensors {
			o.tensors[i].sigApplied, o.tensors[i].multiplier = 0, 1
		}
	case "global":
		var s float64
		for i := range o.tensors {
			s += o.tensors[i].signal
		}
		s /= float64(max(len(o.tensors), 1))
		m := toMult(s)
		for i := range o.tensors {
			o.tensors[i].sigApplied, o.tensors[i].multiplier = s, m
		}
	default: // layerwise, classifier_only
		var sum [numGroups]float64
		var cnt [numGroups]int
		for i := range o.tensors {
			t := &o.tensors[i]
			sum[t.group] += t.signal
			cnt[t.group]++
		}
		for i := range o.tensors {
			t := &o.tensors[i]
			if mode == "classifier_only" && t.group != groupClassifier {
				t.sigApplied, t.multiplier = 0, 1
				continue
			}
			s := sum[t.group] / float64(max(cnt[t.group], 1))
			t.sigApplied, t.multiplier = s, toMult(s)
		}
	}
}

// update computes the tensor's update (base, plasticity delta, weight
// decay), stabilises it and applies it.
func (o *neuroPlastic) update(t *npTensor) {
	pc := &o.pc
	if o.fast {
		d := &o.diag
		pSq, effSq := o.apply(t, t.uSq)
		d.paramSq += pSq
		d.rawUpdateSq += t.uSq
		d.effUpdateSq += effSq
		d.deltaSq += t.deltaSq
		d.ctrlRecord(t, pc)
		return
	}
	n := t.n
	g, w, u := t.p.Grad[:n], t.p.Data[:n], t.upd[:n]
	al := t.alpha[:n]
	wd := o.cfg.WeightDecay
	wdf := float32(wd)
	lrEff := o.cfg.LR * t.multiplier
	d := &o.diag

	// After the base and delta are in u: weight decay mode for the final
	// pass over u. Coupled decay adds wd*p to u; decoupled decay (or the
	// adamw base) shrinks p now.
	coupled := wd > 0 && pc.HybridBase != "sgd_momentum" && !(o.cfg.DecoupledWeightDecay || pc.HybridBase == "adamw")
	decoupled := wd > 0 && pc.HybridBase != "sgd_momentum" && !coupled
	decay := float32(-lrEff * wd)
	var uSq, deltaSq, wdSq float64
	// finish applies weight decay to element j with update x and records sums.
	finish := func(j int, x, delta float32) {
		pj := w[j]
		if wd > 0 && pc.HybridBase != "sgd_momentum" {
			term := wdf * pj
			wdSq += float64(term) * float64(term)
			if coupled {
				x = x + term
			} else if decoupled {
				pj = pj + decay*pj
				w[j] = pj
			}
		}
		u[j] = x
		uSq += float64(x) * float64(x)
		deltaSq += float64(delta) * float64(delta)
	}

	if o.hybrid() {
		bm, bv := t.baseM[:n], t.baseV[:n]
		adamBase := pc.HybridBase == "adamw"
		b1, b2 := pc.BaseMomentum, pc.BaseBeta2
		stepc := math.Max(t.step, 1)
		d1 := float32(math.Max(1-math.Pow(b1, stepc), 1e-12))
		d2 := float32(math.Max(1-math.Pow(b2, stepc), 1e-12))
		b1f, c1f, b2f32, c2f := float32(b1), float32(1-b1), float32(b2), float32(1-b2)
		beps := float32(pc.BaseEps)
		trust := pc.ModulationTarget == "trust_ratio"
		// H1: base update into u.
		var baseSq, pnSq float64
		acc := &o.acc
		acc.reset()
		if adamBase {
			hc := hybCoef{b1: b1f, c1: c1f, b2: b2f32, c2: c2f, d1: d1, d2: d2, beps: beps}
			hybAdamBase(g, w, bm, bv, u, &hc, acc)
			baseSq, pnSq = acc.sum(0), acc.sum(1)
		} else {
			for j := range g {
				gw := g[j]
				if wd > 0 {
					gw = gw + wdf*w[j]
				}
				base := bm[j]*b1f + gw
				bm[j] = base
				u[j] = base
				baseSq += float64(base) * float64(base)
				if trust {
					pnSq += float64(w[j]) * float64(w[j])
				}
			}
		}
		k := pc.ModulationStrength * o.phaseGate() * b2f(t.inLayerScope)
		kf := float32(k)
		var tg float32
		if trust {
			tg = clamp32(float32(math.Sqrt(pnSq))/(float32(math.Sqrt(baseSq))+1e-12), 0.5, 1.5) - 1
		}
		// The plasticity delta, k*(alpha-1)*ref, over alpha (no longer
		// needed), then capped and added to the base.
		fc := hybFinCoef{}
		if k != 0 {
			dc := hybDeltaCoef{kf: kf, t: 1, dv: 1}
			ref := u
			switch {
			case trust:
				dc.t = tg
			case pc.ModulationTarget == "momentum" && adamBase:
				ref, dc.dv = bm, d1
			}
			acc.reset()
			hybDelta(al, ref, &dc, acc)
			dn := float32(math.Sqrt(acc.sum(0)))
			limit := float32(pc.ModulationMaxRatio) * float32(math.Sqrt(baseSq))
			fc.cs = 1
			if dn > limit {
				fc.cs = limit / (dn + 1e-12)
			}
		}
		// Weight decay of the hybrid bases: sgd_momentum has it in its base,
		// adamw decouples it.
		if adamBase && wd > 0 {
			fc.wdf, fc.decay, fc.wdMask = wdf, decay, 0xffff
		}
		acc.reset()
		hybFinish(u, al, w, &fc, acc)
		uSq, deltaSq, wdSq = acc.sum(0), acc.sum(1), acc.sum(2)
		d.modParams += n
		if k > 0 {
			d.modActive += n
		}
		for gi, in := range [4]bool{t.isConv, t.isClassifier, t.isEarly, t.isLate} {
			if in {
				d.modGroupParams[gi] += n
				d.modGroupDeltaSq[gi] += deltaSq
				if k > 0 {
					d.modGroupActive[gi] += n
				}
			}
		}
	} else {
		eps := float32(pc.Eps)
		ag := t.ag[:n]
		switch {
		case pc.OrthogonalResidual:
			d.orthActive++
			gn := float32(math.Sqrt(t.gradSq))
			gn2 := float32(t.gradSq)
			d.orthSignalSq += t.rSq
			d.gradPlastDot += t.rDotG
			if float64(gn2) <= pc.Eps {
				d.orthSkip++
				for j := range g {
					finish(j, g[j], 0)
				}
				break
			}
			proj := float32(t.rDotG) / (gn2 + eps)
			r := func(j int) float32 {
				x := (al[j] - ag[j]) * g[j]
				if !finite32(x) {
					return 0
				}
				return x
			}
			oj := func(j int) float32 {
				x := r(j) - proj*g[j]
				if !finite32(x) {
					return 0
				}
				return x
			}
			var oSq float64
			for j := range g {
				x := oj(j)
				oSq += float64(x) * float64(x)
			}
			on := float32(math.Sqrt(oSq))
			ms := float32(1)
			scaled := pc.OrthogonalNormalization == "match_grad_norm" && float64(on) > pc.Eps
			if scaled {
				ms = gn / (on + eps)
			}
			lam := float32(pc.OrthogonalLambda * o.orthogonalGate())
			var dSq, o2Sq, goDot float64
			for j := range g {
				x := oj(j)
				if scaled {
					x = x * ms
				}
				o2Sq += float64(x) * float64(x)
				goDot += float64(g[j]) * float64(x)
				y := lam * x
				dSq += float64(y) * float64(y)
			}
			d.orthResidualSq += o2Sq
			d.gradOrthDot += goDot
			dn := float32(math.Sqrt(dSq))
			limit := float32(pc.OrthogonalMaxRatio) * gn
			c := float32(1)
			if dn > limit {
				c = limit / (dn + eps)
			}
			for j := range g {
				x := oj(j)
				if scaled {
					x = x * ms
				}
				y := lam * x
				if c != 1 {
					y = y * c
				}
				finish(j, g[j]+y, y)
			}
		case pc.BoundedResidual:
			dn := float32(math.Sqrt(t.boundSq))
			limit := float32(pc.ResidualMaxRatio) * float32(math.Sqrt(t.gradSq))
			c := float32(1)
			if dn > limit {
				c = limit / (dn + 1e-12)
			}
			for j := range g {
				y := (al[j] - 1) * g[j]
				if c != 1 {
					y = y * c
				}
				finish(j, g[j]+y, y)
			}
		default:
			for j := range g {
				gj := g[j]
				y := (al[j] - ag[j]) * gj
				finish(j, ag[j]*gj+y, y)
			}
		}
	}

	pSq, effSq := o.apply(t, uSq)
	d.paramSq += pSq
	d.rawUpdateSq += uSq
	d.effUpdateSq += effSq
	d.deltaSq += deltaSq
	d.wdSq += wdSq
	d.ctrlRecord(t, pc)
}

// signalsFast is pass 2 of the fast modes: alpha per element, the update
// a_g*g + (alpha-a_g)*g into t.upd (over the memory signal in mem, which
// aliases it) or, for the hybrid bases, alpha into t.alpha, and the alpha
// diagnostics.
func (o *neuroPlastic) signalsFast(t *npTensor, gs, dg, dt, dm float32, mem []float32) {
	pc := &o.pc
	d := &o.diag
	n := t.n
	c := np2Coef{
		dg: dg, dt: dt, dm: dm,
		wa: float32(pc.ActivityWeight), wg: float32(pc.GradientWeight), wm: float32(pc.MemoryWeight),
		lo: float32(pc.MinAlpha), hi: float32(pc.MaxAlpha), gs: gs,
		hScale: float32(float64(len(d.hist)) / (pc.MaxAlpha - pc.MinAlpha)),
		tLo:    below32(d.nearLo + 1e-6), tHi: above32(d.nearHi - 1e-6),
	}
	out := t.upd
	if o.alphaFast {
		out, c.alphaOut = t.alpha, 0xffff
	}
	acc := &o.acc
	acc.reset()
	if o.full {
		np2(t.p.Grad[:n], t.trace, mem, out, t.bins, &c, acc)
	} else {
		np2(t.p.Grad[:n], nil, nil, out, t.bins, &c, acc)
	}
	histogram(t.bins[:n], &d.hist)
	t.signal, t.boundSq, t.rDotG, t.rSq = 0, 0, 0, 0
	t.uSq, t.deltaSq = acc.sum(2), acc.sum(3)
	if n > 0 {
		d.alphaSum += acc.sum(0)
		d.alphaSq += acc.sum(1)
		d.alphaCount += n
		d.alphaMin = math.Min(d.alphaMin, float64(acc.min()))
		d.alphaMax = math.Max(d.alphaMax, float64(acc.max()))
		lo, hi := acc.counts()
		d.nearLoCount += lo
		d.nearHiCount += hi
		d.gradSq += t.gradSq
	}
}

// apply stabilises the update in t.upd, whose sum of squares is uSq (norm
// cap, then the homeostatic gain), and applies it: p -= lr_eff * update.
// It returns the sum of p^2 before the step and the effective update's
// (multiplier * stabilised update) sum of squares.
func (o *neuroPlastic) apply(t *npTensor, uSq float64) (pSq, effSq float64) {
	h := &o.cfg.Homeostatic
	n := t.n
	epsH := float32(h.Eps)
	un := float32(math.Sqrt(uSq))
	s1 := float32(1)
	if un > float32(h.MaxUpdateNorm) {
		s1 = float32(h.MaxUpdateNorm) / (un + epsH)
	}
	meanSq := float32(uSq * float64(s1) * float64(s1) / float64(max(n, 1)))
	rms := sqrt32(meanSq + epsH)
	gain := clamp32(1+float32(h.AdaptationRate)*(float32(h.TargetRMS*t.rmsScale)-rms), 0.5, 1.5)
	c := np3Coef{s1: s1, gain: gain, neg: float32(-o.cfg.LR * t.multiplier)}
	acc := &o.acc
	acc.reset()
	np3(t.p.Data[:n], t.upd[:n], &c, acc)
	e := float64(s1) * float64(gain) * t.multiplier
	return acc.sum(0), uSq * e * e
}
