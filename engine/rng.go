package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Stream identifies one of the documented random streams derived from a run's
// seed. Each stream is an independent PCG generator, so changing how one is
// consumed (say, dropout) never shifts another (say, data order).
type Stream uint64

const (
	StreamInit    Stream = 1 // weight initialisation
	StreamOrder   Stream = 2 // per-epoch shuffling of the training set
	StreamDropout Stream = 3 // dropout masks
	StreamAugment Stream = 4 // train-time augmentation (crop offsets, flips)
	StreamSubset  Stream = 5 // reduced-data and few-shot subsets
)

// RNG is a seeded, serialisable random source (PCG-DXSM from math/rand/v2).
type RNG struct {
	src *rand.PCG
	r   *rand.Rand
}

// NewRNG returns the generator for stream s of the given seed.
func NewRNG(seed int64, s Stream) *RNG {
	src := rand.NewPCG(uint64(seed)^0x9E3779B97F4A7C15, uint64(s)*0xD1B54A32D192ED03+1)
	return &RNG{src: src, r: rand.New(src)}
}

// Uint64 returns a uniformly random 64-bit value.
func (g *RNG) Uint64() uint64 { return g.src.Uint64() }

// Float32 returns a uniform value in [0, 1).
func (g *RNG) Float32() float32 { return float32(g.src.Uint64()>>40) * (1.0 / (1 << 24)) }

// Float64 returns a uniform value in [0, 1).
func (g *RNG) Float64() float64 { return float64(g.src.Uint64()>>11) * (1.0 / (1 << 53)) }

// IntN returns a uniform integer in [0, n).
func (g *RNG) IntN(n int) int { return g.r.IntN(n) }

// Perm fills p with a uniformly random permutation of 0..len(p)-1.
func (g *RNG) Perm(p []int) {
	for i := range p {
		p[i] = i
	}
	for i := len(p) - 1; i > 0; i-- {
		j := g.r.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
}

// Uniform fills x with values uniform in [lo, hi).
func (g *RNG) Uniform(x []float32, lo, hi float32) {
	for i := range x {
		x[i] = lo + (hi-lo)*g.Float32()
	}
}

// Normal returns a standard normal value (Box-Muller; deterministic).
func (g *RNG) Normal() float64 {
	u1 := g.Float64()
	for u1 == 0 {
		u1 = g.Float64()
	}
	u2 := g.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// MarshalBinary saves the generator state (for checkpoints).
func (g *RNG) MarshalBinary() ([]byte, error) { return g.src.MarshalBinary() }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (g *RNG) UnmarshalBinary(b []byte) error {
	if err := g.src.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("restoring random stream: %w", err)
	}
	return nil
}

// CounterRNG is a counter-based random stream: value i of the stream is a
// hash of (key, i), so any range of values can be generated in parallel and
// the whole state is two integers, which checkpoints save.
type CounterRNG struct {
	Key     uint64
	Counter uint64
}

// NewCounterRNG returns stream s of seed as a counter-based generator.
func NewCounterRNG(seed int64, s Stream) *CounterRNG {
	return &CounterRNG{Key: splitmix64(uint64(seed)*0x9E3779B97F4A7C15 ^ uint64(s)<<56)}
}

// Skip reserves the next n values and returns the index of the first.
func (c *CounterRNG) Skip(n int) uint64 {
	first := c.Counter
	c.Counter += uint64(n)
	return first
}

// Float32At returns value i of the stream, uniform in [0, 1).
func (c *CounterRNG) Float32At(i uint64) float32 {
	return float32(splitmix64(c.Key+i*0x9E3779B97F4A7C15)>>40) * (1.0 / (1 << 24))
}

// bits24At returns value i of the stream as a 24-bit integer
// (Float32At(i) == bits24At(i) / 2^24).
func (c *CounterRNG) bits24At(i uint64) uint32 {
	return uint32(splitmix64(c.Key+i*0x9E3779B97F4A7C15) >> 40)
}

// bits24Input returns the input that splitmix64 hashes for value i of the
// stream with key; value i+1's input is bits24Step more (mod 2^64), so a
// loop over consecutive values needs no multiply for the index.
func bits24Input(key, i uint64) uint64 { return key + i*bits24Step + bits24Step }

const bits24Step = 0x9E3779B97F4A7C15

// bits24 returns the top 24 bits of splitmix64's output for input z
// (bits24(bits24Input(c.Key, i)) == c.bits24At(i)).
func bits24(z uint64) uint32 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	// splitmix64 ends with z ^= z >> 31, which leaves bits 40..63 as they are.
	return uint32(z >> 40)
}

func splitmix64(z uint64) uint64 {
	z += 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}
