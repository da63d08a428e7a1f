package main

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/repro-np/repro/experiments"
	"github.com/repro-np/repro/internal/fakedata"
	"github.com/repro-np/repro/results"
)

// envMain makes the test binary behave as the repro command, so tests can
// run it as a real process (to kill it, signal it and read its exit code).
const envMain = "REPRO_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// reproProcess returns the repro command with args as a child process.
func reproProcess(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envMain+"=1")
	return cmd
}

// writeFakeFashion writes a small learnable Fashion-MNIST look-alike into a
// new temporary directory and returns it.
func writeFakeFashion(t testing.TB, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	if err := fakedata.WriteFashion(dir, nTrain, nTest); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitTimeout waits for a started process, killing it after d.
func waitTimeout(t *testing.T, cmd *exec.Cmd, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not finish within %v", cmd.Args, d)
		return nil
	}
}

// sameWithoutTimes compares two run records except their wall-clock fields.
func sameWithoutTimes(a, b results.Run) (string, string, bool) {
	strip := func(r results.Run) string {
		r.TrainSeconds = 0
		r.Epochs = append([]results.Epoch(nil), r.Epochs...)
		for i := range r.Epochs {
			r.Epochs[i].Seconds = 0
		}
		j, _ := json.Marshal(r)
		return string(j)
	}
	sa, sb := strip(a), strip(b)
	return sa, sb, sa == sb
}

// assertSameResults checks that out holds exactly the runs of ref: records
// equal but for timings, checkpoints (parameters, optimizer state, random
// streams) bitwise equal.
func assertSameResults(t *testing.T, ref, out string) {
	t.Helper()
	s, err := experiments.ReadStudy(ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range experiments.Expand(s) {
		id := spec.ID()
		rr, err1 := results.ReadRun(filepath.Join(experiments.RunDir(ref, spec), results.MetricsFile))
		or, err2 := results.ReadRun(filepath.Join(experiments.RunDir(out, spec), results.MetricsFile))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", id, err1, err2)
		}
		if or.Status != results.StatusComplete {
			t.Fatalf("%s: status %s after resuming", id, or.Status)
		}
		if a, b, ok := sameWithoutTimes(rr, or); !ok {
			t.Fatalf("%s: metrics differ from the uninterrupted run:\n want %s\n got  %s", id, a, b)
		}
		rc, err1 := experiments.ReadCheckpoint(filepath.Join(experiments.RunDir(ref, spec), experiments.CheckpointFile))
		oc, err2 := experiments.ReadCheckpoint(filepath.Join(experiments.RunDir(out, spec), experiments.CheckpointFile))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", id, err1, err2)
		}
		if len(rc.Tensors) != len(oc.Tensors) || len(rc.Tensors) == 0 {
			t.Fatalf("%s: %d tensors, want %d", id, len(oc.Tensors), len(rc.Tensors))
		}
		for i, w := range rc.Tensors {
			g := oc.Tensors[i]
			if g.Name != w.Name || len(g.Data) != len(w.Data) {
				t.Fatalf("%s: tensor %d is %s, want %s", id, i, g.Name, w.Name)
			}
			for j := range w.Data {
				if math.Float32bits(g.Data[j]) != math.Float32bits(w.Data[j]) {
					t.Fatalf("%s: %s[%d] = %v, uninterrupted run has %v", id, w.Name, j, g.Data[j], w.Data[j])
				}
			}
		}
		for _, k := range []string{"optim.scalars", "rng.order", "rng.augment", "rng.dropout.counter"} {
			if rc.Meta[k] != oc.Meta[k] {
				t.Fatalf("%s: checkpoint %s = %q, want %q", id, k, oc.Meta[k], rc.Meta[k])
			}
		}
	}
	rs, err1 := results.ReadSummary(filepath.Join(ref, results.SummaryJSON))
	gs, err2 := results.ReadSummary(filepath.Join(out, results.SummaryJSON))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(rs.Runs) != len(gs.Runs) || gs.Included != rs.Included {
		t.Fatalf("summary: %d runs, %d included; want %d, %d", len(gs.Runs), gs.Included, len(rs.Runs), rs.Included)
	}
	for i := range rs.Runs {
		if rs.Runs[i].FinalTestAccuracy != gs.Runs[i].FinalTestAccuracy || rs.Runs[i].FinalTestLoss != gs.Runs[i].FinalTestLoss {
			t.Fatalf("summary run %d: %+v, want %+v", i, gs.Runs[i], rs.Runs[i])
		}
	}
}

