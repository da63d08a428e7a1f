package experiments

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
)

// The safetensors format (as read by safetensors.torch.load_file):
//
//	8 bytes   little-endian uint64 N, the header length
//	N bytes   JSON header: {"<name>": {"dtype": "F32", "shape": [...],
//	          "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
//	          padded with spaces to a multiple of 8
//	rest      the tensors' raw little-endian bytes, offsets relative to the
//	          start of this section; tensors are contiguous and cover it exactly
//
// Only F32 tensors are written and read: everything repro keeps is float32.

// maxHeaderLen bounds the JSON header, as the reference implementation does
// (100 MB), so a corrupt length never makes the reader allocate gigabytes.
const maxHeaderLen = 100 << 20

// stMetadataKey is the header entry holding free-form string metadata.
const stMetadataKey = "__metadata__"

// Tensor is one named float32 tensor of a safetensors file.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// stEntry is a tensor's header entry.
type stEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// EncodeSafetensors returns the safetensors bytes of tensors (in the given
// order) with meta as the header's __metadata__.
func EncodeSafetensors(tensors []Tensor, meta map[string]string) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteSafetensors(&b, tensors, meta); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteSafetensors writes tensors (in the given order, data contiguous) with
// meta as the header's __metadata__ to w.
func WriteSafetensors(w io.Writer, tensors []Tensor, meta map[string]string) error {
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	seen := map[string]bool{stMetadataKey: true}
	var off int64
	for i, t := range tensors {
		if t.Name == "" || seen[t.Name] {
			return fmt.Errorf("safetensors: tensor %d: name %q is empty, reserved or repeated", i, t.Name)
		}
		seen[t.Name] = true
		n := 1
		shape := make([]int64, len(t.Shape))
		for j, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
			n *= d
			shape[j] = int64(d)
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: shape %v needs %d values, got %d", t.Name, t.Shape, n, len(t.Data))
		}
		e := stEntry{DType: "F32", Shape: shape, DataOffsets: [2]int64{off, off + 4*int64(n)}}
		off += 4 * int64(n)
		if i > 0 {
			hdr.WriteByte(',')
		}
		writeJSONKeyValue(&hdr, t.Name, e)
	}
	if len(meta) > 0 {
		if len(tensors) > 0 {
			hdr.WriteByte(',')
		}
		writeJSONKeyValue(&hdr, stMetadataKey, meta) // encoding/json sorts the keys
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range tensors {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err := w.Write(buf)
	return err
}

func writeJSONKeyValue(w *bytes.Buffer, key string, v any) {
	k, _ := json.Marshal(key)
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // stEntry and map[string]string always marshal
	}
	w.Write(k)
	w.WriteByte(':')
	w.Write(b)
}

// DecodeSafetensors parses a safetensors file held in b. Tensors come back in
// the order of their data. Anything that is not a well-formed file of F32
// tensors (a truncated file, offsets that overlap, leave gaps or do not match
// the shape, another dtype) is an error saying what was wrong.
func DecodeSafetensors(b []byte) ([]Tensor, map[string]string, error) {
	entries, meta, dataStart, err := decodeHeader(b)
	if err != nil {
		return nil, nil, err
	}
	data := b[dataStart:]
	tensors := make([]Tensor, len(entries))
	for i, e := range entries {
		raw := data[e.begin:e.end]
		t := Tensor{Name: e.name, Shape: e.shape, Data: make([]float32, len(raw)/4)}
		for j := range t.Data {
			t.Data[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		tensors[i] = t
	}
	return tensors, meta, nil
}

// ReadSafetensorsHeader reads only the header of a safetensors stream: the
// tensor names and shapes (data left empty) and the metadata. size is the
// length of the whole stream, used to check the data offsets.
func ReadSafetensorsHeader(r io.Reader, size int64) ([]Tensor, map[string]string, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading the 8-byte header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeaderLen || int64(n) > size-8 {
		return nil, nil, fmt.Errorf("safetensors: header length %d does not fit a %d-byte file", n, size)
	}
	buf := make([]byte, 8+n)
	copy(buf, lenBuf[:])
	if _, err := io.ReadFull(r, buf[8:]); err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading the %d-byte header: %w", n, err)
	}
	entries, meta, _, err := parseHeader(buf[8:], size-8-int64(n))
	if err != nil {
		return nil, nil, err
	}
	tensors := make([]Tensor, len(entries))
	for i, e := range entries {
		tensors[i] = Tensor{Name: e.name, Shape: e.shape}
	}
	return tensors, meta, nil
}

type stParsed struct {
	name       string
	shape      []int
	begin, end int64
}

func decodeHeader(b []byte) ([]stParsed, map[string]string, int64, error) {
	if len(b) < 8 {
		return nil, nil, 0, fmt.Errorf("safetensors: file is %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeaderLen || n > uint64(len(b)-8) {
		return nil, nil, 0, fmt.Errorf("safetensors: header length %d does not fit a %d-byte file", n, len(b))
	}
	entries, meta, _, err := parseHeader(b[8:8+n], int64(len(b))-8-int64(n))
	return entries, meta, 8 + int64(n), err
}

// parseHeader checks the JSON header against a data section of dataLen bytes.
func parseHeader(hdr []byte, dataLen int64) ([]stParsed, map[string]string, int64, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, nil, 0, fmt.Errorf("safetensors: header is not a JSON object: %v", err)
	}
	var meta map[string]string
	var entries []stParsed
	for name, msg := range raw {
		if name == stMetadataKey {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, 0, fmt.Errorf("safetensors: %s must map strings to strings: %v", stMetadataKey, err)
			}
			continue
		}
		var e stEntry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, nil, 0, fmt.Errorf("safetensors: tensor %q: expected {dtype, shape, data_offsets}: %v", name, err)
		}
		if e.DType != "F32" {
			return nil, nil, 0, fmt.Errorf("safetensors: tensor %q: dtype %q, expected F32", name, e.DType)
		}
		p := stParsed{name: name, shape: make([]int, len(e.Shape)), begin: e.DataOffsets[0], end: e.DataOffsets[1]}
		numel := int64(1)
		for i, d := range e.Shape {
			if d < 0 || (d > 0 && numel > dataLen/4/d) {
				return nil, nil, 0, fmt.Errorf("safetensors: tensor %q: shape %v is negative or larger than the file", name, e.Shape)
			}
			numel *= d
			p.shape[i] = int(d)
		}
		if p.begin < 0 || p.end < p.begin || p.end > dataLen || p.end-p.begin != 4*numel {
			return nil, nil, 0, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] do not hold shape %v (%d bytes) within %d data bytes",
				name, p.begin, p.end, e.Shape, 4*numel, dataLen)
		}
		entries = append(entries, p)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	var pos int64
	for _, e := range entries {
		if e.begin != pos {
			return nil, nil, 0, fmt.Errorf("safetensors: tensor %q starts at byte %d, expected %d (tensors must be contiguous)", e.name, e.begin, pos)
		}
		pos = e.end
	}
	if pos != dataLen {
		return nil, nil, 0, fmt.Errorf("safetensors: tensors cover %d data bytes, the file has %s", pos, strconv.FormatInt(dataLen, 10))
	}
	return entries, meta, pos, nil
}
