package engine

// Tape records the ops of one forward pass so Backward can run them in
// reverse. It also owns every activation tensor the ops create: Reset starts
// a new pass and hands the same buffers out again in the same order, so a
// training loop with repeating shapes allocates nothing in steady state.
type Tape struct {
	// Train selects training behaviour (dropout active, batch norm on batch
	// statistics). Evaluation passes set it to false.
	Train bool
	// Dropout is the counter-based random stream for dropout masks.
	Dropout *CounterRNG

	nodes     []node
	slots     []*Tensor
	used      int
	views     []*Tensor
	usedViews int

	ej      elemJob   // the element-wise op being run (see job)
	rowLoss []float64 // CrossEntropy's per-row losses
	rowHit  []bool    // and whether each row's arg-max is its label
}

// node is one recorded op: its backward function and what it needs.
// Ops keep their inputs, output and any saved buffer here; back reads
// out.Grad and accumulates into the inputs' Grad.
type node struct {
	back    func(n *node)
	a, b, c *Tensor
	out     *Tensor
	aux     *Tensor
	ints    [8]int
	f       float32
	obj     any
	labels  []int32
	tape    *Tape // the tape that recorded the op
}

// NewTape returns an empty tape in training mode.
func NewTape(train bool) *Tape { return &Tape{Train: train} }

// Reset forgets the recorded ops and makes every activation buffer
// available again. Call it before each forward pass.
func (t *Tape) Reset() {
	t.nodes = t.nodes[:0]
	t.used = 0
	t.usedViews = 0
}

// Alloc returns a zeroed activation tensor of the given shape from the
// tape's arena. Its gradient is zeroed by Backward before use.
func (t *Tape) Alloc(shape ...int) *Tensor {
	x := t.alloc(shape)
	clear(x.Data)
	return x
}

// AllocNoZero is Alloc for outputs that the op overwrites completely.
func (t *Tape) AllocNoZero(shape ...int) *Tensor { return t.alloc(shape) }

func (t *Tape) alloc(shape []int) *Tensor {
	n := numel(shape)
	if t.used == len(t.slots) {
		t.slots = append(t.slots, &Tensor{})
	}
	x := t.slots[t.used]
	t.used++
	if cap(x.Data) < n {
		x.Data = make([]float32, n)
		x.Grad = nil
	}
	x.Data = x.Data[:n]
	if x.Grad != nil {
		x.Grad = x.Grad[:n]
	}
	if len(x.Shape) != len(shape) {
		x.Shape = make([]int, len(shape))
	}
	copy(x.Shape, shape)
	return x
}

// View returns a tensor of a new shape sharing x's data. Its gradient is
// its own buffer (nil when x has none); the op that creates the view copies
// it back into x.Grad.
func (t *Tape) View(x *Tensor, shape ...int) *Tensor {
	if numel(shape) != len(x.Data) {
		panic("engine: View changes the number of elements") // programming error
	}
	if t.usedViews == len(t.views) {
		t.views = append(t.views, &Tensor{})
	}
	v := t.views[t.usedViews]
	t.usedViews++
	v.Data = x.Data
	switch {
	case x.Grad == nil && !t.owns(x):
		// x is an outside tensor without a gradient (a batch of inputs), so
		// the view needs none either: ops skip input gradients of tensors
		// without a Grad buffer, which saves the first layer's largest
		// product. (The tape's own activations get their Grad in Backward.)
		v.Grad = nil
	case cap(v.Grad) < len(x.Data):
		v.Grad = make([]float32, len(x.Data))
	default:
		v.Grad = v.Grad[:len(x.Data)]
	}
	if len(v.Shape) != len(shape) {
		v.Shape = make([]int, len(shape))
	}
	copy(v.Shape, shape)
	return v
}

// owns reports whether x is one of this pass's activations.
func (t *Tape) owns(x *Tensor) bool {
	for _, s := range t.slots[:t.used] {
		if s == x {
			return true
		}
	}
	for _, s := range t.views[:t.usedViews] {
		if s == x {
			return true
		}
	}
	return false
}

// record appends a node and returns it for the op to fill in.
func (t *Tape) record(back func(*node), out *Tensor) *node {
	t.nodes = append(t.nodes, node{back: back, out: out, tape: t})
	return &t.nodes[len(t.nodes)-1]
}

// Backward seeds d(loss)/d(loss) = 1 and runs the recorded ops in reverse,
// accumulating into every input's Grad (parameters included: zero them
// before the forward pass with ZeroGrads).
func (t *Tape) Backward(loss *Tensor) {
	total := 0
	for _, x := range t.slots[:t.used] {
		if x.Grad == nil || cap(x.Grad) < len(x.Data) {
			x.Grad = make([]float32, len(x.Data))
		} else {
			x.Grad = x.Grad[:len(x.Data)]
		}
		total += len(x.Grad)
	}
	j := t.job(opClearGrads)
	j.tensors = t.slots[:t.used]
	j.split(total, total)
	j.tensors = nil
	for _, v := range t.views[:t.usedViews] {
		clear(v.Grad)
	}
	for i := range loss.Grad {
		loss.Grad[i] = 1
	}
	for i := len(t.nodes) - 1; i >= 0; i-- {
		n := &t.nodes[i]
		if n.back != nil {
			n.back(n)
		}
	}
}

// ZeroGrads zeroes the gradients of params (allocating them on first use).
func ZeroGrads(params []Param) {
	for _, p := range params {
		p.T.ZeroGrad()
	}
}

// clearGrads zeroes elements [lo,hi) of the gradients of ts taken one
// after the other.
func clearGrads(ts []*Tensor, lo, hi int) {
	off := 0
	for _, x := range ts {
		n := len(x.Grad)
		if off+n > lo {
			clear(x.Grad[max(lo-off, 0):min(hi-off, n)])
		}
		off += n
		if off >= hi {
			return
		}
	}
}
