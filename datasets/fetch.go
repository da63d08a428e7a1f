package datasets

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// remoteFile is one file of a data set's official release.
type remoteFile struct {
	Name string // file name, appended to the base URL and used in the data dir
	MD5  string // published checksum (hex)
}

type remoteSet struct {
	BaseURL string
	Files   []remoteFile
}

// remotes lists the official files and their published MD5 checksums
// (torchvision's tables). Tests replace it.
var remotes = map[string]remoteSet{
	"fashion-mnist": {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", []remoteFile{
		{"train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
		{"train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"},
		{"t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"},
		{"t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"},
	}},
	"mnist": {"https://ossci-datasets.s3.amazonaws.com/mnist/", []remoteFile{
		{"train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
		{"train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"},
		{"t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"},
		{"t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"},
	}},
	"cifar10": {"https://www.cs.toronto.edu/~kriz/", []remoteFile{
		{cifarArchive, "c32a1d4ab5d03f1284b67883e8d87530"},
	}},
}

// Names lists the data sets Fetch and Load know, in a fixed order.
func Names() []string { return []string{"fashion-mnist", "mnist", "cifar10"} }

func checkName(name string) error {
	if _, ok := remotes[name]; !ok {
		return fmt.Errorf("unknown data set %q; expected one of %s", name, strings.Join(Names(), ", "))
	}
	return nil
}

// DefaultDir is where `repro data fetch` puts a data set when no directory is
// given: data/<name> under the current directory.
func DefaultDir(name string) string { return filepath.Join("data", name) }

// Locate returns the directory to load data set name from: dir when given;
// otherwise DefaultDir(name) if it holds the data, else (Fashion-MNIST only)
// DefaultFashionMNISTDir. With nothing found it returns the place the error
// message should name: DefaultFashionMNISTDir for Fashion-MNIST, else
// DefaultDir(name).
func Locate(name, dir string) string {
	if dir != "" {
		return dir
	}
	local := DefaultDir(name)
	if name != "fashion-mnist" {
		return local
	}
	if _, err := findIDX(name, local, "train-images-idx3-ubyte"); err == nil {
		return local
	}
	return DefaultFashionMNISTDir
}

// Load loads data set name ("fashion-mnist", "mnist" or "cifar10") from
// Locate(name, dir).
func Load(name, dir string) (train, test *Dataset, err error) {
	if err := checkName(name); err != nil {
		return nil, nil, err
	}
	dir = Locate(name, dir)
	switch name {
	case "fashion-mnist":
		return LoadFashionMNIST(dir)
	case "mnist":
		return LoadMNIST(dir)
	default:
		return LoadCIFAR10(dir)
	}
}

// Fetch downloads the official files of data set name ("fashion-mnist",
// "mnist" or "cifar10") into dir, creating it. baseURL, when not empty,
// replaces the official host and path (the file names are appended to it).
// Every file is verified against its published MD5 checksum; it is written to
// a temporary file in dir and renamed into place only when the checksum
// matches, so an interrupted or corrupt download never looks complete. Files
// already present with the right checksum are not downloaded again. Progress
// lines go to progress (which may be nil).
func Fetch(ctx context.Context, name, dir, baseURL string, progress io.Writer) error {
	if err := checkName(name); err != nil {
		return err
	}
	set := remotes[name]
	if baseURL == "" {
		baseURL = set.BaseURL
	}
	if !strings.HasSuffix(baseURL, "/") {
		baseURL += "/"
	}
	if progress == nil {
		progress = io.Discard
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	for _, f := range set.Files {
		dst := filepath.Join(dir, f.Name)
		if sum, err := fileMD5(dst); err == nil {
			if sum == f.MD5 {
				fmt.Fprintf(progress, "%s: %s already present, checksum ok\n", name, dst)
				continue
			}
			fmt.Fprintf(progress, "%s: %s has checksum %s, expected %s; downloading again\n", name, dst, sum, f.MD5)
		}
		if err := download(ctx, baseURL+f.Name, dst, f.MD5, progress); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func fileMD5(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// download fetches url into dst through a temporary file, verifying wantMD5.
func download(ctx context.Context, url, dst, wantMD5 string, progress io.Writer) (err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("downloading %s: server answered %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part-*")
	if err != nil {
		return fmt.Errorf("downloading %s: %w", url, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := md5.New()
	pw := &progressWriter{w: progress, name: filepath.Base(dst), total: resp.ContentLength, last: time.Now()}
	if _, err = io.Copy(io.MultiWriter(tmp, h, pw), resp.Body); err != nil {
		return fmt.Errorf("downloading %s: %w", url, err)
	}
	pw.done()
	if got := hex.EncodeToString(h.Sum(nil)); got != wantMD5 {
		err = fmt.Errorf("downloading %s: checksum mismatch: got MD5 %s, expected %s (the download is corrupt or the server sent another file; nothing was saved, try again)", url, got, wantMD5)
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	return nil
}

// progressWriter prints how much of a download has arrived, at most once a second, and at the end.
type progressWriter struct {
	w     io.Writer
	name  string
	total int64 // -1 when unknown
	n     int64
	last  time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if time.Since(p.last) >= time.Second {
		p.last = time.Now()
		p.print("")
	}
	return len(b), nil
}

func (p *progressWriter) print(suffix string) {
	const mb = 1 << 20
	if p.total > 0 {
		fmt.Fprintf(p.w, "%s: %.1f/%.1f MB (%d%%)%s\n", p.name, float64(p.n)/mb, float64(p.total)/mb, p.n*100/p.total, suffix)
	} else {
		fmt.Fprintf(p.w, "%s: %.1f MB%s\n", p.name, float64(p.n)/mb, suffix)
	}
}

func (p *progressWriter) done() { p.print(", done") }
