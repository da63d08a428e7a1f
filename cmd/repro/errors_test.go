package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repro-np/repro/experiments"
)

// execRepro runs repro in-process with args, as main does, and returns the
// exit status and what went to stdout and stderr.
func execRepro(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(&errb, "repro: "+err.Error())
		return exitCode(err), out.String(), errb.String()
	}
	return 0, out.String(), errb.String()
}

// lastLine is the final line of s (the error line of a failed command).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestBadInputExitCodesAndMessages(t *testing.T) {
	data := writeFakeFashion(t, 300, 50)
	tmp := t.TempDir()
	quick := []string{"--data-dir", data, "--train-limit", "200", "--test-limit", "50", "--epochs", "1", "--seeds", "1"}
	write := func(name, content string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badYAML := write("bad.yaml", "epochs: [1\n")
	badJSON := write("bad.json", `{"epochs": 1,`)
	unknownKey := write("unknown.yaml", "epoch: 3\n")
	negYAML := write("neg.yaml", "epochs: -4\n")
	notDir := write("file", "x")

	// Corrupt copies of the data: a truncated image file, a wrong magic, labels out of range.
	corrupt := func(name, file string, edit func([]byte) []byte) string {
		dir := filepath.Join(tmp, name)
		os.MkdirAll(dir, 0o755)
		for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
			b, err := os.ReadFile(filepath.Join(data, f))
			if err != nil {
				t.Fatal(err)
			}
			if f == file {
				b = edit(b)
			}
			os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
		return dir
	}
	regzip := func(edit func([]byte) []byte) func([]byte) []byte {
		return func(b []byte) []byte {
			r, _ := gzip.NewReader(bytes.NewReader(b))
			var raw bytes.Buffer
			raw.ReadFrom(r)
			var out bytes.Buffer
			w := gzip.NewWriter(&out)
			w.Write(edit(raw.Bytes()))
			w.Close()
			return out.Bytes()
		}
	}
	const images, labels = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
	truncated := corrupt("truncated", images, func(b []byte) []byte { return b[:len(b)/2] })
	short := corrupt("short", images, regzip(func(b []byte) []byte { return b[:len(b)-100] }))
	magic := corrupt("magic", images, regzip(func(b []byte) []byte { b[3] = 0x04; return b }))
	badLabel := corrupt("label", labels, regzip(func(b []byte) []byte { b[8+7] = 200; return b }))

	cases := []struct {
		name string
		args []string
		code int
		want string // substring of the error line
	}{
		{"unknown experiment", []string{"run", "nope"}, 2, `repro: unknown experiment "nope" (valid: `},
		{"no experiment", []string{"run"}, 2, "repro: run needs exactly one experiment name"},
		{"unknown flag", []string{"run", "fashion-ablation", "--epoch", "3"}, 2, "unknown flag: --epoch"},
		{"negative epochs", []string{"run", "fashion-ablation", "--epochs", "-1"}, 2, "repro: --epochs must be a positive integer, got -1"},
		{"zero batch", []string{"run", "fashion-ablation", "--batch-size", "0"}, 2, "repro: --batch-size must be a positive integer, got 0"},
		{"unknown variant", []string{"run", "fashion-ablation", "--variants", "full,bogus"}, 2, `repro: unknown variant "bogus" for fashion-ablation (valid: grad-only, full)`},
		{"fraction above 1", []string{"run", "lowdata", "--fractions", "0.5,1.5"}, 2, "repro: fraction 1.5 is outside (0, 1]"},
		{"fraction zero", []string{"run", "lowdata", "--fractions", "0"}, 2, "repro: fraction 0 is outside (0, 1]"},
		{"fraction not a number", []string{"run", "lowdata", "--fractions", "half"}, 2, `repro: --fractions: "half" is not a number`},
		{"shots larger than a class", append([]string{"run", "fewshot", "--shots", "50", "--out", filepath.Join(tmp, "fs")}, quick...), 2,
			"repro: --shots 50 is larger than class 0 (T-shirt/top), which has 20 training examples"},
		{"malformed yaml config", []string{"run", "fashion-ablation", "--config", badYAML}, 2, "repro: reading config file " + badYAML + ": "},
		{"malformed json config", []string{"run", "fashion-ablation", "--config", badJSON}, 2, "repro: reading config file " + badJSON + ": "},
		{"unknown config key", []string{"run", "fashion-ablation", "--config", unknownKey}, 2,
			`repro: config file ` + unknownKey + `: unknown setting "epoch" (did you mean "epochs"?)`},
		{"negative epochs in config", []string{"run", "fashion-ablation", "--config", negYAML}, 2, "repro: --epochs must be a positive integer, got -4"},
		{"unwritable output directory", append([]string{"run", "fashion-ablation", "--out", filepath.Join(notDir, "out")}, quick...), 1,
			"repro: creating output directory " + filepath.Join(notDir, "out") + ": "},
		{"truncated gzip data", append([]string{"run", "fashion-ablation", "--out", filepath.Join(tmp, "o1"), "--data-dir", truncated}, quick[2:]...), 1,
			images + ": truncated: dimensions [300 28 28] need 235200 bytes of data"},
		{"short IDX data", append([]string{"run", "fashion-ablation", "--out", filepath.Join(tmp, "o2"), "--data-dir", short}, quick[2:]...), 1,
			images + ": truncated: dimensions [300 28 28] need 235200 bytes of data, file has 235100"},
		{"wrong IDX magic", append([]string{"run", "fashion-ablation", "--out", filepath.Join(tmp, "o3"), "--data-dir", magic}, quick[2:]...), 1,
			images + ": IDX magic is 0x00000804, expected images (0x00000803)"},
		{"label out of range", append([]string{"run", "fashion-ablation", "--out", filepath.Join(tmp, "o5"), "--data-dir", badLabel}, quick[2:]...), 1,
			labels + ": label 200 of item 7 is out of range; expected 0..9"},
		{"missing data", append([]string{"run", "fashion-ablation", "--out", filepath.Join(tmp, "o4"), "--data-dir", filepath.Join(tmp, "none")}, quick[2:]...), 1,
			"train-images-idx3-ubyte(.gz) not found in " + filepath.Join(tmp, "none")},
		{"status without --from", []string{"status"}, 2, "repro: status needs --from DIR"},
		{"status of a non-study", []string{"status", "--from", tmp}, 1, "repro: " + tmp + ": no study.json here"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := execRepro(t, c.args...)
			line := lastLine(stderr)
			if code != c.code || !strings.Contains(line, c.want) {
				t.Fatalf("repro %s\n exit %d, last line %q\n want exit %d and a line containing %q", strings.Join(c.args, " "), code, line, c.code, c.want)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Fatalf("panicked:\n%s", stderr)
			}
		})
	}
}