// TestKillAndResumeBitwise is issue 7's acceptance test: a training process
// is SIGKILLed at several random points - at random times, right after some
// epoch's files exist, and in the middle of writing a checkpoint - and
// resumed each time; the resumed study ends bitwise identical to an
// uninterrupted one with the same seeds.
func TestKillAndResumeBitwise(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a study several times in child processes")
	}
	data := writeFakeFashion(t, 400, 100)
	args := func(out string) []string {
		return []string{"run", "fashion-ablation", "--data-dir", data, "--out", out, "--train-limit", "300",
			"--test-limit", "100", "--epochs", "6", "--seeds", "2", "--batch-size", "32", "--jobs", "2"}
	}
	ref := filepath.Join(t.TempDir(), "ref")
	start := time.Now()
	if b, err := reproProcess(args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, b)
	}
	full := time.Since(start)

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("uninterrupted run took %v; kill schedule seed %d", full, seed)
	out := filepath.Join(t.TempDir(), "out")
	runDirs := func() []string {
		d, _ := filepath.Glob(filepath.Join(out, "runs", "*"))
		return d
	}
	// tempFiles lists the half-written checkpoints in the run directories
	// (each write has a new random name).
	tempFiles := func() map[string]bool {
		m := map[string]bool{}
		for _, d := range runDirs() {
			names, _ := filepath.Glob(filepath.Join(d, ".checkpoint.safetensors.tmp*"))
			for _, n := range names {
				m[n] = true
			}
		}
		return m
	}
	// epochsDone counts the epochs recorded in every metrics.json.
	epochsDone := func() int {
		n := 0
		for _, d := range runDirs() {
			if r, err := results.ReadRun(filepath.Join(d, results.MetricsFile)); err == nil {
				n += len(r.Epochs)
			}
		}
		return n
	}
	modes := []string{"mid-checkpoint-write", "random-time", "after-metrics", "mid-checkpoint-write", "random-time", "after-metrics"}
	kills, tookOver := 0, false
	for _, mode := range modes {
		cmd := reproProcess(args(out)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(full + 5*time.Second)
		ready := func() bool { return false }
		switch mode {
		case "random-time": // somewhere in the first quarter of the work
			at := time.Now().Add(time.Duration(rng.Int64N(int64(full / 4))))
			ready = func() bool { return time.Now().After(at) }
		case "after-metrics": // a random moment after this process finished an epoch
			before, delay := epochsDone(), time.Duration(rng.Int64N(int64(20*time.Millisecond)))
			var at time.Time
			ready = func() bool {
				if at.IsZero() && epochsDone() > before {
					at = time.Now().Add(delay)
				}
				return !at.IsZero() && time.Now().After(at)
			}
		case "mid-checkpoint-write": // while a checkpoint's temporary file is being written
			old := tempFiles()
			ready = func() bool {
				for n := range tempFiles() {
					if !old[n] {
						return true
					}
				}
				return false
			}
		}
		finished := false
	poll:
		for {
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("repro run (%s) failed: %v\n%s", mode, err, stderr.String())
				}
				finished = true
				break poll
			default:
			}
			if ready() || time.Now().After(deadline) {
				cmd.Process.Signal(syscall.SIGKILL)
				<-exited
				kills++
				t.Logf("killed (%s)", mode)
				break poll
			}
			time.Sleep(100 * time.Microsecond)
		}
		if strings.Contains(stderr.String(), "took over the stale lock") {
			tookOver = true
		}
		if finished {
			t.Logf("the study finished before the %s kill", mode)
			break
		}
	}
	if kills < 3 {
		t.Fatalf("only %d kills landed; the test run is too short to interrupt", kills)
	}
	if !tookOver {
		t.Errorf("no resumed process reported taking over the killed process's lock")
	}
	var stderr bytes.Buffer
	cmd := reproProcess(args(out)...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitTimeout(t, cmd, time.Minute); err != nil {
		t.Fatalf("final resume: %v\n%s", err, stderr.String())
	}
	assertSameResults(t, ref, out)
}

