package datasets

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // image folders may hold JPEG files
	_ "image/png"  // or PNG files
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// CIFAR10Classes are the CIFAR-10 class names, by label.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// CIFAR-10 normalisation of the reference code, per channel (R, G, B).
var (
	CIFAR10Mean = []float32{0.491, 0.482, 0.447}
	CIFAR10Std  = []float32{0.247, 0.243, 0.262}
)

const (
	cifarSide    = 32
	cifarSample  = 3 * cifarSide * cifarSide // 3072
	cifarRecord  = 1 + cifarSample           // label byte, then R, G, B planes
	cifarArchive = "cifar-10-binary.tar.gz"
	cifarBinDir  = "cifar-10-batches-bin"
)

var cifarTrainBatches = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}

const cifarTestBatch = "test_batch.bin"

// LoadCIFAR10 reads CIFAR-10 from path, which is (or directly contains) one of:
//   - the official binary archive cifar-10-binary.tar.gz (read by streaming, not extracted);
//   - the directory cifar-10-batches-bin with data_batch_1.bin .. data_batch_5.bin and test_batch.bin
//     (3073-byte records: label, then 1024 red, 1024 green, 1024 blue bytes);
//   - image folders train/<class>/* and test/<class>/* holding 32x32 PNG or JPEG files.
//
// Image folder classes follow the standard CIFAR-10 order when the folder names
// are the CIFAR-10 class names, else alphabetical order; files are read in
// sorted name order, decoded in parallel. Pixels are normalised with
// CIFAR10Mean and CIFAR10Std.
func LoadCIFAR10(path string) (train, test *Dataset, err error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("cifar10: %s does not exist: %w; download the official archive with `repro data fetch cifar10 --data-dir DIR`", path, ErrMissing)
		}
		return nil, nil, fmt.Errorf("cifar10: %w", err)
	}
	if !st.IsDir() {
		return loadCIFARArchive(path)
	}
	isFile := func(p string) bool { s, err := os.Stat(p); return err == nil && s.Mode().IsRegular() }
	isDir := func(p string) bool { s, err := os.Stat(p); return err == nil && s.IsDir() }
	switch {
	case isFile(filepath.Join(path, cifarTestBatch)):
		return loadCIFARBinDir(path)
	case isDir(filepath.Join(path, cifarBinDir)):
		return loadCIFARBinDir(filepath.Join(path, cifarBinDir))
	case isFile(filepath.Join(path, cifarArchive)):
		return loadCIFARArchive(filepath.Join(path, cifarArchive))
	case isDir(filepath.Join(path, "train")) && isDir(filepath.Join(path, "test")):
		return loadImageFolders(path)
	}
	return nil, nil, fmt.Errorf("cifar10: unknown layout in %s: expected %s, a %s/ directory, %s, or train/<class>/ and test/<class>/ image folders: %w; download the official archive with `repro data fetch cifar10 --data-dir DIR`",
		path, cifarTestBatch, cifarBinDir, cifarArchive, ErrMissing)
}

func newCIFAR(split string, pixels, labels []uint8) *Dataset {
	return &Dataset{
		Name: "cifar10/" + split, N: len(labels), C: 3, H: cifarSide, W: cifarSide,
		Pixels: pixels, Labels: labels, Classes: CIFAR10Classes,
		Mean: CIFAR10Mean, Std: CIFAR10Std,
	}
}

// cifarBatch is one decoded binary batch file.
type cifarBatch struct{ pixels, labels []uint8 }

// readCIFARBinary decodes 3073-byte records of a batch file of size bytes
// (size < 0: unknown) from r; name is used in errors.
func readCIFARBinary(r io.Reader, name string, size int64) (cifarBatch, error) {
	if size >= 0 && size%cifarRecord != 0 {
		return cifarBatch{}, fmt.Errorf("%s: %d bytes is not a whole number of %d-byte records (short record %d has %d bytes)",
			name, size, cifarRecord, size/cifarRecord, size%cifarRecord)
	}
	var b cifarBatch
	if size >= 0 {
		n := int(size / cifarRecord)
		b.pixels = make([]uint8, 0, n*cifarSample)
		b.labels = make([]uint8, 0, n)
	}
	br := bufio.NewReaderSize(r, 1<<16)
	var rec [cifarRecord]byte
	for i := 0; ; i++ {
		k, err := io.ReadFull(br, rec[:])
		if err == io.EOF {
			break
		}
		if err == io.ErrUnexpectedEOF {
			return cifarBatch{}, fmt.Errorf("%s: short record %d: %d bytes, expected %d", name, i, k, cifarRecord)
		}
		if err != nil {
			return cifarBatch{}, fmt.Errorf("%s: reading record %d: %w", name, i, err)
		}
		if rec[0] >= 10 {
			return cifarBatch{}, fmt.Errorf("%s: record %d has label %d, expected 0..9", name, i, rec[0])
		}
		b.labels = append(b.labels, rec[0])
		b.pixels = append(b.pixels, rec[1:]...)
	}
	if len(b.labels) == 0 {
		return cifarBatch{}, fmt.Errorf("%s: no records; expected %d-byte records", name, cifarRecord)
	}
	return b, nil
}

