package experiments

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

func sampleTensors() []Tensor {
	return []Tensor{
		{Name: "1.weight", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0}},
		{Name: "1.bias", Shape: []int{2}, Data: []float32{math.Float32frombits(0x7fc00001), 1e-40}},
		{Name: "scalar", Shape: []int{}, Data: []float32{42}},
		{Name: "empty", Shape: []int{0, 4}, Data: []float32{}},
		{Name: "optim.param.0.trace", Shape: []int{3}, Data: []float32{0.25, 0.5, 0.75}},
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	in := sampleTensors()
	meta := map[string]string{"format": "x", "record": `{"a": [1, 2]}`, "unicode": "µ\"\\"}
	b, err := EncodeSafetensors(in, meta)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	if !bytes.HasPrefix(b[8:], []byte(`{"1.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}`)) {
		t.Errorf("header starts %q", b[8:80])
	}
	out, gotMeta, err := DecodeSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	assertSameTensors(t, in, out)
	for k, v := range meta {
		if gotMeta[k] != v {
			t.Errorf("meta[%q] = %q, want %q", k, gotMeta[k], v)
		}
	}
	hdr, hmeta, err := ReadSafetensorsHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(hdr) != len(in) || hmeta["format"] != "x" {
		t.Fatalf("header: %d tensors, meta %v", len(hdr), hmeta)
	}
	for i := range in {
		if hdr[i].Name != in[i].Name || !slices.Equal(hdr[i].Shape, in[i].Shape) || hdr[i].Data != nil {
			t.Errorf("header tensor %d = %+v, want %s %v without data", i, hdr[i], in[i].Name, in[i].Shape)
		}
	}
}

// assertSameTensors compares names, shapes and the exact bits of the data.
func assertSameTensors(t *testing.T, want, got []Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) || len(g.Data) != len(w.Data) {
			t.Fatalf("tensor %d = %s %v (%d values), want %s %v (%d values)", i, g.Name, g.Shape, len(g.Data), w.Name, w.Shape, len(w.Data))
		}
		for j := range w.Data {
			if math.Float32bits(g.Data[j]) != math.Float32bits(w.Data[j]) {
				t.Fatalf("%s[%d] = %#x, want %#x", w.Name, j, math.Float32bits(g.Data[j]), math.Float32bits(w.Data[j]))
			}
		}
	}
}

// rawFile builds a safetensors file from a literal header and data.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestSafetensorsRejects(t *testing.T) {
	valid, _ := EncodeSafetensors(sampleTensors(), map[string]string{"k": "v"})
	eight := make([]byte, 8)
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "shorter than the 8-byte header length"},
		{"truncated length", valid[:5], "shorter than the 8-byte header length"},
		{"truncated header", valid[:40], "does not fit"},
		{"truncated data", valid[:len(valid)-1], "data_offsets"},
		{"trailing bytes", append(append([]byte{}, valid...), 0, 0, 0, 0), "cover"},
		{"huge length", binary.LittleEndian.AppendUint64(nil, 1<<62), "does not fit"},
		{"not json", rawFile("[1,2]   ", nil), "not a JSON object"},
		{"other dtype", rawFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), `dtype "F16"`},
		{"unknown field", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, make([]byte, 4)), "expected {dtype"},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), "shape"},
		{"shape mismatch", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, eight), "do not hold shape"},
		{"shape beyond data", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, eight), "larger than the file"},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), "contiguous"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), "contiguous"},
		{"huge shape", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, eight), "larger than the file"},
		{"bad metadata", rawFile(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := DecodeSafetensors(c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			// The header reader sees the same header errors (it cannot see
			// bad data, only offsets that do not fit the size).
			if _, _, err := ReadSafetensorsHeader(bytes.NewReader(c.b), int64(len(c.b))); err == nil {
				t.Errorf("ReadSafetensorsHeader accepted it")
			}
		})
	}
}

func TestSafetensorsWriteRejects(t *testing.T) {
	for _, ts := range [][]Tensor{
		{{Name: "a", Shape: []int{2}, Data: []float32{1}}},
		{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}},
		{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}},
		{{Name: "", Shape: []int{1}, Data: []float32{1}}},
	} {
		if _, err := EncodeSafetensors(ts, nil); err == nil {
			t.Errorf("EncodeSafetensors(%v) succeeded", ts)
		}
	}
}

// FuzzDecodeSafetensors checks that no input makes the reader panic or
// over-allocate, and that whatever it accepts survives a write and re-read.
func FuzzDecodeSafetensors(f *testing.F) {
	valid, _ := EncodeSafetensors(sampleTensors(), map[string]string{"format": CheckpointFormat})
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{}      `, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, meta, err := DecodeSafetensors(b)
		if err != nil {
			return
		}
		again, err := EncodeSafetensors(ts, meta)
		if err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
		ts2, _, err := DecodeSafetensors(again)
		if err != nil {
			t.Fatalf("re-reading a re-encoded file: %v", err)
		}
		assertSameTensors(t, ts, ts2)
	})
}