func TestRunRefusesALockedOutputDirectory(t *testing.T) {
	data := writeFakeFashion(t, 300, 50)
	out := t.TempDir()
	l, _, err := experiments.LockDir(out)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := execRepro(t, "run", "fashion-ablation", "--data-dir", data, "--out", out, "--train-limit", "100", "--epochs", "1", "--seeds", "1")
	want := fmt.Sprintf("is in use by another repro run, PID %d on ", os.Getpid())
	if code != 1 || !strings.Contains(lastLine(stderr), want) {
		t.Fatalf("exit %d, %q; want exit 1 and %q", code, lastLine(stderr), want)
	}
	l.Unlock()
	if code, _, stderr = execRepro(t, "run", "fashion-ablation", "--data-dir", data, "--out", out, "--train-limit", "100", "--test-limit", "50", "--epochs", "1", "--seeds", "1"); code != 0 {
		t.Fatalf("after unlocking: exit %d\n%s", code, stderr)
	}
}

func TestStatusMatrix(t *testing.T) {
	data := writeFakeFashion(t, 300, 50)
	out := t.TempDir()
	args := []string{"run", "fashion-ablation", "--data-dir", data, "--out", out, "--train-limit", "100", "--test-limit", "50", "--epochs", "2", "--seeds", "2"}
	if code, _, stderr := execRepro(t, args...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	s, err := experiments.ReadStudy(out)
	if err != nil {
		t.Fatal(err)
	}
	specs := experiments.Expand(s) // grad-only 41, full 41, grad-only 42, full 42
	// full-seed41: partial (record gone, checkpoint kept at epoch 2 of 2 is
	// still partial until resumed); grad-only-seed42: missing; full-seed42: diverged.
	os.Remove(filepath.Join(experiments.RunDir(out, specs[1]), "metrics.json"))
	os.RemoveAll(experiments.RunDir(out, specs[2]))
	mpath := filepath.Join(experiments.RunDir(out, specs[3]), "metrics.json")
	b, _ := os.ReadFile(mpath)
	b = bytes.Replace(b, []byte(`"status": "complete"`), []byte(`"status": "diverged", "diverged": {"epoch": 2, "step": 3, "reason": "test"}`), 1)
	os.WriteFile(mpath, b, 0o644)

	code, stdout, stderr := execRepro(t, "status", "--from", out)
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"fashion-ablation in " + out + ": 4 runs (2 epochs each), 1 complete, 1 partial, 1 missing, 1 diverged",
		"variant    seed 41      seed 42",
		"grad-only  complete     missing",
		"full       partial 2/2  diverged e2 s3",
		"2 run(s) left",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, stdout)
		}
	}

	// Resuming finishes the partial and missing runs and leaves the diverged one.
	if code, _, stderr := execRepro(t, args...); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	} else if !strings.Contains(stderr, "[full-seed42] already diverged") {
		t.Errorf("resume retried the diverged run:\n%s", stderr)
	}
	_, stdout, _ = execRepro(t, "status", "--from", out)
	if !strings.Contains(stdout, "3 complete, 1 diverged") || strings.Contains(stdout, "left") {
		t.Errorf("status after resume:\n%s", stdout)
	}
}