// TestInterruptCheckpointsAndPrintsResume sends SIGINT to a training run: it
// stops with a non-zero exit status, leaves a partial run that status reports, and
// prints a command that resumes it to the same result as an uninterrupted run.
func TestInterruptCheckpointsAndPrintsResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains in child processes")
	}
	data := writeFakeFashion(t, 400, 100)
	args := func(out string) []string {
		return []string{"run", "fashion-ablation", "--data-dir", data, "--out", out, "--train-limit", "300",
			"--test-limit", "100", "--epochs", "12", "--seeds", "1", "--variants", "full", "--batch-size", "32"}
	}
	ref := filepath.Join(t.TempDir(), "ref")
	if b, err := reproProcess(args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, b)
	}
	out := filepath.Join(t.TempDir(), "out")
	cmd := reproProcess(args(out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(out, "runs", "full-seed41", experiments.CheckpointFile)
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint appeared:\n%s", stderr.String())
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err := waitTimeout(t, cmd, 30*time.Second)
	// 1 today; 130 once main honours interruptedError.ExitCode.
	wantCode := exitCode(interruptedError{})
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != wantCode {
		t.Fatalf("interrupted run: %v, want exit status %d\n%s", err, wantCode, stderr.String())
	}
	msg := stderr.String()
	for _, want := range []string{"stopping after the current step", "repro: interrupted; every run keeps its last completed epoch. Resume with:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	var status bytes.Buffer
	if err := runStatus(&status, out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status.String(), "partial ") || !strings.Contains(status.String(), "1 partial") {
		t.Errorf("status after the interrupt:\n%s", status.String())
	}
	// The printed command resumes the study.
	i := strings.Index(msg, "Resume with:\n  ")
	if i < 0 {
		t.Fatalf("no resume command in:\n%s", msg)
	}
	line := strings.SplitN(msg[i+len("Resume with:\n  "):], "\n", 2)[0]
	fields := strings.Fields(line)
	if fields[0] != "repro" || fields[1] != "run" || fields[2] != "fashion-ablation" {
		t.Fatalf("resume command %q", line)
	}
	resume := reproProcess(fields[1:]...)
	if b, err := resume.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, b)
	} else if !strings.Contains(string(b), "resuming after epoch") {
		t.Errorf("%s did not resume:\n%s", line, b)
	}
	assertSameResults(t, ref, out)
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	cancelled := make(chan bool, 1)
	exited := make(chan int, 1)
	var stderr syncBuffer
	stop := handleSignals(sigs, func() { cancelled <- true }, &stderr, "repro run x --out=o", func(code int) { exited <- code })
	sigs <- os.Interrupt
	<-cancelled
	sigs <- syscall.SIGTERM
	if code := <-exited; code != 130 {
		t.Errorf("second signal exit status %d, want 130", code)
	}
	stop()
	want := "terminated again: exiting now; the last completed epoch of every run is kept. Resume with:\n  repro run x --out=o\n"
	if !strings.Contains(stderr.String(), "interrupt: stopping after the current step") || !strings.HasSuffix(stderr.String(), want) {
		t.Errorf("stderr:\n%s", stderr.String())
	}

	// Without a signal, stopping the handler cancels nothing.
	stop = handleSignals(make(chan os.Signal), func() { t.Error("cancelled without a signal") }, &stderr, "", func(int) { t.Error("exited") })
	stop()
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
