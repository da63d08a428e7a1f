package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// File names inside a study directory.
const (
	RunsDir     = "runs"
	MetricsFile = "metrics.json"
	SummaryJSON = "summary.json"
	SummaryCSV  = "summary.csv"
	RunsCSV     = "runs.csv"
	SummaryMD   = "summary.md"
)

// ReadRun reads one metrics.json run record.
func ReadRun(path string) (Run, error) {
	var r Run
	b, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("reading run record: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: expected a JSON run record (experiment, variant, seed, status, epochs): %v", path, err)
	}
	if r.Variant == "" {
		return r, fmt.Errorf("%s: expected a non-empty \"variant\"", path)
	}
	for i, e := range r.Epochs {
		if e.Epoch < 0 {
			return r, fmt.Errorf("%s: epochs[%d]: expected a non-negative epoch number, got %d", path, i, e.Epoch)
		}
	}
	return r, nil
}

// ReadRuns reads every <dir>/runs/*/metrics.json, in directory-name order.
// It fails on the first malformed record, naming the file, and when there
// is no record at all.
func ReadRuns(dir string) ([]Run, error) {
	runsDir := filepath.Join(dir, RunsDir)
	entries, err := os.ReadDir(runsDir)
	if err != nil {
		return nil, fmt.Errorf("reading runs of study %s: %w", dir, err)
	}
	var runs []Run
	for _, e := range entries { // os.ReadDir sorts by name
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(runsDir, e.Name(), MetricsFile)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue // a run that has not written its record yet
		}
		r, err := ReadRun(p)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%s: expected run records in runs/<run-id>/%s, found none", dir, MetricsFile)
	}
	return runs, nil
}

// ReadSummary reads a summary.json written by WriteFiles.
func ReadSummary(path string) (*Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading summary: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: expected a JSON study summary: %v", path, err)
	}
	if s.Experiment == "" {
		return nil, fmt.Errorf("%s: expected a non-empty \"experiment\"", path)
	}
	return &s, nil
}

// WriteFiles writes summary.json, summary.csv (one row per group and
// variant, with its comparison against the baseline), runs.csv (one row per
// run) and summary.md (every table) into dir. Each file is written to a
// temporary file and renamed into place, so a reader never sees half a file.
func (s *Summary) WriteFiles(dir string) error {
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s for %s: %w", SummaryJSON, s.Experiment, err)
	}
	var sc, rc, md bytes.Buffer
	if err := WriteCSV(&sc, s); err != nil {
		return err
	}
	if err := WriteRunsCSV(&rc, s); err != nil {
		return err
	}
	if err := WriteMarkdown(&md, s); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{SummaryJSON, append(js, '\n')}, {SummaryCSV, sc.Bytes()}, {RunsCSV, rc.Bytes()}, {SummaryMD, md.Bytes()}} {
		if err := WriteFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, never a torn one: a temporary file in the same
// directory (created when needed), written, synced, renamed over path, and
// the directory synced so the rename itself survives a power loss.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
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
	if err == nil {
		err = SyncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// SyncDir makes the renames inside dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// IsStudyDir reports whether dir holds a study: a runs/ directory or a
// summary.json.
func IsStudyDir(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, RunsDir)); err == nil && fi.IsDir() {
		return true
	}
	fi, err := os.Stat(filepath.Join(dir, SummaryJSON))
	return err == nil && !fi.IsDir()
}

// FindStudies returns dir itself when it is a study directory, otherwise
// every study directory below it (not descending into studies), sorted.
func FindStudies(dir string) ([]string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("looking for studies: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: expected a study directory (with runs/ or %s) or a directory holding studies, got a file", dir, SummaryJSON)
	}
	if IsStudyDir(dir) {
		return []string{dir}, nil
	}
	var out []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || p == dir {
			return nil
		}
		if IsStudyDir(p) {
			out = append(out, p)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking for studies in %s: %w", dir, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: expected a study directory (with runs/ or %s) or a directory holding studies, found none", dir, SummaryJSON)
	}
	sort.Strings(out)
	return out, nil
}
