package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/repro-np/repro/datasets"
	"github.com/repro-np/repro/engine/kernels"
	"github.com/repro-np/repro/results"
)

// errStopped is returned when a run was interrupted on request.
var errStopped = errors.New("stopped on request")

// Options are the runner's settings that do not change any run's numbers.
type Options struct {
	DataDir  string    // dataset location; "" uses the dataset's default
	Out      string    // study output directory
	Jobs     int       // runs trained side by side (0: automatic)
	Threads  int       // kernel threads per run (0: cores / jobs)
	Progress io.Writer // per-epoch progress lines (nil: discard)
	// Fresh removes the study's earlier runs instead of resuming them.
	Fresh bool
}

// SettingError is a study setting that cannot work with the data, such as
// more shots than a class has examples; the caller reports it as a usage error.
type SettingError struct{ Err error }

func (e *SettingError) Error() string { return e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// LoadData loads a study's dataset from dir (or the dataset's standard
// location when dir is empty), applying its train and test limits.
func LoadData(s *Study, dir string) (train, test *datasets.Dataset, err error) {
	if train, test, err = datasets.Load(s.Dataset, dir); err != nil {
		return nil, nil, err
	}
	if s.TrainLimit > 0 && s.TrainLimit < train.N {
		train = train.Subset(firstN(s.TrainLimit))
	}
	if s.TestLimit > 0 && s.TestLimit < test.N {
		test = test.Subset(firstN(s.TestLimit))
	}
	return train, test, nil
}

func firstN(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// Outcome is what Run returns: the summary and the records it was built from.
type Outcome struct {
	Summary *results.Summary
	Runs    []results.Run
	Failed  int // runs that ended with an error (diverged runs are not failures)
}

// Run trains the study's runs and writes per-run metrics, checkpoints and
// the study summary under opts.Out, which it locks for its duration (see
// LockDir). Runs already in opts.Out are resumed from their checkpoints or,
// when complete or diverged, skipped; a run directory written for a
// different spec is moved to <out>/stale/ and the run starts over. With
// opts.Fresh the study's earlier runs are removed first. A cancelled ctx
// stops every run between steps; each keeps its last epoch's checkpoint.
func Run(ctx context.Context, s *Study, opts Options) (*Outcome, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(progress, format, args...)
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("creating output directory %s: %w", opts.Out, err)
	}
	lock, note, err := LockDir(opts.Out)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if note != "" {
		logf("note: %s\n", note)
	}
	train, test, err := LoadData(s, opts.DataDir)
	if err != nil {
		return nil, err
	}
	specs := Expand(s)
	for _, k := range s.Shots {
		if err := checkShots(train, k); err != nil {
			return nil, &SettingError{err}
		}
	}
	if err := os.MkdirAll(filepath.Join(opts.Out, results.RunsDir), 0o755); err != nil {
		return nil, fmt.Errorf("creating output directory %s: %w", opts.Out, err)
	}
	if opts.Fresh {
		removed := 0
		for i := range specs {
			dir := RunDir(opts.Out, specs[i])
			if _, err := os.Lstat(dir); err == nil {
				removed++
			}
			if err := os.RemoveAll(dir); err != nil {
				return nil, fmt.Errorf("--fresh: removing %s: %w", dir, err)
			}
		}
		if removed > 0 {
			logf("--fresh: removed %d earlier run(s) of %s\n", removed, s.Name)
		}
	}
	if err := WriteStudy(opts.Out, s); err != nil {
		return nil, err
	}

	// What is already on disk: skip finished runs, resume partial ones.
	records := make([]results.Run, len(specs))
	errs := make([]error, len(specs))
	resume := make([]bool, len(specs))
	var todo []int
	for i := range specs {
		st := InspectRun(opts.Out, specs[i])
		switch {
		case st.Err != nil:
			errs[i] = st.Err
			logf("[%s] %v\n", specs[i].ID(), st.Err)
			continue
		case st.Status == StatusStale:
			dst, err := moveAside(opts.Out, st)
			if err != nil {
				errs[i] = err
				continue
			}
			logf("[%s] files of a different spec (%s) moved to %s; starting over\n", specs[i].ID(), st.OtherHash, dst)
		case st.done():
			records[i] = *st.Record
			logf("[%s] already %s (%d epochs), skipped\n", specs[i].ID(), st.Status, st.Epochs)
			continue
		case st.resumable():
			resume[i] = true
		}
		todo = append(todo, i)
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	jobs = max(1, min(jobs, len(todo)))
	threads := opts.Threads
	if threads <= 0 {
		threads = max(1, runtime.GOMAXPROCS(0)/jobs)
	}
	kernels.SetThreads(threads)
	logf("%s: %d runs (%d variants x %d seeds%s), %d to train, %d at a time, %d kernel threads each; output in %s\n",
		s.Name, len(specs), len(s.Variants), len(s.Seeds), groupNote(s), len(todo), jobs, threads, opts.Out)

	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				records[i], errs[i] = trainRun(ctx, specs[i], train, test, opts.Out, resume[i], logf)
			}
		}()
	}
	for _, i := range todo {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()

	out := &Outcome{}
	var firstErr error
	for i := range specs {
		if errs[i] != nil {
			out.Failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("run %s: %w", specs[i].ID(), errs[i])
			}
		}
		if records[i].Experiment != "" {
			out.Runs = append(out.Runs, records[i])
		}
	}
	out.Summary = results.Summarize(s.Name, s.Baseline, s, out.Runs)
	out.Summary.SpecHash = s.Hash()
	if err := out.Summary.WriteFiles(opts.Out); err != nil {
		return out, err
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, firstErr
}

