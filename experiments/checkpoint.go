package experiments

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/repro-np/repro/engine"
	"github.com/repro-np/repro/optimizers"
	"github.com/repro-np/repro/results"
)

// CheckpointFile is the name of a run's checkpoint inside runs/<id>/.
//
// A checkpoint is a safetensors file holding the run's state at the end of
// an epoch:
//
//	<name>                 every model parameter and buffer under its PyTorch
//	                       name ("1.weight", "layer1.0.bn1.running_mean"), so
//	                       the non-"optim." tensors load with load_state_dict
//	optim.<name>           every optimizer state tensor, named as in
//	                       optimizers.State ("optim.param.0.trace")
//
// and in its __metadata__ (all strings):
//
//	format                 CheckpointFormat
//	run, spec_hash, spec   the run's ID, spec hash and resolved spec (JSON)
//	epoch                  completed epochs
//	optimizer              the optimizer's name
//	optim.scalars          the optimizer's scalars (JSON object)
//	rng.order, rng.augment the PCG states of the shuffling and augmentation
//	                       streams (base64 of MarshalBinary)
//	rng.dropout.key, rng.dropout.counter  the counter-based dropout stream
//	record                 the run record (metrics.json) up to this epoch
const CheckpointFile = "checkpoint.safetensors"

// CheckpointFormat names the checkpoint layout; it changes when the layout does.
const CheckpointFormat = "repro-checkpoint/1"

// optimPrefix prefixes optimizer state tensors in a checkpoint.
const optimPrefix = "optim."

// Checkpoint is a checkpoint as read back from disk.
type Checkpoint struct {
	SpecHash string
	Epoch    int
	// Tensors in file order; data is empty when only the header was read.
	Tensors []Tensor
	Meta    map[string]string
	Record  results.Run
}

// Tensor returns the named tensor, or false.
func (c *Checkpoint) Tensor(name string) (Tensor, bool) {
	for _, t := range c.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// ReadCheckpoint reads a whole checkpoint file.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	tensors, meta, err := DecodeSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return newCheckpoint(path, tensors, meta)
}

// ReadCheckpointHeader reads a checkpoint's metadata and tensor shapes
// without its data.
func ReadCheckpointHeader(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	tensors, meta, err := ReadSafetensorsHeader(bufio.NewReader(f), fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return newCheckpoint(path, tensors, meta)
}

func newCheckpoint(path string, tensors []Tensor, meta map[string]string) (*Checkpoint, error) {
	bad := func(format string, args ...any) (*Checkpoint, error) {
		return nil, fmt.Errorf("%s: not a usable repro checkpoint: %s", path, fmt.Sprintf(format, args...))
	}
	if f := meta["format"]; f != CheckpointFormat {
		return bad("metadata format is %q, expected %q", f, CheckpointFormat)
	}
	c := &Checkpoint{SpecHash: meta["spec_hash"], Tensors: tensors, Meta: meta}
	if c.SpecHash == "" {
		return bad("metadata has no spec_hash")
	}
	e, err := strconv.Atoi(meta["epoch"])
	if err != nil || e < 0 {
		return bad("metadata epoch %q is not a non-negative integer", meta["epoch"])
	}
	c.Epoch = e
	if err := json.Unmarshal([]byte(meta["record"]), &c.Record); err != nil {
		return bad("metadata record is not a JSON run record: %v", err)
	}
	if len(c.Record.Epochs) != e {
		return bad("record holds %d epochs, metadata epoch says %d", len(c.Record.Epochs), e)
	}
	if c.Record.SpecHash != c.SpecHash {
		return bad("record spec_hash %q differs from metadata spec_hash %q", c.Record.SpecHash, c.SpecHash)
	}
	return c, nil
}

// checkpointState collects the trainer's state as tensors and metadata. The
// model's tensors are referenced, not copied.
func (t *trainer) checkpointState() ([]Tensor, map[string]string, error) {
	var ts []Tensor
	for _, p := range t.params {
		ts = append(ts, Tensor{Name: p.Name, Shape: p.T.Shape, Data: p.T.Data})
	}
	for _, b := range t.model.Buffers() {
		ts = append(ts, Tensor{Name: b.Name, Shape: b.T.Shape, Data: b.T.Data})
	}
	st := t.opt.State()
	for _, o := range st.Tensors {
		ts = append(ts, Tensor{Name: optimPrefix + o.Name, Shape: o.Shape, Data: o.Data})
	}
	scalars, err := json.Marshal(st.Scalars)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding optimizer scalars: %w", err)
	}
	order, err := t.order.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	augment, err := t.augment.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	spec, err := json.Marshal(&t.spec)
	if err != nil {
		return nil, nil, err
	}
	record, err := json.Marshal(&t.record)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding run record: %w", err)
	}
	meta := map[string]string{
		"format":              CheckpointFormat,
		"run":                 t.spec.ID(),
		"spec_hash":           t.spec.Hash(),
		"spec":                string(spec),
		"epoch":               strconv.Itoa(len(t.record.Epochs)),
		"optimizer":           t.opt.Name(),
		"optim.scalars":       string(scalars),
		"rng.order":           base64.StdEncoding.EncodeToString(order),
		"rng.augment":         base64.StdEncoding.EncodeToString(augment),
		"rng.dropout.key":     strconv.FormatUint(t.dropout.Key, 10),
		"rng.dropout.counter": strconv.FormatUint(t.dropout.Counter, 10),
		"record":              string(record),
	}
	return ts, meta, nil
}

