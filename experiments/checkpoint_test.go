package experiments

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckpointLoadsInPyTorch runs scripts/load_checkpoint.py on a real
// checkpoint: with safetensors.torch.load_file when that package is there,
// and always with the script's own parser. It needs Debian's python3-torch
// and skips without it.
func TestCheckpointLoadsInPyTorch(t *testing.T) {
	const python = "/usr/bin/python3"
	if testing.Short() {
		t.Skip("starts Python")
	}
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s with torch is not available (apt-get install python3-torch): %v", python, err)
	}
	data := writeFakeFashion(t, 300, 100)
	s := tinyStudy(1)
	train, test, err := LoadData(s, data)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := newTrainer(Expand(s)[1], train, test)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := tr.runEpoch(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr.record.Epochs = append(tr.record.Epochs, ep)
	path := filepath.Join(t.TempDir(), CheckpointFile)
	if err := tr.saveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs(filepath.Join("..", "scripts", "load_checkpoint.py"))
	runs := [][]string{{script, path}}
	for i := 0; i < len(runs); i++ {
		args := runs[i]
		out, err := exec.Command(python, args...).CombinedOutput()
		if i == 0 && strings.Contains(string(out), "with safetensors.torch.load_file") {
			runs = append(runs, []string{script, "--manual", path}) // check the fallback parser too
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		for _, want := range []string{
			"1.weight                                 (256, 784) torch.float32",
			"optim.param.5.trace                      (10,) torch.float32",
			"load_state_dict(strict=True); forward pass ok",
			"\nok\n",
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: output lacks %q:\n%s", strings.Join(args, " "), want, out)
			}
		}
	}

}
