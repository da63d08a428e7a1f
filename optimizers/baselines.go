package optimizers

import "math"

// sgd is torch.optim.SGD with dampening 0: coupled weight decay, momentum
// buffer initialised to the first (decayed) gradient, optional Nesterov.
type sgd struct {
	epochClock
	cfg    Config
	params []Param
	buf    [][]float32 // momentum buffers; nil when momentum is 0
	steps  []float64
}

func newSGD(cfg Config, params []Param) *sgd {
	o := &sgd{cfg: cfg, params: params, steps: make([]float64, len(params)), epochClock: epochClock{1, 1}}
	if cfg.Momentum != 0 {
		o.buf = make([][]float32, len(params))
		for i, p := range params {
			o.buf[i] = make([]float32, len(p.Data))
		}
	}
	return o
}

func (o *sgd) Name() string                    { return o.cfg.Name }
func (o *sgd) Diagnostics() map[string]float64 { return nil }
func (o *sgd) ResetDiagnostics()               {}

func (o *sgd) Step() error {
	lr, wd, mom := float32(o.cfg.LR), float32(o.cfg.WeightDecay), float32(o.cfg.Momentum)
	for i, p := range o.params {
		first := o.steps[i] == 0
		o.steps[i]++
		c := sgdCoef{wd: wd, mom: mom, negLR: -lr}
		if wd != 0 {
			c.coupled = 0xffff
		}
		if !first {
			c.notFirst = 0xffff
		}
		if o.cfg.Nesterov {
			c.nesterov = 0xffff
		}
		var buf []float32
		if o.buf != nil {
			buf = o.buf[i]
		}
		sgdStep(p.Data, p.Grad, buf, &c)
	}
	return nil
}

func (o *sgd) State() State {
	var b stateBuilder
	for i, p := range o.params {
		if o.buf != nil {
			b.tensor(i, "momentum_buffer", p.Shape, o.buf[i])
		}
		b.scalar(tensorName(i, "step"), o.steps[i])
	}
	o.save(&b)
	return b.s
}

func (o *sgd) LoadState(s State) error {
	l, err := newStateLoader(o.cfg.Name, s)
	if err != nil {
		return err
	}
	bufs := make([][]float32, len(o.params))
	steps := make([]float64, len(o.params))
	for i, p := range o.params {
		if o.buf != nil {
			if bufs[i], err = l.tensor(i, "momentum_buffer", p.Shape, len(p.Data)); err != nil {
				return err
			}
		}
		if steps[i], err = l.scalar(tensorName(i, "step")); err != nil {
			return err
		}
	}
	clock, err := o.load(l)
	if err != nil {
		return err
	}
	if err := l.finish(); err != nil {
		return err
	}
	for i := range o.params {
		if o.buf != nil {
			copy(o.buf[i], bufs[i])
		}
	}
	copy(o.steps, steps)
	o.epochClock = clock
	return nil
}

// adam is torch.optim.Adam (coupled weight decay) or torch.optim.AdamW
// (decoupled: p *= 1 - lr*wd first), bias-corrected, without amsgrad.
type adam struct {
	epochClock
	cfg     Config
	params  []Param
	m, v    [][]float32
	steps   []float64
	decoupl bool
}

func newAdam(cfg Config, params []Param) *adam {
	o := &adam{cfg: cfg, params: params, steps: make([]float64, len(params)),
		m: make([][]float32, len(params)), v: make([][]float32, len(params)),
		decoupl: cfg.Name == NameAdamW, epochClock: epochClock{1, 1}}
	for i, p := range params {
		o.m[i] = make([]float32, len(p.Data))
		o.v[i] = make([]float32, len(p.Data))
	}
	return o
}

func (o *adam) Name() string                    { return o.cfg.Name }
func (o *adam) Diagnostics() map[string]float64 { return nil }
func (o *adam) ResetDiagnostics()               {}

func (o *adam) Step() error {
	b1, b2 := o.cfg.Betas[0], o.cfg.Betas[1]
	wd := float32(o.cfg.WeightDecay)
	decay := float32(1 - o.cfg.LR*o.cfg.WeightDecay)
	w1 := float32(1 - b1) // lerp weight
	b2f, c2 := float32(b2), float32(1-b2)
	eps := float32(o.cfg.Eps)
	for i, p := range o.params {
		o.steps[i]++
		step := float64(float32(o.steps[i])) // torch keeps the count in a float32 tensor
		bc1 := 1 - math.Pow(b1, step)
		bc2 := 1 - math.Pow(b2, step)
		negStep := float32(-(o.cfg.LR / bc1))
		bc2s := float32(math.Sqrt(bc2))
		w, g := p.Data, p.Grad[:len(p.Data)]
		m, v := o.m[i][:len(w)], o.v[i][:len(w)]
		if w1 < 0.5 {
			c := adamCoef{decay: 1, wd: wd, w1: w1, b2: b2f, c2: c2, bc2s: bc2s, eps: eps, negStep: negStep}
			if o.decoupl {
				c.decay = decay // 1 - lr*wd, or 1 without weight decay
			} else if wd != 0 {
				c.coupled = 0xffff
			}
			adamStep(w, g, m, v, &c)
			continue
		}
		for j := range w {
			gj := g[j]
			if o.decoupl {
				if o.cfg.WeightDecay != 0 {
					w[j] = w[j] * decay
				}
			} else if wd != 0 {
				gj = gj + wd*w[j]
			}
			m[j] = gj - (gj-m[j])*(1-w1)
			v[j] = v[j]*b2f + c2*gj*gj
			denom := sqrt32(v[j])/bc2s + eps
			w[j] = w[j] + negStep*m[j]/denom
		}
	}
	return nil
}

func (o *adam) State() State {
	var b stateBuilder
	for i, p := range o.params {
		b.tensor(i, "exp_avg", p.Shape, o.m[i])
		b.tensor(i, "exp_avg_sq", p.Shape, o.v[i])
		b.scalar(tensorName(i, "step"), o.steps[i])
	}
	o.save(&b)
	return b.s
}

func (o *adam) LoadState(s State) error {
	l, err := newStateLoader(o.cfg.Name, s)
	if err != nil {
		return err
	}
	n := len(o.params)
	ms, vs, steps := make([][]float32, n), make([][]float32, n), make([]float64, n)
	for i, p := range o.params {
		if ms[i], err = l.tensor(i, "exp_avg", p.Shape, len(p.Data)); err != nil {
			return err
		}
		if vs[i], err = l.tensor(i, "exp_avg_sq", p.Shape, len(p.Data)); err != nil {
			return err
		}
		if steps[i], err = l.scalar(tensorName(i, "step")); err != nil {
			return err
		}
	}
	clock, err := o.load(l)
	if err != nil {
		return err
	}
	if err := l.finish(); err != nil {
		return err
	}
	for i := range o.params {
		copy(o.m[i], ms[i])
		copy(o.v[i], vs[i])
	}
	copy(o.steps, steps)
	o.epochClock = clock
	return nil
}

// sqrt32 is the correctly rounded float32 square root.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
