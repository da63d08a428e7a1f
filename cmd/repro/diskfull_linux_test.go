package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/repro-np/repro/results"
)

// TestOutputDirectoryFillsUp runs a study into a 256 KB tmpfs: the first
// checkpoint cannot be written. The run must fail with a one-line error
// naming the file and "no space left", exit 1, and leave nothing that looks
// complete. Mounting needs root; elsewhere the test is skipped.
func TestOutputDirectoryFillsUp(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v); needs root", err)
	}
	defer syscall.Unmount(mnt, syscall.MNT_DETACH)
	data := writeFakeFashion(t, 300, 50)
	out := filepath.Join(mnt, "out")
	code, _, stderr := execRepro(t, "run", "fashion-ablation", "--data-dir", data, "--out", out,
		"--train-limit", "200", "--test-limit", "50", "--epochs", "2", "--seeds", "1")
	line := lastLine(stderr)
	if code != 1 || !strings.Contains(line, "no space left on device") || !strings.Contains(line, out) {
		t.Fatalf("exit %d, last line %q; want exit 1 and a line naming the file and the full disk", code, line)
	}
	if strings.Contains(stderr, "panic") {
		t.Fatalf("panicked:\n%s", stderr)
	}
	// Nothing may claim to be complete, and no temporary files are left.
	runs, _ := filepath.Glob(filepath.Join(out, "runs", "*", results.MetricsFile))
	for _, f := range runs {
		r, err := results.ReadRun(f)
		if err == nil && r.Status == results.StatusComplete {
			t.Fatalf("%s says complete after a failed write", f)
		}
	}
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), ".tmp") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}