// saveCheckpoint writes the trainer's state to path atomically and durably.
func (t *trainer) saveCheckpoint(path string) error {
	ts, meta, err := t.checkpointState()
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return writeFileSynced(path, func(w io.Writer) error { return WriteSafetensors(w, ts, meta) })
}

// restore loads a checkpoint into a trainer freshly built from the same
// spec. Everything is checked before anything changes, so on error the
// trainer is still the fresh one.
func (t *trainer) restore(c *Checkpoint, path string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: cannot resume from this checkpoint: %s", path, fmt.Sprintf(format, args...))
	}
	if want := t.spec.Hash(); c.SpecHash != want {
		return bad("it was written for spec %s, this run's spec is %s", c.SpecHash, want)
	}
	if c.Epoch > t.spec.Epochs {
		return bad("it is at epoch %d of a %d-epoch run", c.Epoch, t.spec.Epochs)
	}
	if name := c.Meta["optimizer"]; name != t.opt.Name() {
		return bad("optimizer %q, expected %q", name, t.opt.Name())
	}
	byName := map[string]Tensor{}
	for _, ts := range c.Tensors {
		byName[ts.Name] = ts
	}
	used := map[string]bool{}
	take := func(name string, shape []int) ([]float32, error) {
		ts, ok := byName[name]
		if !ok {
			return nil, bad("tensor %q is missing", name)
		}
		if !slices.Equal(ts.Shape, shape) {
			return nil, bad("tensor %q has shape %v, expected %v", name, ts.Shape, shape)
		}
		used[name] = true
		return ts.Data, nil
	}
	var model [][]float32
	var dst [][]float32
	for _, p := range t.params {
		d, err := take(p.Name, p.T.Shape)
		if err != nil {
			return err
		}
		model, dst = append(model, d), append(dst, p.T.Data)
	}
	for _, b := range t.model.Buffers() {
		d, err := take(b.Name, b.T.Shape)
		if err != nil {
			return err
		}
		model, dst = append(model, d), append(dst, b.T.Data)
	}
	var st optimizers.State
	for _, ts := range c.Tensors {
		if name, ok := strings.CutPrefix(ts.Name, optimPrefix); ok {
			st.Tensors = append(st.Tensors, optimizers.NamedTensor{Name: name, Shape: ts.Shape, Data: ts.Data})
			used[ts.Name] = true
		}
	}
	for _, ts := range c.Tensors {
		if !used[ts.Name] {
			return bad("unexpected tensor %q (a different model?)", ts.Name)
		}
	}
	if err := json.Unmarshal([]byte(c.Meta["optim.scalars"]), &st.Scalars); err != nil {
		return bad("optim.scalars is not a JSON object of numbers: %v", err)
	}
	order, augment := engine.NewRNG(0, engine.StreamOrder), engine.NewRNG(0, engine.StreamAugment)
	for _, r := range []struct {
		key string
		rng *engine.RNG
	}{{"rng.order", order}, {"rng.augment", augment}} {
		b, err := base64.StdEncoding.DecodeString(c.Meta[r.key])
		if err != nil {
			return bad("%s is not base64: %v", r.key, err)
		}
		if err := r.rng.UnmarshalBinary(b); err != nil {
			return bad("%s: %v", r.key, err)
		}
	}
	key, err1 := strconv.ParseUint(c.Meta["rng.dropout.key"], 10, 64)
	counter, err2 := strconv.ParseUint(c.Meta["rng.dropout.counter"], 10, 64)
	if err1 != nil || err2 != nil {
		return bad("rng.dropout.key %q and rng.dropout.counter %q must be unsigned integers",
			c.Meta["rng.dropout.key"], c.Meta["rng.dropout.counter"])
	}
	if key != t.dropout.Key {
		return bad("dropout stream key %d, this run's is %d", key, t.dropout.Key)
	}
	// LoadState checks everything before it copies, so it goes last among
	// the checks; nothing below can fail.
	if err := t.opt.LoadState(st); err != nil {
		return bad("%v", err)
	}
	for i := range model {
		copy(dst[i], model[i])
	}
	*t.order, *t.augment = *order, *augment
	t.dropout.Counter = counter
	t.record = c.Record
	return nil
}

// checkpointWriteHook, when set (by tests), is called halfway through
// writing a checkpoint's temporary file, to simulate a crash mid-write.
var checkpointWriteHook func(path string)

// writeFileSynced replaces path with what write produces: a temporary file
// in the same directory, synced, renamed over path, and the directory
// synced, so after a crash path is either the old file or the new one and
// a completed write survives power loss.
func writeFileSynced(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	w := bufio.NewWriterSize(f, 1<<20)
	var hw io.Writer = w
	if checkpointWriteHook != nil {
		hw = &hookWriter{w: w, after: 1 << 16, hook: func() { w.Flush(); checkpointWriteHook(path) }}
	}
	err = write(hw)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := results.SyncDir(dir); err != nil {
		return fmt.Errorf("writing %s: syncing its directory: %w", path, err)
	}
	return nil
}

// hookWriter calls hook once, after the first `after` bytes.
type hookWriter struct {
	w     io.Writer
	n     int
	after int
	hook  func()
}

func (h *hookWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.n += n
	if h.hook != nil && h.n >= h.after {
		hook := h.hook
		h.hook = nil
		hook()
	}
	return n, err
}
