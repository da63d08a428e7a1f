package optimizers

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
)

// TraceFormat is the format tag of conformance trace files.
const TraceFormat = "optimizer-trace/v1"

// Trace is a decoded conformance trace (format optimizer-trace/v1): a short
// training run recorded from the reference implementation, with the
// gradients fed to the optimizer and the parameters after every step.
type Trace struct {
	Path        string
	ID          string
	Description string
	Config      Config
	TotalEpochs int
	Params      []TraceParam
	Steps       []TraceStep
}

// TraceParam is one parameter tensor's name, shape and initial values.
type TraceParam struct {
	Name  string
	Shape []int
	Init  []float32
}

// TraceStep is one optimizer step: the epoch, the gradients before the
// step and the parameters after it, one slice per parameter.
type TraceStep struct {
	Epoch       int
	Loss        float64
	Grads       [][]float32
	ParamsAfter [][]float32
}

// Report is the outcome of replaying a trace. MaxAbsErr and MaxRelErr are
// the worst |ours-theirs| and |ours-theirs|/|theirs| over every element of
// every step; Pass means every element was within AbsTol + RelTol*|theirs|.
type Report struct {
	ID, Optimizer string
	Steps         int
	MaxAbsErr     float64
	MaxRelErr     float64
	Pass          bool
	// FirstFailure describes the first element out of tolerance, if any.
	FirstFailure string
}

// Replay tolerance (conformance README).
const (
	AbsTol = 1e-5
	RelTol = 1e-4
)

type rawTrace struct {
	Format      string          `json:"format"`
	ID          string          `json:"id"`
	Description string          `json:"description"`
	Optimizer   json.RawMessage `json:"optimizer"`
	TotalEpochs int             `json:"total_epochs"`
	Params      []struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
		Init  string `json:"init"`
	} `json:"params"`
	Steps []struct {
		Epoch       int      `json:"epoch"`
		Loss        float64  `json:"loss"`
		Grads       []string `json:"grads"`
		ParamsAfter []string `json:"params_after"`
	} `json:"steps"`
}

// LoadTrace reads and checks a trace file. Errors name the file and the
// offending part (malformed JSON, bad base64, a tensor whose length does
// not match its shape, an invalid optimizer block, ...).
func LoadTrace(path string) (*Trace, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading trace %s: %w", path, err)
	}
	t, err := ParseTrace(data)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", path, err)
	}
	t.Path = path
	return t, nil
}

// ParseTrace decodes a trace from its JSON bytes.
func ParseTrace(data []byte) (*Trace, error) {
	var r rawTrace
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("malformed JSON: %v", err)
	}
	if r.Format != TraceFormat {
		return nil, fmt.Errorf("format is %q, expected %q", r.Format, TraceFormat)
	}
	if len(r.Optimizer) == 0 {
		return nil, errors.New("missing optimizer block")
	}
	cfg, err := ParseConfig(r.Optimizer, "optimizer")
	if err != nil {
		return nil, err
	}
	if r.TotalEpochs < 1 {
		return nil, fmt.Errorf("total_epochs must be >= 1, got %d", r.TotalEpochs)
	}
	if len(r.Params) == 0 {
		return nil, errors.New("no params")
	}
	t := &Trace{ID: r.ID, Description: r.Description, Config: cfg, TotalEpochs: r.TotalEpochs}
	sizes := make([]int, len(r.Params))
	for i, p := range r.Params {
		n := 1
		for _, s := range p.Shape {
			if s < 0 || s > 1<<28 {
				return nil, fmt.Errorf("params[%d] (%s): invalid shape %v", i, p.Name, p.Shape)
			}
			n *= s
			if n > 1<<28 {
				return nil, fmt.Errorf("params[%d] (%s): shape %v too large", i, p.Name, p.Shape)
			}
		}
		sizes[i] = n
		init, err := decodeTensor(p.Init, n, fmt.Sprintf("params[%d].init (%s, shape %v)", i, p.Name, p.Shape))
		if err != nil {
			return nil, err
		}
		t.Params = append(t.Params, TraceParam{Name: p.Name, Shape: p.Shape, Init: init})
	}
	if len(r.Steps) == 0 {
		return nil, errors.New("no steps")
	}
	for k, s := range r.Steps {
		if s.Epoch < 1 || s.Epoch > r.TotalEpochs {
			return nil, fmt.Errorf("steps[%d].epoch is %d, expected 1..%d", k, s.Epoch, r.TotalEpochs)
		}
		if len(s.Grads) != len(sizes) || len(s.ParamsAfter) != len(sizes) {
			return nil, fmt.Errorf("steps[%d]: %d grads and %d params_after, expected %d of each",
				k, len(s.Grads), len(s.ParamsAfter), len(sizes))
		}
		st := TraceStep{Epoch: s.Epoch, Loss: s.Loss}
		for i, n := range sizes {
			g, err := decodeTensor(s.Grads[i], n, fmt.Sprintf("steps[%d].grads[%d] (%s)", k, i, r.Params[i].Name))
			if err != nil {
				return nil, err
			}
			p, err := decodeTensor(s.ParamsAfter[i], n, fmt.Sprintf("steps[%d].params_after[%d] (%s)", k, i, r.Params[i].Name))
			if err != nil {
				return nil, err
			}
			st.Grads = append(st.Grads, g)
			st.ParamsAfter = append(st.ParamsAfter, p)
		}
		t.Steps = append(t.Steps, st)
	}
	return t, nil
}

func decodeTensor(s string, n int, what string) ([]float32, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: bad base64: %v", what, err)
	}
	if len(b) != 4*n {
		return nil, fmt.Errorf("%s: %d bytes, expected %d (%d float32 values)", what, len(b), 4*n, n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

// Replay feeds the trace's gradients through a fresh optimizer built from
// its optimizer block, starting from its initial parameters, and compares
// the parameters after every step with the recorded ones.
func Replay(t *Trace) (Report, error) {
	rep := Report{ID: t.ID, Optimizer: t.Config.Name, Steps: len(t.Steps), Pass: true}
	params := make([]Param, len(t.Params))
	for i, p := range t.Params {
		params[i] = Param{Name: p.Name, Shape: p.Shape,
			Data: append([]float32(nil), p.Init...), Grad: make([]float32, len(p.Init))}
	}
	opt, err := New(t.Config, params)
	if err != nil {
		return rep, fmt.Errorf("trace %s: %w", t.ID, err)
	}
	for k, s := range t.Steps {
		for i := range params {
			copy(params[i].Grad, s.Grads[i])
		}
		opt.SetEpoch(s.Epoch, t.TotalEpochs)
		if err := opt.Step(); err != nil {
			return rep, fmt.Errorf("trace %s step %d: %w", t.ID, k, err)
		}
		for i := range params {
			for j, want := range s.ParamsAfter[i] {
				got := params[i].Data[j]
				diff := math.Abs(float64(got) - float64(want))
				if math.IsNaN(diff) {
					diff = math.Inf(1)
				}
				rep.MaxAbsErr = math.Max(rep.MaxAbsErr, diff)
				if want != 0 {
					rep.MaxRelErr = math.Max(rep.MaxRelErr, diff/math.Abs(float64(want)))
				}
				if !(diff <= AbsTol+RelTol*math.Abs(float64(want))) && rep.Pass {
					rep.Pass = false
					rep.FirstFailure = fmt.Sprintf("step %d (epoch %d), %s[%d]: got %g, want %g",
						k, s.Epoch, params[i].Name, j, got, want)
				}
			}
		}
	}
	return rep, nil
}
