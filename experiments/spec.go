package experiments

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/repro-np/repro/optimizers"
)

// specVersion changes whenever the meaning of a RunSpec changes, so runs
// recorded by an older harness are never mixed with new ones.
const specVersion = 1

// RunSpec is one fully resolved training run: everything that decides its
// numbers. Its hash identifies the run on disk.
type RunSpec struct {
	Version    int                `json:"version"`
	Experiment string             `json:"experiment"`
	Variant    string             `json:"variant"`
	Seed       int                `json:"seed"`
	Group      string             `json:"group,omitempty"`
	Axes       map[string]float64 `json:"axes,omitempty"`
	Dataset    string             `json:"dataset"`
	Model      string             `json:"model"`
	Optimizer  optimizers.Config  `json:"optimizer"`
	Epochs     int                `json:"epochs"`
	BatchSize  int                `json:"batch_size"`
	// Steps > 0 is a fixed budget of optimizer steps spread evenly over the
	// epochs (few-shot); 0 means one pass over the training subset per epoch.
	Steps      int     `json:"steps,omitempty"`
	Augment    bool    `json:"augment,omitempty"`
	Fraction   float64 `json:"fraction,omitempty"`
	Shots      int     `json:"shots,omitempty"`
	SubsetFile string  `json:"subset_file,omitempty"`
	TrainLimit int     `json:"train_limit,omitempty"`
	TestLimit  int     `json:"test_limit,omitempty"`
}

// ID names the run's directory: <group>-<variant>-seed<seed>.
func (r *RunSpec) ID() string {
	id := fmt.Sprintf("%s-seed%d", r.Variant, r.Seed)
	if r.Group != "" {
		id = r.Group + "-" + id
	}
	return id
}

// Hash is the hex SHA-256 of the spec's JSON form (first 16 characters).
func (r *RunSpec) Hash() string { return jsonHash(r) }

// jsonHash is the first 16 hex characters of the SHA-256 of v's JSON form;
// v is one of this package's spec types, which always marshal.
func jsonHash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// Expand turns a study into its runs, in training order: for each group
// (fraction or shots), each seed, each variant - so the variants that share a
// subset run next to each other.
func Expand(s *Study) []RunSpec {
	type group struct {
		name     string
		axes     map[string]float64
		fraction float64
		shots    int
	}
	groups := []group{{}}
	if len(s.Fractions) > 0 {
		groups = nil
		for _, f := range s.Fractions {
			groups = append(groups, group{name: "fraction" + strconv.FormatFloat(f, 'g', -1, 64),
				axes: map[string]float64{"fraction": f}, fraction: f})
		}
	}
	if len(s.Shots) > 0 {
		groups = nil
		for _, k := range s.Shots {
			groups = append(groups, group{name: "shots" + strconv.Itoa(k),
				axes: map[string]float64{"shots": float64(k)}, shots: k})
		}
	}
	var runs []RunSpec
	for _, g := range groups {
		for _, seed := range s.Seeds {
			for _, v := range s.Variants {
				axes := map[string]float64{}
				for k, x := range g.axes {
					axes[k] = x
				}
				for k, x := range v.Axes {
					axes[k] = x
				}
				if len(axes) == 0 {
					axes = nil
				}
				r := RunSpec{
					Version: specVersion, Experiment: s.Name, Variant: v.Name, Seed: seed,
					Group: g.name, Axes: axes, Dataset: s.Dataset, Model: s.Model,
					Optimizer: v.Optimizer, Epochs: s.Epochs, BatchSize: s.BatchSize,
					Augment: s.Augment, Fraction: g.fraction, Shots: g.shots,
					SubsetFile: s.SubsetFile, TrainLimit: s.TrainLimit, TestLimit: s.TestLimit,
				}
				if g.shots > 0 {
					r.Steps = s.Steps
				}
				runs = append(runs, r)
			}
		}
	}
	return runs
}