func groupNote(s *Study) string {
	switch {
	case len(s.Fractions) > 0:
		return fmt.Sprintf(" x %d fractions", len(s.Fractions))
	case len(s.Shots) > 0:
		return fmt.Sprintf(" x %d shot counts", len(s.Shots))
	}
	return ""
}

func checkShots(train *datasets.Dataset, k int) error {
	for c, n := range train.ClassCounts() {
		if n < k {
			return fmt.Errorf("--shots %d is larger than class %d (%s), which has %d training examples", k, c, train.Classes[c], n)
		}
	}
	return nil
}

// trainRun trains one run to completion. After every epoch it writes the
// checkpoint, then metrics.json (so the checkpoint is never behind the
// record). With resume it first restores the run's checkpoint.
func trainRun(ctx context.Context, spec RunSpec, train, test *datasets.Dataset, out string,
	resume bool, logf func(string, ...any)) (results.Run, error) {
	t, err := newTrainer(spec, train, test)
	if err != nil {
		return results.Run{}, err
	}
	t.progress = logf
	dir := RunDir(out, spec)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return t.record, fmt.Errorf("creating %s: %w", dir, err)
	}
	removeTemps(dir)
	ckpt := filepath.Join(dir, CheckpointFile)
	mpath := filepath.Join(dir, results.MetricsFile)
	if resume {
		c, err := ReadCheckpoint(ckpt)
		if err == nil {
			err = t.restore(c, ckpt)
		}
		if err != nil {
			return results.Run{}, fmt.Errorf("%w (remove %s or start over with --fresh)", err, dir)
		}
		logf("[%s] resuming after epoch %d/%d\n", spec.ID(), len(t.record.Epochs), spec.Epochs)
		if len(t.record.Epochs) == spec.Epochs { // killed between checkpoint and record
			return t.record, writeJSON(mpath, t.record)
		}
	} else {
		// Nothing to continue from: drop what an earlier attempt left.
		for _, p := range []string{mpath, ckpt} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return t.record, fmt.Errorf("starting %s over: %w", spec.ID(), err)
			}
		}
	}
	start := time.Now()
	prior := t.record.TrainSeconds
	stop := func() bool { return ctx.Err() != nil }
	for e := len(t.record.Epochs) + 1; e <= spec.Epochs; e++ {
		ep, err := t.runEpoch(e, stop)
		var div *divergedError
		switch {
		case errors.As(err, &div):
			t.record.Status = results.StatusDiverged
			t.record.Diverged = &div.d
			logf("[%s] %v\n", spec.ID(), err)
			t.record.TrainSeconds = prior + time.Since(start).Seconds()
			return t.record, writeJSON(mpath, t.record)
		case err != nil:
			return t.record, err
		}
		t.record.Epochs = append(t.record.Epochs, ep)
		if e == spec.Epochs {
			t.record.Status = results.StatusComplete
		}
		t.record.TrainSeconds = prior + time.Since(start).Seconds()
		if err := t.saveCheckpoint(ckpt); err != nil {
			return t.record, err
		}
		if err := writeJSON(mpath, t.record); err != nil {
			return t.record, err
		}
		logf("[%s] epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  %.1fs\n",
			spec.ID(), e, spec.Epochs, ep.TrainLoss, ep.TrainAccuracy, ep.TestLoss, ep.TestAccuracy, ep.Seconds)
	}
	return t.record, nil
}

// writeJSON writes v to path atomically: a temporary file in the same
// directory, synced, then renamed over path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return results.WriteFileAtomic(path, append(b, '\n'))
}
