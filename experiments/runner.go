package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
}

// DefaultDataDir is where a dataset is looked for when no directory is given.
func DefaultDataDir(dataset string) string {
	switch dataset {
	case "fashion-mnist":
		return datasets.DefaultFashionMNISTDir
	default:
		return filepath.Join("data", dataset)
	}
}

// LoadData loads a study's dataset, applying its train and test limits.
func LoadData(s *Study, dir string) (train, test *datasets.Dataset, err error) {
	if dir == "" {
		dir = DefaultDataDir(s.Dataset)
	}
	switch s.Dataset {
	case "fashion-mnist":
		train, test, err = datasets.LoadFashionMNIST(dir)
	case "mnist":
		train, test, err = datasets.LoadMNIST(dir)
	case "cifar10":
		train, test, err = datasets.LoadCIFAR10(dir)
	default:
		err = fmt.Errorf("unknown dataset %q", s.Dataset)
	}
	if err != nil {
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

// Run trains every run of the study (skipping none: resume is handled by
// the caller through the checkpoint layer) and writes per-run metrics and
// the study summary under opts.Out.
func Run(ctx context.Context, s *Study, opts Options) (*Outcome, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	train, test, err := LoadData(s, opts.DataDir)
	if err != nil {
		return nil, err
	}
	specs := Expand(s)
	for i := range specs {
		if specs[i].Shots > 0 {
			if err := checkShots(train, specs[i].Shots); err != nil {
				return nil, err
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(opts.Out, "runs"), 0o755); err != nil {
		return nil, fmt.Errorf("creating output directory: %w", err)
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	jobs = min(jobs, len(specs))
	threads := opts.Threads
	if threads <= 0 {
		threads = max(1, runtime.GOMAXPROCS(0)/jobs)
	}
	kernels.SetThreads(threads)
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
	logf("%s: %d runs (%d variants x %d seeds%s), %d at a time, %d kernel threads each; output in %s\n",
		s.Name, len(specs), len(s.Variants), len(s.Seeds), groupNote(s), jobs, threads, opts.Out)

	records := make([]results.Run, len(specs))
	errs := make([]error, len(specs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				records[i], errs[i] = trainRun(ctx, specs[i], train, test, opts.Out, logf)
			}
		}()
	}
	for i := range specs {
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

// trainRun trains one run to completion, writing its metrics after every epoch.
func trainRun(ctx context.Context, spec RunSpec, train, test *datasets.Dataset, out string,
	logf func(string, ...any)) (results.Run, error) {
	t, err := newTrainer(spec, train, test)
	if err != nil {
		return results.Run{}, err
	}
	dir := filepath.Join(out, "runs", spec.ID())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return t.record, fmt.Errorf("creating %s: %w", dir, err)
	}
	start := time.Now()
	stop := func() bool { return ctx.Err() != nil }
	for e := len(t.record.Epochs) + 1; e <= spec.Epochs; e++ {
		ep, err := t.runEpoch(e, stop)
		var div *divergedError
		switch {
		case errors.As(err, &div):
			t.record.Status = results.StatusDiverged
			t.record.Diverged = &div.d
			logf("[%s] %v\n", spec.ID(), err)
			t.record.TrainSeconds += time.Since(start).Seconds()
			return t.record, writeJSON(filepath.Join(dir, "metrics.json"), t.record)
		case err != nil:
			return t.record, err
		}
		t.record.Epochs = append(t.record.Epochs, ep)
		if e == spec.Epochs {
			t.record.Status = results.StatusComplete
		}
		t.record.TrainSeconds = time.Since(start).Seconds()
		if err := writeJSON(filepath.Join(dir, "metrics.json"), t.record); err != nil {
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
	return WriteFileAtomic(path, append(b, '\n'))
}

// WriteFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, never a torn one.
func WriteFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
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
	return nil
}
