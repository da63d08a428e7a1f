package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTinyMNIST writes a raw four-file IDX data set (3 train, 2 test images of 2x2).
func writeTinyMNIST(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	idx := func(magic uint32, dims []uint32, payload []byte) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, magic)
		binary.Write(&b, binary.BigEndian, dims)
		b.Write(payload)
		return b.Bytes()
	}
	files := map[string][]byte{
		"train-images-idx3-ubyte": idx(0x803, []uint32{3, 2, 2}, make([]byte, 12)),
		"train-labels-idx1-ubyte": idx(0x801, []uint32{3}, []byte{0, 0, 7}),
		"t10k-images-idx3-ubyte":  idx(0x803, []uint32{2, 2, 2}, make([]byte, 8)),
		"t10k-labels-idx1-ubyte":  idx(0x801, []uint32{2}, []byte{7, 1}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDataInfo(t *testing.T) {
	dir := writeTinyMNIST(t)
	var out bytes.Buffer
	if err := runDataInfo(dataOptions{Name: "mnist", DataDir: dir, Out: &out}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mnist from " + dir, "1x2x2", "10 classes", "\n0    0                     2        0\n",
		"\n7    7                     1        1\n", "total                 3        2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	err := runDataInfo(dataOptions{Name: "mnist", DataDir: t.TempDir(), Out: &out})
	if err == nil || !strings.Contains(err.Error(), "repro data fetch mnist") {
		t.Errorf("missing data: %v", err)
	}
}

func TestDataFetchErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	var out, progress bytes.Buffer
	err := runDataFetch(context.Background(), dataOptions{Name: "fashion-mnist", DataDir: t.TempDir(), BaseURL: srv.URL, Out: &out, Err: &progress})
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), srv.URL+"/train-images-idx3-ubyte.gz") {
		t.Errorf("404: %v", err)
	}
	if exitCode(err) != 1 {
		t.Errorf("runtime failure exit code %d, want 1", exitCode(err))
	}
}

func TestDataUsage(t *testing.T) {
	for _, args := range [][]string{{"data"}, {"data", "fetch"}, {"data", "fetch", "imagenet"}, {"data", "info", "a", "b"}} {
		root := newRootCmd()
		root.SetArgs(args)
		root.SetOut(&bytes.Buffer{})
		root.SetErr(&bytes.Buffer{})
		err := root.Execute()
		if err == nil || exitCode(err) != 2 {
			t.Errorf("%v: error %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	// --data-dir also comes from REPRO_DATA_DIR.
	dir := writeTinyMNIST(t)
	t.Setenv("REPRO_DATA_DIR", dir)
	root := newRootCmd()
	var out bytes.Buffer
	root.SetArgs([]string{"data", "info", "mnist"})
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "mnist from "+dir) {
		t.Errorf("REPRO_DATA_DIR not used:\n%s", out.String())
	}
}
