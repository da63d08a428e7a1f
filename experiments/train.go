package experiments

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/repro-np/repro/datasets"
	"github.com/repro-np/repro/engine"
	"github.com/repro-np/repro/optimizers"
	"github.com/repro-np/repro/results"
)

// evalBatch is the batch size used for evaluation (no gradients, so larger).
const evalBatch = 500

// trainer holds everything one run needs between epochs. Every field that
// changes during training is either rebuilt from the spec or saved in a
// checkpoint, so a resumed run continues exactly.
type trainer struct {
	spec    RunSpec
	train   *datasets.Dataset
	test    *datasets.Dataset
	indices []int // the training subset, ascending

	model   engine.Model
	params  []engine.Param
	opt     optimizers.Optimizer
	order   *engine.RNG        // StreamOrder: shuffling
	augment *engine.RNG        // StreamAugment: crops and flips
	dropout *engine.CounterRNG // StreamDropout: dropout masks

	record results.Run // epochs completed so far

	tape, evalTape *engine.Tape
	x, evalX       *engine.Tensor
	y, evalY       []int32
	perm, batch    []int

	// progress, when set, receives a line every progressEvery within long
	// epochs (ResNet-18 epochs take minutes on a CPU).
	progress func(format string, args ...any)
}

// progressEvery is how often a long epoch reports how far it has got.
const progressEvery = 30 * time.Second

// newModel builds the named model for images of the dataset's shape.
func newModel(name string, d *datasets.Dataset, classes int, seed int64) (engine.Model, error) {
	switch name {
	case "mlp":
		return engine.NewMLP([]int{d.Sample(), 256, 256, classes}, 0.1, seed)
	case "resnet18":
		return engine.NewResNet18(classes, seed)
	case "small-cnn":
		return engine.NewSmallCNN(classes, seed)
	}
	return nil, fmt.Errorf("unknown model %q (valid: mlp, small-cnn, resnet18)", name)
}

// newTrainer builds the run's model, optimizer, random streams and subset.
func newTrainer(spec RunSpec, train, test *datasets.Dataset) (*trainer, error) {
	seed := int64(spec.Seed)
	t := &trainer{spec: spec, train: train, test: test}
	var err error
	if t.indices, err = subsetFor(spec, train); err != nil {
		return nil, err
	}
	if t.model, err = newModel(spec.Model, train, len(train.Classes), seed); err != nil {
		return nil, err
	}
	t.params = t.model.Params()
	ps := make([]optimizers.Param, len(t.params))
	for i, p := range t.params {
		p.T.ZeroGrad()
		ps[i] = optimizers.Param{Name: p.Name, Shape: p.T.Shape, Data: p.T.Data, Grad: p.T.Grad}
	}
	if t.opt, err = optimizers.New(spec.Optimizer, ps); err != nil {
		return nil, fmt.Errorf("variant %s: %w", spec.Variant, err)
	}
	t.order = engine.NewRNG(seed, engine.StreamOrder)
	t.augment = engine.NewRNG(seed, engine.StreamAugment)
	t.dropout = engine.NewCounterRNG(seed, engine.StreamDropout)
	t.tape = engine.NewTape(true)
	t.tape.Dropout = t.dropout
	t.evalTape = engine.NewTape(false)
	b := spec.BatchSize
	if b > len(t.indices) {
		b = len(t.indices)
	}
	t.x = engine.NewTensor(b, train.C, train.H, train.W)
	t.y = make([]int32, b)
	t.evalX = engine.NewTensor(evalBatch, test.C, test.H, test.W)
	t.evalY = make([]int32, evalBatch)
	t.perm = make([]int, len(t.indices))
	t.batch = make([]int, b)
	t.record = results.Run{
		Experiment: spec.Experiment, Variant: spec.Variant, Seed: spec.Seed,
		Axes: spec.Axes, Group: spec.Group, SpecHash: spec.Hash(), Status: results.StatusPartial,
		SubsetSize: len(t.indices), SubsetHash: hashIndices(t.indices),
	}
	if len(t.indices) < len(train.Labels) {
		t.record.Subset = t.indices
	}
	return t, nil
}

