package datasets

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// fakeServer serves files by name and counts requests per name.
type fakeServer struct {
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := strings.TrimPrefix(r.URL.Path, "/mirror/")
	s.hits[name]++
	b, ok := s.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

// withFakeMNIST serves a small valid MNIST and points the checksum table at it.
func withFakeMNIST(t *testing.T) (*fakeServer, string) {
	t.Helper()
	files := map[string][]byte{
		"train-images-idx3-ubyte.gz": gz(imagesIDX(3, 2, 2)),
		"train-labels-idx1-ubyte.gz": gz(labelsIDX(0, 1, 2)),
		"t10k-images-idx3-ubyte.gz":  gz(imagesIDX(1, 2, 2)),
		"t10k-labels-idx1-ubyte.gz":  gz(labelsIDX(7)),
	}
	saved := remotes
	t.Cleanup(func() { remotes = saved })
	set := remoteSet{BaseURL: "http://invalid.example/"}
	for _, f := range saved["mnist"].Files {
		set.Files = append(set.Files, remoteFile{f.Name, md5hex(files[f.Name])})
	}
	remotes = map[string]remoteSet{"mnist": set, "fashion-mnist": saved["fashion-mnist"], "cifar10": saved["cifar10"]}
	s := &fakeServer{files: files, hits: map[string]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL + "/mirror"
}

func TestFetch(t *testing.T) {
	s, url := withFakeMNIST(t)
	dir := filepath.Join(t.TempDir(), "new", "mnist")
	var progress bytes.Buffer
	if err := Fetch(context.Background(), "mnist", dir, url, &progress); err != nil {
		t.Fatal(err)
	}
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 3 || test.N != 1 || test.Labels[0] != 7 {
		t.Errorf("fetched data: train %d test %d", train.N, test.N)
	}
	if !strings.Contains(progress.String(), "t10k-labels-idx1-ubyte.gz") || !strings.Contains(progress.String(), "done") {
		t.Errorf("progress: %q", progress.String())
	}
	// Second fetch: everything present and valid, nothing downloaded.
	progress.Reset()
	if err := Fetch(context.Background(), "mnist", dir, url, &progress); err != nil {
		t.Fatal(err)
	}
	for name, k := range s.hits {
		if k != 1 {
			t.Errorf("%s requested %d times, want 1", name, k)
		}
	}
	if strings.Count(progress.String(), "already present") != 4 {
		t.Errorf("progress on re-fetch: %q", progress.String())
	}
	// A corrupt file is replaced.
	p := filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")
	os.WriteFile(p, []byte("corrupt"), 0o644)
	if err := Fetch(context.Background(), "mnist", dir, url, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, s.files["t10k-labels-idx1-ubyte.gz"]) || s.hits["t10k-labels-idx1-ubyte.gz"] != 2 {
		t.Error("corrupt file not replaced")
	}
	assertNoTemp(t, dir)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".part-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestFetchChecksumMismatch(t *testing.T) {
	s, url := withFakeMNIST(t)
	s.files["train-labels-idx1-ubyte.gz"] = gz(labelsIDX(0, 1, 3)) // not what the table says
	dir := t.TempDir()
	err := Fetch(context.Background(), "mnist", dir, url, nil)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), "train-labels-idx1-ubyte.gz") {
		t.Fatalf("want checksum mismatch naming the file, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "train-labels-idx1-ubyte.gz")); !os.IsNotExist(err) {
		t.Error("file with a bad checksum was saved")
	}
	assertNoTemp(t, dir)
}

func TestFetch404(t *testing.T) {
	s, url := withFakeMNIST(t)
	delete(s.files, "t10k-images-idx3-ubyte.gz")
	dir := t.TempDir()
	err := Fetch(context.Background(), "mnist", dir, url, nil)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), url+"/t10k-images-idx3-ubyte.gz") {
		t.Fatalf("want 404 naming the URL, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t10k-images-idx3-ubyte.gz")); !os.IsNotExist(err) {
		t.Error("missing file was created")
	}
	assertNoTemp(t, dir)
}

func TestFetchUnknownAndCancelled(t *testing.T) {
	if err := Fetch(context.Background(), "imagenet", t.TempDir(), "", nil); err == nil || !strings.Contains(err.Error(), "fashion-mnist, mnist, cifar10") {
		t.Errorf("unknown name: %v", err)
	}
	_, url := withFakeMNIST(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Fetch(ctx, "mnist", t.TempDir(), url, nil); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("cancelled: %v", err)
	}
}

func TestChecksumTable(t *testing.T) {
	// The published checksums (torchvision's tables).
	want := map[string]string{
		"fashion-mnist/train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
		"fashion-mnist/t10k-labels-idx1-ubyte.gz":  "bb300cfdad3c16e7a12a480ee83cd310",
		"mnist/train-images-idx3-ubyte.gz":         "f68b3c2dcbeaaa9fbdd348bbdeb94873",
		"cifar10/cifar-10-binary.tar.gz":           "c32a1d4ab5d03f1284b67883e8d87530",
	}
	for _, name := range Names() {
		for _, f := range remotes[name].Files {
			if w, ok := want[name+"/"+f.Name]; ok && f.MD5 != w {
				t.Errorf("%s/%s: %s, want %s", name, f.Name, f.MD5, w)
			}
			delete(want, name+"/"+f.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing from the table: %v", want)
	}
}

func TestLoadByName(t *testing.T) {
	dir := writeMNIST(t, true, nil)
	train, _, err := Load("mnist", dir)
	if err != nil || train.N != 3 {
		t.Fatalf("Load: %v", err)
	}
	if _, _, err := Load("svhn", dir); err == nil {
		t.Error("unknown name loaded")
	}
	if got := Locate("cifar10", ""); got != filepath.Join("data", "cifar10") {
		t.Errorf("Locate default: %s", got)
	}
}
