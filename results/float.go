package results

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// Float is a float64 that is written to JSON as null when it is NaN or
// infinite (an undefined statistic, such as the spread of a single run) and
// read back from null as NaN. encoding/json cannot write NaN otherwise.
type Float float64

// IsNaN reports whether f is NaN or infinite, i.e. undefined for reporting.
func (f Float) IsNaN() bool { return math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) }

// MarshalJSON writes f in the shortest form that reads back exactly, or null.
func (f Float) MarshalJSON() ([]byte, error) {
	if f.IsNaN() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// UnmarshalJSON reads a JSON number, or null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("expected a number or null, got %s", b)
	}
	*f = Float(v)
	return nil
}