// concatBatches joins batches in order, releasing each as it is copied.
func concatBatches(bs []cifarBatch) (pixels, labels []uint8) {
	n := 0
	for _, b := range bs {
		n += len(b.labels)
	}
	pixels = make([]uint8, 0, n*cifarSample)
	labels = make([]uint8, 0, n)
	for i := range bs {
		pixels = append(pixels, bs[i].pixels...)
		labels = append(labels, bs[i].labels...)
		bs[i] = cifarBatch{}
	}
	return pixels, labels
}

func loadCIFARBinDir(dir string) (train, test *Dataset, err error) {
	read := func(name string) (cifarBatch, error) {
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return cifarBatch{}, fmt.Errorf("cifar10: %s is missing: %w", p, ErrMissing)
			}
			return cifarBatch{}, fmt.Errorf("cifar10: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return cifarBatch{}, fmt.Errorf("cifar10: %w", err)
		}
		return readCIFARBinary(f, p, st.Size())
	}
	bs := make([]cifarBatch, len(cifarTrainBatches))
	for i, name := range cifarTrainBatches {
		if bs[i], err = read(name); err != nil {
			return nil, nil, err
		}
	}
	tb, err := read(cifarTestBatch)
	if err != nil {
		return nil, nil, err
	}
	px, lb := concatBatches(bs)
	return newCIFAR("train", px, lb), newCIFAR("test", tb.pixels, tb.labels), nil
}

// loadCIFARArchive streams the official tar.gz, decoding the six batch files
// wherever they sit in the archive (matched by base name).
func loadCIFARArchive(p string) (train, test *Dataset, err error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, fmt.Errorf("cifar10: %w", err)
	}
	defer f.Close()
	return readCIFARArchive(f, p)
}

func readCIFARArchive(r io.Reader, name string) (train, test *Dataset, err error) {
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, 1<<16))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a gzip archive (expected %s): %w", name, cifarArchive, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	want := map[string]int{cifarTestBatch: len(cifarTrainBatches)}
	for i, b := range cifarTrainBatches {
		want[b] = i
	}
	bs := make([]cifarBatch, len(cifarTrainBatches)+1)
	found := make([]bool, len(bs))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: reading tar archive: %w", name, err)
		}
		i, ok := want[path.Base(h.Name)]
		if !ok || h.Typeflag != tar.TypeReg {
			continue
		}
		if found[i] {
			return nil, nil, fmt.Errorf("%s: %s appears twice in the archive", name, h.Name)
		}
		if bs[i], err = readCIFARBinary(tr, name+":"+h.Name, h.Size); err != nil {
			return nil, nil, err
		}
		found[i] = true
	}
	var missing []string
	for b, i := range want {
		if !found[i] {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, nil, fmt.Errorf("%s: archive lacks %s; expected the official %s", name, strings.Join(missing, ", "), cifarArchive)
	}
	tb := bs[len(bs)-1]
	px, lb := concatBatches(bs[:len(bs)-1])
	return newCIFAR("train", px, lb), newCIFAR("test", tb.pixels, tb.labels), nil
}

// imageExt reports whether a file name has a PNG or JPEG extension.
func imageExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

