// Package optimizers implements the optimizers of the NeuroPlastic paper
// (arXiv:2604.26297) over flat float32 parameter tensors: SGD, Adam and
// AdamW with PyTorch's semantics, and NeuroPlastic exactly as the reference
// implementation computes it (see the shared spec, neuroplastic.md). Each is
// checked step for step against traces recorded from the reference code
// (LoadTrace, Replay).
//
// An optimizer works on the parameters it is given at New: every Step reads
// Grad and updates Data in place, without allocating. Per-tensor buffers are
// exposed through State and restored by LoadState; the tensor names are
// stable because checkpoints store them:
//
//	param.<i>.momentum_buffer             sgd (momentum > 0)
//	param.<i>.exp_avg, param.<i>.exp_avg_sq  adam, adamw
//	param.<i>.trace, .m, .v, .base_m, .base_v  neuroplastic
//
// where <i> is the parameter's index in model order. Scalars are
// "param.<i>.step" (steps taken by that tensor), "epoch" and "total_epochs".
package optimizers

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Param is one parameter tensor in model order; Data and Grad alias the
// model's memory and have the length given by Shape.
type Param struct {
	Name       string
	Shape      []int
	Data, Grad []float32
}

// Optimizer updates a fixed list of parameters from their gradients.
type Optimizer interface {
	// Step updates every parameter's Data from its Grad.
	Step() error
	// SetEpoch tells the optimizer the current 1-based epoch and the total.
	SetEpoch(epoch, total int)
	// Diagnostics returns the aggregate since the last ResetDiagnostics
	// (see DiagnosticKeys); nil for optimizers without diagnostics.
	Diagnostics() map[string]float64
	// ResetDiagnostics starts a new aggregation window (an epoch).
	ResetDiagnostics()
	// State returns a deep copy of everything needed to continue exactly.
	State() State
	// LoadState restores a State taken from an optimizer of the same
	// configuration over parameters of the same shapes.
	LoadState(State) error
	// Name is the configured optimizer name ("sgd", "adam", ...).
	Name() string
}

// State is an optimizer's complete state: per-tensor buffers and scalars.
type State struct {
	Tensors []NamedTensor
	Scalars map[string]float64
}

// NamedTensor is one state buffer; Name follows the package's naming scheme.
type NamedTensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// New builds the optimizer cfg describes over params. The configuration
// is validated; every Param must have len(Data) == len(Grad) == product of
// Shape.
func New(cfg Config, params []Param) (Optimizer, error) {
	if cfg.Name == NameNeuroPlastic {
		cfg.Plasticity.ResolveAliases()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for i, p := range params {
		n := 1
		for _, s := range p.Shape {
			if s < 0 {
				return nil, fmt.Errorf("param %d (%s): negative dimension in shape %v", i, p.Name, p.Shape)
			}
			n *= s
		}
		if len(p.Data) != n || len(p.Grad) != n {
			return nil, fmt.Errorf("param %d (%s): shape %v needs %d values, got %d data and %d grad",
				i, p.Name, p.Shape, n, len(p.Data), len(p.Grad))
		}
	}
	switch cfg.Name {
	case NameSGD:
		return newSGD(cfg, params), nil
	case NameAdam, NameAdamW:
		return newAdam(cfg, params), nil
	default:
		return newNeuroPlastic(cfg, params), nil
	}
}

// stateBuilder collects named buffers in a fixed order.
type stateBuilder struct{ s State }

func (b *stateBuilder) tensor(i int, buf string, shape []int, data []float32) {
	b.s.Tensors = append(b.s.Tensors, NamedTensor{
		Name:  tensorName(i, buf),
		Shape: append([]int(nil), shape...),
		Data:  append([]float32(nil), data...),
	})
}

func (b *stateBuilder) scalar(name string, v float64) {
	if b.s.Scalars == nil {
		b.s.Scalars = map[string]float64{}
	}
	b.s.Scalars[name] = v
}

func tensorName(i int, buf string) string { return "param." + strconv.Itoa(i) + "." + buf }

// stateLoader checks a State against the expected entries before anything
// is copied, so a failed LoadState leaves the optimizer unchanged.
type stateLoader struct {
	tensors map[string]NamedTensor
	scalars map[string]float64
	used    map[string]bool
	kind    string
}

func newStateLoader(kind string, s State) (*stateLoader, error) {
	l := &stateLoader{tensors: map[string]NamedTensor{}, scalars: s.Scalars, used: map[string]bool{}, kind: kind}
	for _, t := range s.Tensors {
		if _, dup := l.tensors[t.Name]; dup {
			return nil, fmt.Errorf("loading %s state: tensor %q appears twice", kind, t.Name)
		}
		l.tensors[t.Name] = t
	}
	return l, nil
}

func (l *stateLoader) tensor(i int, buf string, shape []int, n int) ([]float32, error) {
	name := tensorName(i, buf)
	t, ok := l.tensors[name]
	if !ok {
		return nil, fmt.Errorf("loading %s state: tensor %q missing", l.kind, name)
	}
	if !slices.Equal(t.Shape, shape) || len(t.Data) != n {
		return nil, fmt.Errorf("loading %s state: tensor %q has shape %v (%d values), expected %v (%d values)",
			l.kind, name, t.Shape, len(t.Data), shape, n)
	}
	l.used[name] = true
	return t.Data, nil
}

func (l *stateLoader) scalar(name string) (float64, error) {
	v, ok := l.scalars[name]
	if !ok {
		return 0, fmt.Errorf("loading %s state: scalar %q missing", l.kind, name)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v != math.Trunc(v) {
		return 0, fmt.Errorf("loading %s state: scalar %q must be a non-negative integer, got %v", l.kind, name, v)
	}
	l.used[name] = true
	return v, nil
}

// finish rejects entries that the optimizer does not know.
func (l *stateLoader) finish() error {
	var extra []string
	for name := range l.tensors {
		if !l.used[name] {
			extra = append(extra, name)
		}
	}
	for name := range l.scalars {
		if !l.used[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		return fmt.Errorf("loading %s state: unexpected entries %s (state of a different optimizer or model?)",
			l.kind, strings.Join(extra, ", "))
	}
	return nil
}

// epochClock holds the epoch the optimizer was told about, clamped to >= 1
// as the reference does.
type epochClock struct{ epoch, total int }

func (c *epochClock) SetEpoch(epoch, total int) {
	c.epoch, c.total = max(1, epoch), max(1, total)
}

func (c *epochClock) save(b *stateBuilder) {
	b.scalar("epoch", float64(c.epoch))
	b.scalar("total_epochs", float64(c.total))
}

func (c *epochClock) load(l *stateLoader) (epochClock, error) {
	e, err := l.scalar("epoch")
	if err != nil {
		return *c, err
	}
	t, err := l.scalar("total_epochs")
	if err != nil {
		return *c, err
	}
	return epochClock{max(1, int(e)), max(1, int(t))}, nil
}
