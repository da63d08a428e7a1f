package experiments

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/repro-np/repro/results"
)

// StudyFile is the resolved study Run stores in the output directory, so
// that `repro status` knows which runs to expect.
const StudyFile = "study.json"

// StaleDir is where Run moves the directory of a run whose files were
// written for a different spec (runs/<id> -> stale/<id>-<old hash>), so
// they are kept for inspection but never mixed into this study's results.
const StaleDir = "stale"

// StatusStale marks a run directory that holds another spec's files.
const StatusStale = "stale"

// RunState is what an output directory holds for one expected run.
type RunState struct {
	Spec RunSpec
	// Status is results.StatusComplete, StatusPartial, StatusDiverged,
	// StatusMissing or StatusStale.
	Status string
	// Epochs is the number of completed epochs that a resume continues
	// from (the checkpoint's), or the record's for complete and diverged runs.
	Epochs   int
	Diverged *results.Divergence
	// Record is the run's metrics.json when it belongs to this spec.
	Record *results.Run
	// HasCheckpoint says a checkpoint of this spec was found.
	HasCheckpoint bool
	// OtherHash is the spec hash found when Status is StatusStale.
	OtherHash string
	// Err is set when the run's files cannot be read.
	Err error
}

// RunDir is the directory of a run's files.
func RunDir(out string, spec RunSpec) string {
	return filepath.Join(out, results.RunsDir, spec.ID())
}

// InspectRun reports the state of spec's run in the output directory out.
// The checkpoint decides how far a partial run got: it is written before
// metrics.json, so it is never behind it.
func InspectRun(out string, spec RunSpec) RunState {
	st := RunState{Spec: spec, Status: results.StatusMissing}
	dir := RunDir(out, spec)
	hash := spec.Hash()
	var rec *results.Run
	mpath := filepath.Join(dir, results.MetricsFile)
	if _, err := os.Stat(mpath); err == nil {
		r, err := results.ReadRun(mpath)
		if err != nil {
			// metrics.json is written atomically, so this is not a crash
			// leftover: do not guess, say what is wrong.
			st.Err = fmt.Errorf("%w (remove %s or start over with --fresh)", err, dir)
			return st
		}
		rec = &r
	}
	var ck *Checkpoint
	cpath := filepath.Join(dir, CheckpointFile)
	if _, err := os.Stat(cpath); err == nil {
		c, err := ReadCheckpointHeader(cpath)
		if err != nil {
			st.Err = fmt.Errorf("%w (remove %s or start over with --fresh)", err, dir)
			return st
		}
		ck = c
	}
	switch {
	case rec != nil && rec.SpecHash != hash:
		st.Status, st.OtherHash = StatusStale, rec.SpecHash
		return st
	case ck != nil && ck.SpecHash != hash:
		st.Status, st.OtherHash = StatusStale, ck.SpecHash
		return st
	}
	st.Record = rec
	st.HasCheckpoint = ck != nil
	switch {
	case rec != nil && rec.Status == results.StatusDiverged:
		st.Status, st.Epochs, st.Diverged = results.StatusDiverged, len(rec.Epochs), rec.Diverged
	case rec != nil && rec.Status == results.StatusComplete && len(rec.Epochs) == spec.Epochs:
		st.Status, st.Epochs = results.StatusComplete, len(rec.Epochs)
	case ck != nil:
		st.Status, st.Epochs = results.StatusPartial, ck.Epoch
	case rec != nil:
		// A record without a checkpoint cannot be continued: the run
		// starts over, so it counts as started but with nothing to keep.
		st.Status = results.StatusPartial
	}
	return st
}

// resumable reports whether a run continues from its checkpoint.
func (st *RunState) resumable() bool {
	return st.Status == results.StatusPartial && st.HasCheckpoint
}

// done reports whether the run needs no training.
func (st *RunState) done() bool {
	return st.Status == results.StatusComplete || st.Status == results.StatusDiverged
}

// moveAside moves a stale run directory to <out>/stale/<id>-<hash>[-n].
func moveAside(out string, st RunState) (string, error) {
	if err := os.MkdirAll(filepath.Join(out, StaleDir), 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", filepath.Join(out, StaleDir), err)
	}
	base := filepath.Join(out, StaleDir, st.Spec.ID()+"-"+st.OtherHash)
	dst := base
	for n := 2; ; n++ {
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dst = base + "-" + strconv.Itoa(n)
	}
	if err := os.Rename(RunDir(out, st.Spec), dst); err != nil {
		return "", fmt.Errorf("moving the run of another spec aside: %w", err)
	}
	return dst, nil
}

// removeTemps deletes temporary files a killed writer left in dir.
func removeTemps(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp") && !e.IsDir() {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// WriteStudy stores the resolved study in out/study.json.
func WriteStudy(out string, s *Study) error {
	return writeJSON(filepath.Join(out, StudyFile), s)
}

// ReadStudy reads the study a `repro run` stored in out.
func ReadStudy(out string) (*Study, error) {
	path := filepath.Join(out, StudyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s here (it is written when `repro run` starts); is this a repro output directory?", out, StudyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("reading study: %w", err)
	}
	var s Study
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: expected the JSON study written by repro run: %v", path, err)
	}
	if s.Name == "" {
		return nil, fmt.Errorf("%s: expected a study with a non-empty \"name\"", path)
	}
	return &s, nil
}