// TestExitCodesFromTheBinary checks main's wiring: a usage error exits 2 and
// a runtime error 1, each with one "repro: ..." line on stderr.
func TestExitCodesFromTheBinary(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "fashion-ablation", "--epochs", "-3"}, 2, "repro: --epochs must be a positive integer, got -3\n"},
		{[]string{"status", "--from", t.TempDir()}, 1, "no study.json here"},
	} {
		cmd := reproProcess(c.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != c.code {
			t.Errorf("repro %v: %v, want exit status %d", c.args, err, c.code)
		}
		if !strings.Contains(stderr.String(), c.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("repro %v: stderr %q, want one line containing %q", c.args, stderr.String(), c.want)
		}
	}
}

// TestDamagedRunFilesAreNotTrusted: a corrupt checkpoint or study.json is
// reported with its file name and never resumed from or averaged in.
func TestDamagedRunFilesAreNotTrusted(t *testing.T) {
	data := writeFakeFashion(t, 300, 50)
	out := t.TempDir()
	args := []string{"run", "fashion-ablation", "--data-dir", data, "--out", out, "--train-limit", "100", "--test-limit", "50", "--epochs", "2", "--seeds", "1"}
	if code, _, stderr := execRepro(t, args...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	s, _ := experiments.ReadStudy(out)
	spec := experiments.Expand(s)[1]
	dir := experiments.RunDir(out, spec)
	ckpt := filepath.Join(dir, experiments.CheckpointFile)
	os.Remove(filepath.Join(dir, "metrics.json")) // so the run would resume from the checkpoint
	os.WriteFile(ckpt, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{not json}      "), 0o644)

	code, _, stderr := execRepro(t, args...)
	want := "repro: run " + spec.ID() + ": " + ckpt + ": safetensors: header is not a JSON object"
	if code != 1 || !strings.HasPrefix(lastLine(stderr), want) || !strings.Contains(lastLine(stderr), "start over with --fresh") {
		t.Fatalf("exit %d, %q\nwant exit 1 and a line starting %q", code, lastLine(stderr), want)
	}
	_, stdout, _ := execRepro(t, "status", "--from", out)
	if !strings.Contains(stdout, "1 unreadable") || !strings.Contains(stdout, ckpt) {
		t.Errorf("status of a damaged run:\n%s", stdout)
	}
	if code, _, stderr := execRepro(t, append(args, "--fresh")...); code != 0 {
		t.Fatalf("--fresh after damage: exit %d\n%s", code, stderr)
	}

	os.WriteFile(filepath.Join(out, experiments.StudyFile), []byte("{"), 0o644)
	code, _, stderr = execRepro(t, "status", "--from", out)
	if code != 1 || !strings.Contains(lastLine(stderr), filepath.Join(out, experiments.StudyFile)+": expected the JSON study written by repro run") {
		t.Errorf("status with a damaged study.json: exit %d, %q", code, lastLine(stderr))
	}
}
