package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/repro-np/repro/optimizers"
	"github.com/repro-np/repro/results"
)

// Child-process mode: the test binary re-executed by TestKillMidCheckpointWrite
// trains a study and SIGKILLs itself halfway through writing a checkpoint.
const (
	envChild     = "REPRO_EXPERIMENTS_CHILD" // "<data dir>|<out dir>|<epochs>"
	envKillWrite = "REPRO_EXPERIMENTS_KILL_AT_WRITE"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(envChild); spec != "" {
		os.Exit(childMain(spec))
	}
	os.Exit(m.Run())
}

func childMain(spec string) int {
	parts := strings.Split(spec, "|")
	epochs, _ := strconv.Atoi(parts[2])
	if n, err := strconv.Atoi(os.Getenv(envKillWrite)); err == nil {
		var mu sync.Mutex
		count := 0
		checkpointWriteHook = func(string) {
			mu.Lock()
			defer mu.Unlock()
			if count++; count == n {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
	}
	_, err := Run(context.Background(), tinyStudy(epochs), Options{DataDir: parts[0], Out: parts[1], Jobs: 2})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// tinyStudy is fashion-ablation cut down to a fraction of a second per epoch:
// both variants, two seeds.
func tinyStudy(epochs int) *Study {
	s := FashionAblation()
	s.Seeds = []int{41, 42}
	s.Epochs = epochs
	s.TrainLimit = 200
	s.TestLimit = 100
	s.BatchSize = 32
	return s
}

// comparable strips the wall-clock fields, the only ones allowed to differ
// between an interrupted and an uninterrupted run.
func comparable(r results.Run) string {
	r.TrainSeconds = 0
	r.Epochs = append([]results.Epoch(nil), r.Epochs...)
	for i := range r.Epochs {
		r.Epochs[i].Seconds = 0
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// assertSameStudy checks that two output directories hold the same runs:
// equal records (except timings) and bitwise equal checkpoints (model,
// optimizer state and random streams).
func assertSameStudy(t *testing.T, s *Study, want, got string) {
	t.Helper()
	for _, spec := range Expand(s) {
		id := spec.ID()
		wr, err := results.ReadRun(filepath.Join(RunDir(want, spec), results.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		gr, err := results.ReadRun(filepath.Join(RunDir(got, spec), results.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		if gr.Status != results.StatusComplete || comparable(wr) != comparable(gr) {
			t.Fatalf("%s: records differ:\n want %s\n got  %s", id, comparable(wr), comparable(gr))
		}
		wc, err := ReadCheckpoint(filepath.Join(RunDir(want, spec), CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		gc, err := ReadCheckpoint(filepath.Join(RunDir(got, spec), CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		assertSameTensors(t, wc.Tensors, gc.Tensors)
		for _, k := range []string{"epoch", "spec_hash", "optim.scalars", "rng.order", "rng.augment", "rng.dropout.counter"} {
			if wc.Meta[k] != gc.Meta[k] {
				t.Errorf("%s: checkpoint %s = %q, want %q", id, k, gc.Meta[k], wc.Meta[k])
			}
		}
	}
}

func runStudy(t *testing.T, s *Study, data, out string, opts Options) (*Outcome, string) {
	t.Helper()
	var log bytes.Buffer
	opts.DataDir, opts.Out, opts.Progress = data, out, &log
	if opts.Jobs == 0 {
		opts.Jobs = 2
	}
	res, err := Run(context.Background(), s, opts)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	return res, log.String()
}

func TestCheckpointRestoreContinuesExactly(t *testing.T) {
	data := writeFakeFashion(t, 300, 100)
	s := tinyStudy(3)
	train, test, err := LoadData(s, data)
	if err != nil {
		t.Fatal(err)
	}
	spec := Expand(s)[1] // full NeuroPlastic: every trace matters
	a, err := newTrainer(spec, train, test)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := a.runEpoch(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.record.Epochs = append(a.record.Epochs, ep)
	path := filepath.Join(t.TempDir(), CheckpointFile)
	if err := a.saveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch != 1 || c.SpecHash != spec.Hash() {
		t.Fatalf("checkpoint epoch %d hash %s", c.Epoch, c.SpecHash)
	}
	w, ok := c.Tensor("1.weight")
	if !ok || !slices.Equal(w.Shape, []int{256, 784}) {
		t.Fatalf("1.weight: %v %v", ok, w.Shape)
	}
	if tr, ok := c.Tensor("optim.param.0.trace"); !ok || !slices.Equal(tr.Shape, []int{256, 784}) {
		t.Fatalf("optim.param.0.trace: %v %v", ok, tr.Shape)
	}
	b, err := newTrainer(spec, train, test)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.restore(c, path); err != nil {
		t.Fatal(err)
	}
	for e := 2; e <= 3; e++ {
		ea, err1 := a.runEpoch(e, nil)
		eb, err2 := b.runEpoch(e, nil)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		ea.Seconds, eb.Seconds = 0, 0
		if fmt.Sprint(ea) != fmt.Sprint(eb) {
			t.Fatalf("epoch %d after restore: %+v, uninterrupted %+v", e, eb, ea)
		}
	}
	for i := range a.params {
		for j, v := range a.params[i].T.Data {
			if math.Float32bits(v) != math.Float32bits(b.params[i].T.Data[j]) {
				t.Fatalf("%s[%d] differs after restore", a.params[i].Name, j)
			}
		}
	}
}

func TestRestoreRejectsMismatches(t *testing.T) {
	data := writeFakeFashion(t, 300, 100)
	s := tinyStudy(2)
	train, test, _ := LoadData(s, data)
	specs := Expand(s)
	a, _ := newTrainer(specs[1], train, test)
	path := filepath.Join(t.TempDir(), CheckpointFile)
	if err := a.saveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newTrainer(specs[3], train, test) // another seed
	if err := other.restore(c, path); err == nil || !strings.Contains(err.Error(), "written for spec") {
		t.Errorf("restoring another spec's checkpoint: %v", err)
	}
	fresh, _ := newTrainer(specs[1], train, test)
	before := append([]float32(nil), fresh.params[0].T.Data...)
	c.Tensors = c.Tensors[1:] // drop 1.weight
	if err := fresh.restore(c, path); err == nil || !strings.Contains(err.Error(), `"1.weight" is missing`) {
		t.Errorf("restoring without 1.weight: %v", err)
	}
	c.Tensors = append(c.Tensors, Tensor{Name: "1.weight", Shape: []int{784, 256}, Data: make([]float32, 784*256)})
	if err := fresh.restore(c, path); err == nil || !strings.Contains(err.Error(), "has shape [784 256], expected [256 784]") {
		t.Errorf("restoring a transposed 1.weight: %v", err)
	}
	if fmt.Sprint(before[:8]) != fmt.Sprint(fresh.params[0].T.Data[:8]) {
		t.Errorf("a failed restore changed the parameters")
	}
	// A corrupt file is refused with its name.
	raw, _ := os.ReadFile(path)
	os.WriteFile(path, raw[:len(raw)-10], 0o644)
	if _, err := ReadCheckpoint(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("reading a truncated checkpoint: %v", err)
	}
}

func TestRunResumesSkipsAndStartsOver(t *testing.T) {
	data := writeFakeFashion(t, 300, 100)
	ref := t.TempDir()
	s := tinyStudy(3)
	runStudy(t, s, data, ref, Options{})

	// Cancel after the second epoch of some run, then resume.
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfter{marker: "epoch 2/3", cancel: cancel}
	_, err := Run(ctx, tinyStudy(3), Options{DataDir: data, Out: out, Jobs: 2, Progress: w})
	if err != context.Canceled {
		t.Fatalf("cancelled Run returned %v", err)
	}
	_, log := runStudy(t, tinyStudy(3), data, out, Options{})
	if !strings.Contains(log, "resuming after epoch") {
		t.Errorf("second Run did not resume:\n%s", log)
	}
	assertSameStudy(t, s, ref, out)

	// Everything complete: a third Run trains nothing and gives the same summary.
	res, log := runStudy(t, tinyStudy(3), data, out, Options{})
	if strings.Count(log, "already complete") != 4 || strings.Contains(log, "epoch 1/3") {
		t.Errorf("third Run should skip all 4 runs:\n%s", log)
	}
	if len(res.Runs) != 4 || res.Summary.Included != 4 {
		t.Errorf("summary of skipped runs: %d runs, %d included", len(res.Runs), res.Summary.Included)
	}
	if st, err := ReadStudy(out); err != nil || st.Epochs != 3 || len(st.Variants) != 2 {
		t.Errorf("study.json: %+v, %v", st, err)
	}

	// A changed spec (more epochs) is a new run; the old files move aside.
	s4 := tinyStudy(4)
	s4.Seeds = []int{41}
	_, log = runStudy(t, s4, data, out, Options{})
	if strings.Count(log, "moved to") != 2 {
		t.Errorf("changed spec should move 2 runs aside:\n%s", log)
	}
	stale, _ := filepath.Glob(filepath.Join(out, StaleDir, "*"))
	if len(stale) != 2 {
		t.Errorf("stale dirs: %v", stale)
	}
	r, err := results.ReadRun(filepath.Join(RunDir(out, Expand(s4)[0]), results.MetricsFile))
	if err != nil || len(r.Epochs) != 4 || r.SpecHash != Expand(s4)[0].Hash() {
		t.Errorf("new run record: %d epochs, hash %s, %v", len(r.Epochs), r.SpecHash, err)
	}

	// --fresh retrains this study's runs.
	_, log = runStudy(t, s4, data, out, Options{Fresh: true})
	if !strings.Contains(log, "--fresh: removed 2") || strings.Count(log, "epoch 4/4") != 2 {
		t.Errorf("--fresh did not start over:\n%s", log)
	}
}

// cancelAfter cancels when the progress output contains marker.
type cancelAfter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.marker) {
		c.cancel()
	}
	return len(p), nil
}

func TestKillMidCheckpointWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	data := writeFakeFashion(t, 300, 100)
	ref := t.TempDir()
	s := tinyStudy(3)
	runStudy(t, s, data, ref, Options{})

	out := t.TempDir()
	// 4 runs x 3 epochs = 12 checkpoint writes; die inside three of them.
	for _, n := range []int{3, 2, 4} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+data+"|"+out+"|3", envKillWrite+"="+strconv.Itoa(n))
		outp, err := cmd.CombinedOutput()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child should die by SIGKILL mid-write, got %v\n%s", err, outp)
		}
		temps, _ := filepath.Glob(filepath.Join(out, "runs", "*", ".checkpoint.safetensors.tmp*"))
		if len(temps) == 0 {
			t.Fatalf("no half-written checkpoint left by the killed child")
		}
		// Every checkpoint on disk is whole and not behind its record.
		for _, spec := range Expand(s) {
			st := InspectRun(out, spec)
			if st.Err != nil {
				t.Fatalf("after kill %d: %v", n, st.Err)
			}
			if st.Record != nil && st.HasCheckpoint && st.Epochs < len(st.Record.Epochs) {
				t.Fatalf("%s: checkpoint at epoch %d behind record with %d", spec.ID(), st.Epochs, len(st.Record.Epochs))
			}
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+data+"|"+out+"|3")
	if outp, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("resuming child: %v\n%s", err, outp)
	}
	if temps, _ := filepath.Glob(filepath.Join(out, "runs", "*", ".*.tmp*")); len(temps) != 0 {
		t.Errorf("temporary files left after resume: %v", temps)
	}
	assertSameStudy(t, s, ref, out)
}

func TestDivergedRunIsReportedAndNotRetried(t *testing.T) {
	data := writeFakeFashion(t, 300, 100)
	s := tinyStudy(3)
	s.Seeds = []int{41}
	bad := optimizers.DefaultConfig(optimizers.NameSGD)
	bad.LR = 1e30
	s.Variants = append(s.Variants, Variant{Name: "exploding", Optimizer: bad})
	out := t.TempDir()
	res, log := runStudy(t, s, data, out, Options{})
	if !strings.Contains(log, "[exploding-seed41] diverged at epoch 1") {
		t.Errorf("no divergence line:\n%s", log)
	}
	var found bool
	for _, r := range res.Summary.Runs {
		if r.Variant == "exploding" {
			found = true
			if r.Status != results.StatusDiverged || r.Included || r.Diverged == nil {
				t.Errorf("summary run: %+v", r)
			}
		}
	}
	if !found || res.Summary.Excluded != 1 || res.Summary.Included != 2 {
		t.Errorf("summary: found %v, included %d excluded %d", found, res.Summary.Included, res.Summary.Excluded)
	}
	_, log = runStudy(t, s, data, out, Options{})
	if !strings.Contains(log, "[exploding-seed41] already diverged") {
		t.Errorf("second run retried the diverged run:\n%s", log)
	}
}

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	l, note, err := LockDir(dir)
	if err != nil || note != "" {
		t.Fatalf("LockDir: %v %q", err, note)
	}
	_, _, err = LockDir(dir)
	want := fmt.Sprintf("PID %d", os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "in use by another repro run") {
		t.Fatalf("second LockDir: %v, want an error naming %s", err, want)
	}
	if info, alive, ok := ReadLock(dir); !ok || !alive || info.PID != os.Getpid() {
		t.Errorf("ReadLock: %+v alive %v ok %v", info, alive, ok)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !os.IsNotExist(err) {
		t.Errorf("lock file left after Unlock: %v", err)
	}

	// A lock file left by a process that died is taken over with a note.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("cannot start a process:", err)
	}
	pid := dead.ProcessState.Pid()
	host, _ := os.Hostname()
	os.WriteFile(filepath.Join(dir, LockFile), []byte(fmt.Sprintf(`{"pid":%d,"host":%q,"started":"then"}`, pid, host)), 0o644)
	if _, alive, _ := ReadLock(dir); alive {
		t.Errorf("ReadLock says dead PID %d is alive", pid)
	}
	l, note, err = LockDir(dir)
	if err != nil || !strings.Contains(note, fmt.Sprintf("stale lock %s of PID %d", filepath.Join(dir, LockFile), pid)) {
		t.Fatalf("taking over a stale lock: %v, note %q", err, note)
	}
	l.Unlock()
}