func loadImageFolders(root string) (train, test *Dataset, err error) {
	classes, err := folderClasses(filepath.Join(root, "train"))
	if err != nil {
		return nil, nil, err
	}
	testClasses, err := folderClasses(filepath.Join(root, "test"))
	if err != nil {
		return nil, nil, err
	}
	if !slices.Equal(classes, testClasses) {
		return nil, nil, fmt.Errorf("%s: train classes %v differ from test classes %v", root, classes, testClasses)
	}
	if train, err = loadImageSplit(filepath.Join(root, "train"), "train", classes); err != nil {
		return nil, nil, err
	}
	if test, err = loadImageSplit(filepath.Join(root, "test"), "test", classes); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// folderClasses lists the class folders of dir: in CIFAR-10 order when they
// are exactly the CIFAR-10 classes, else alphabetically.
func folderClasses(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cifar10: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no class folders; expected %s/<class>/ with images", dir, dir)
	}
	if len(names) > 256 {
		return nil, fmt.Errorf("%s: %d class folders; at most 256 are supported", dir, len(names))
	}
	sorted := slices.Sorted(slices.Values(CIFAR10Classes))
	if slices.Equal(names, sorted) { // ReadDir sorts by name
		return slices.Clone(CIFAR10Classes), nil
	}
	return names, nil
}

func loadImageSplit(dir, split string, classes []string) (*Dataset, error) {
	// Folders group images by class. Examples are interleaved round-robin
	// over the classes (the i-th file of every class, then the (i+1)-th ...),
	// so that any prefix of the set - what --train-limit and --test-limit
	// keep - is class-balanced, as a prefix of the official shuffled
	// release is, rather than holding only the first classes.
	perClass := make([][]string, len(classes))
	longest := 0
	for c, name := range classes {
		cdir := filepath.Join(dir, name)
		ents, err := os.ReadDir(cdir)
		if err != nil {
			return nil, fmt.Errorf("cifar10: %w", err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() && imageExt(e.Name()) {
				perClass[c] = append(perClass[c], filepath.Join(cdir, e.Name()))
			}
		}
		if len(perClass[c]) == 0 {
			return nil, fmt.Errorf("%s: empty class folder; expected 32x32 PNG or JPEG files", cdir)
		}
		longest = max(longest, len(perClass[c]))
	}
	var files []string
	var labels []uint8
	for i := 0; i < longest; i++ {
		for c := range classes {
			if i < len(perClass[c]) {
				files = append(files, perClass[c][i])
				labels = append(labels, uint8(c))
			}
		}
	}
	pixels := make([]uint8, len(files)*cifarSample)
	errs := make([]error, len(files))
	workers := min(runtime.GOMAXPROCS(0), len(files))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= len(files) {
					return
				}
				errs[j] = decodeCIFARImage(files[j], pixels[j*cifarSample:(j+1)*cifarSample])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs { // first error in file order, so the message is deterministic
		if err != nil {
			return nil, err
		}
	}
	d := newCIFAR(split, pixels, labels)
	d.Classes = classes
	return d, nil
}

// decodeCIFARImage decodes a 32x32 image file into dst as R, G, B planes.
func decodeCIFARImage(p string, dst []uint8) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("cifar10: %w", err)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: decoding image: %w", p, err)
	}
	return imageToPlanes(p, img, dst)
}

func imageToPlanes(p string, img image.Image, dst []uint8) error {
	b := img.Bounds()
	if b.Dx() != cifarSide || b.Dy() != cifarSide {
		return fmt.Errorf("%s: image is %dx%d, expected %dx%d", p, b.Dx(), b.Dy(), cifarSide, cifarSide)
	}
	const plane = cifarSide * cifarSide
	put := func(x, y int, r, g, bl uint8) {
		o := y*cifarSide + x
		dst[o], dst[plane+o], dst[2*plane+o] = r, g, bl
	}
	switch m := img.(type) { // fast paths for what JPEG and PNG decoding return
	case *image.YCbCr:
		for y := range cifarSide {
			for x := range cifarSide {
				yi, ci := m.YOffset(b.Min.X+x, b.Min.Y+y), m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				put(x, y, r, g, bl)
			}
		}
	case *image.RGBA: // opaque PNG; premultiplied alpha is the plain value when alpha is 255
		for y := range cifarSide {
			for x := range cifarSide {
				c := color.NRGBAModel.Convert(m.RGBAAt(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				put(x, y, c.R, c.G, c.B)
			}
		}
	case *image.Gray:
		for y := range cifarSide {
			for x := range cifarSide {
				v := m.GrayAt(b.Min.X+x, b.Min.Y+y).Y
				put(x, y, v, v, v)
			}
		}
	default:
		for y := range cifarSide {
			for x := range cifarSide {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				put(x, y, c.R, c.G, c.B)
			}
		}
	}
	return nil
}