// subsetFor returns the training indices a run uses: a subset file, a
// class-balanced k-shot draw, a uniform fraction, or everything.
func subsetFor(spec RunSpec, train *datasets.Dataset) ([]int, error) {
	r := engine.NewRNG(int64(spec.Seed), engine.StreamSubset)
	n := train.N
	switch {
	case spec.SubsetFile != "":
		return datasets.LoadSubsetFile(spec.SubsetFile, n)
	case spec.Shots > 0:
		return datasets.ClassBalanced(train.Labels, len(train.Classes), spec.Shots, r)
	case spec.Fraction > 0 && spec.Fraction < 1:
		return datasets.UniformSubset(n, spec.Fraction, r)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx, nil
}

func hashIndices(idx []int) string {
	h := sha256.New()
	var b [8]byte
	for _, i := range idx {
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// stepsIn returns the number of optimizer steps of epoch e (1-based).
func (t *trainer) stepsIn(e int) int {
	n, b := len(t.indices), len(t.y)
	if t.spec.Steps > 0 {
		E := t.spec.Epochs
		return t.spec.Steps*e/E - t.spec.Steps*(e-1)/E
	}
	return (n + b - 1) / b
}

// divergedError stops a run whose loss or parameters stopped being finite.
type divergedError struct{ d results.Divergence }

func (e *divergedError) Error() string {
	return fmt.Sprintf("diverged at epoch %d step %d: %s", e.d.Epoch, e.d.Step, e.d.Reason)
}

// runEpoch trains epoch e (1-based) and evaluates on the test set. It checks
// stop between steps; a stop request abandons the epoch (the last
// checkpoint is the epoch before).
func (t *trainer) runEpoch(e int, stop func() bool) (results.Epoch, error) {
	start := time.Now()
	t.opt.SetEpoch(e, t.spec.Epochs)
	t.opt.ResetDiagnostics()
	steps := t.stepsIn(e)
	n, b := len(t.indices), len(t.y)
	t.order.Perm(t.perm)
	cursor := 0
	var lossSum float64
	var correct, seen int
	lastReport := start
	for s := 1; s <= steps; s++ {
		if stop != nil && stop() {
			return results.Epoch{}, errStopped
		}
		bs := b
		if t.spec.Steps > 0 {
			if cursor+bs > n { // few-shot: reshuffle when the subset runs out
				t.order.Perm(t.perm)
				cursor = 0
			}
		} else if cursor+bs > n {
			bs = n - cursor
		}
		batch := t.batch[:bs]
		for i, p := range t.perm[cursor : cursor+bs] {
			batch[i] = t.indices[p]
		}
		cursor += bs
		x := t.batchTensor(bs)
		if t.spec.Augment {
			t.train.GatherAugmented(batch, x.Data, t.y[:bs], 4, t.augment)
		} else {
			t.train.Gather(batch, x.Data, t.y[:bs])
		}
		loss, ok := t.step(x, t.y[:bs])
		if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
			return results.Epoch{}, &divergedError{results.Divergence{Epoch: e, Step: s, Reason: "non-finite training loss"}}
		}
		lossSum += float64(loss) * float64(bs)
		correct += ok
		seen += bs
		if t.progress != nil && time.Since(lastReport) >= progressEvery {
			lastReport = time.Now()
			t.progress("[%s] epoch %d/%d  step %d/%d  train loss %.4f acc %.2f%%  %.0fs\n", t.spec.ID(), e, t.spec.Epochs,
				s, steps, lossSum/float64(seen), 100*float64(correct)/float64(seen), time.Since(start).Seconds())
		}
	}
	if i, ok := firstNonFinite(t.params); !ok {
		return results.Epoch{}, &divergedError{results.Divergence{Epoch: e, Step: steps, Reason: "non-finite value in parameter " + t.params[i].Name}}
	}
	testLoss, testAcc := t.evaluate()
	ep := results.Epoch{
		Epoch: e, TrainLoss: lossSum / float64(seen), TrainAccuracy: 100 * float64(correct) / float64(seen),
		TestLoss: testLoss, TestAccuracy: testAcc, Seconds: time.Since(start).Seconds(),
		Diagnostics: t.opt.Diagnostics(),
	}
	if math.IsNaN(testLoss) || math.IsInf(testLoss, 0) {
		return ep, &divergedError{results.Divergence{Epoch: e, Step: steps, Reason: "non-finite test loss"}}
	}
	return ep, nil
}

// batchTensor returns the input tensor for a batch of bs examples, reusing
// the buffer (a shorter last batch is a view of the same memory).
func (t *trainer) batchTensor(bs int) *engine.Tensor {
	if bs == t.x.Shape[0] {
		return t.x
	}
	v := *t.x
	v.Shape = []int{bs, t.x.Shape[1], t.x.Shape[2], t.x.Shape[3]}
	v.Data = t.x.Data[:bs*t.train.Sample()]
	v.Grad = nil
	return &v
}

// step runs forward, backward and the optimizer on one batch.
func (t *trainer) step(x *engine.Tensor, y []int32) (float32, int) {
	engine.ZeroGrads(t.params)
	t.tape.Reset()
	logits := t.model.Forward(t.tape, x)
	loss, correct := engine.CrossEntropy(t.tape, logits, y)
	t.tape.Backward(loss)
	if err := t.opt.Step(); err != nil {
		return float32(math.NaN()), correct
	}
	return loss.Data[0], correct
}

// evaluate returns the mean test loss and accuracy (percent) in eval mode.
func (t *trainer) evaluate() (float64, float64) {
	n := t.test.N
	idx := make([]int, 0, evalBatch)
	var lossSum float64
	correct := 0
	for lo := 0; lo < n; lo += evalBatch {
		hi := min(lo+evalBatch, n)
		idx = idx[:0]
		for i := lo; i < hi; i++ {
			idx = append(idx, i)
		}
		bs := hi - lo
		x := t.evalX
		if bs != evalBatch {
			v := *t.evalX
			v.Shape = []int{bs, x.Shape[1], x.Shape[2], x.Shape[3]}
			v.Data = x.Data[:bs*t.test.Sample()]
			x = &v
		}
		t.test.Gather(idx, x.Data, t.evalY[:bs])
		t.evalTape.Reset()
		logits := t.model.Forward(t.evalTape, x)
		loss, ok := engine.CrossEntropy(t.evalTape, logits, t.evalY[:bs])
		lossSum += float64(loss.Data[0]) * float64(bs)
		correct += ok
	}
	return lossSum / float64(n), 100 * float64(correct) / float64(n)
}

func firstNonFinite(params []engine.Param) (int, bool) {
	for i, p := range params {
		for _, v := range p.T.Data {
			if v-v != 0 {
				return i, false
			}
		}
	}
	return 0, true
}
