package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyOptimizerGoodAndMalformed(t *testing.T) {
	good := filepath.Join("..", "..", "optimizers", "testdata", "traces", "np-full-locked-best.json")
	var out, errw bytes.Buffer
	if err := runVerifyOptimizer(&out, &errw, []string{good}); err != nil {
		t.Fatalf("good trace: %v\n%s%s", err, out.String(), errw.String())
	}
	if !strings.Contains(out.String(), "np-full-locked-best") || !strings.Contains(out.String(), "PASS") {
		t.Errorf("table lacks the trace id or PASS:\n%s", out.String())
	}

	bad := filepath.Join(t.TempDir(), "broken.json")
	if err := os.WriteFile(bad, []byte(`{"format": "optimizer-trace/v1", "id": `), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errw.Reset()
	err := runVerifyOptimizer(&out, &errw, []string{good, bad})
	if !errors.Is(err, errVerifyFailed) {
		t.Fatalf("malformed trace: got error %v, want errVerifyFailed", err)
	}
	if exitCode(err) != 1 {
		t.Errorf("exit code %d, want 1", exitCode(err))
	}
	if !strings.Contains(errw.String(), "broken.json") {
		t.Errorf("message does not name the malformed file: %q", errw.String())
	}
	if !strings.Contains(out.String(), "ERROR") || !strings.Contains(out.String(), "PASS") {
		t.Errorf("table should show the good trace passing and the bad one as ERROR:\n%s", out.String())
	}
}

func TestVerifyOptimizerFailingTrace(t *testing.T) {
	// A trace whose recorded learning rate differs from the one the
	// parameters were produced with must FAIL, not pass.
	src := filepath.Join("..", "..", "optimizers", "testdata", "traces", "sgd-momentum.json")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), `"lr": 0.01`, `"lr": 0.02`, 1)
	if changed == string(data) {
		t.Fatal("fixture does not contain the expected lr")
	}
	path := filepath.Join(t.TempDir(), "sgd-wrong-lr.json")
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errw bytes.Buffer
	if err := runVerifyOptimizer(&out, &errw, []string{path}); !errors.Is(err, errVerifyFailed) {
		t.Fatalf("got %v, want a failure", err)
	}
	if !strings.Contains(out.String(), "FAIL") {
		t.Errorf("table does not show FAIL:\n%s", out.String())
	}
}

func TestVerifyOptimizerNoArgsIsUsageError(t *testing.T) {
	cmd := newVerifyOptimizerCmd()
	cmd.SetArgs(nil)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.Execute(); exitCode(err) != 2 {
		t.Fatalf("no arguments: got %v (exit %d), want a usage error", err, exitCode(err))
	}
}
