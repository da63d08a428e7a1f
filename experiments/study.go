// Package experiments encodes the paper's studies declaratively and trains
// them: a Study says what to train (dataset, model, variants with their
// optimizer configs, seeds, epochs, batch size and the study's axes); the
// runner expands it into runs and trains each one.
package experiments

import (
	"fmt"
	"sort"
	"strings"

	"github.com/repro-np/repro/optimizers"
)

// Variant is one arm of a study: a name and the optimizer it trains with.
type Variant struct {
	Name      string            `json:"name"`
	Optimizer optimizers.Config `json:"optimizer"`
	// Axes are grid values that identify this variant (mnist-tuning).
	Axes map[string]float64 `json:"axes,omitempty"`
}

// Study is one of the paper's experiments.
type Study struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Dataset     string `json:"dataset"` // fashion-mnist, mnist or cifar10
	Model       string `json:"model"`   // mlp, small-cnn or resnet18
	// Variants in the order they are trained; Baseline names the one the
	// others are compared with.
	Variants []Variant `json:"variants"`
	Baseline string    `json:"baseline"`
	Seeds    []int     `json:"seeds"`
	Epochs   int       `json:"epochs"`
	// BatchSize is the training mini-batch; for few-shot studies the batch is
	// min(BatchSize, subset size).
	BatchSize int `json:"batch_size"`
	// Augment turns on train-time random crop and flip (CIFAR-10).
	Augment bool `json:"augment,omitempty"`
	// Fractions of the training set (lowdata); one run group per fraction.
	Fractions []float64 `json:"fractions,omitempty"`
	// Shots per class (fewshot); one run group per k. Steps is the fixed
	// optimizer-step budget, split evenly over Epochs.
	Shots []int `json:"shots,omitempty"`
	Steps int   `json:"steps,omitempty"`
	// SubsetFile, when set, is a JSON list of training indices used instead of
	// the drawn subset (for exact cross-checks with the reference code).
	SubsetFile string `json:"subset_file,omitempty"`
	// TrainLimit and TestLimit keep only the first N examples (quick looks).
	TrainLimit int `json:"train_limit,omitempty"`
	TestLimit  int `json:"test_limit,omitempty"`
}

// Hash identifies the fully resolved study (hex SHA-256 of its JSON form,
// first 16 characters); the summary names it so results of different
// settings are never confused.
func (s *Study) Hash() string { return jsonHash(s) }

// DefaultSeeds returns n seeds starting at 41, as the protocol does.
func DefaultSeeds(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 41 + i
	}
	return s
}

// Validate checks a study before anything is trained.
func (s *Study) Validate() error {
	switch {
	case s.Epochs <= 0:
		return fmt.Errorf("epochs must be a positive number, got %d", s.Epochs)
	case s.BatchSize <= 0:
		return fmt.Errorf("batch size must be a positive number, got %d", s.BatchSize)
	case len(s.Seeds) == 0:
		return fmt.Errorf("at least one seed is needed")
	case len(s.Variants) == 0:
		return fmt.Errorf("no variants selected")
	case s.TrainLimit < 0 || s.TestLimit < 0:
		return fmt.Errorf("train and test limits must be >= 0")
	}
	for _, f := range s.Fractions {
		if !(f > 0 && f <= 1) {
			return fmt.Errorf("fraction %g is outside (0, 1]", f)
		}
	}
	for _, k := range s.Shots {
		if k <= 0 {
			return fmt.Errorf("shots must be positive, got %d", k)
		}
	}
	if len(s.Shots) > 0 && s.Steps < s.Epochs {
		return fmt.Errorf("steps (%d) must be at least the number of epochs (%d)", s.Steps, s.Epochs)
	}
	for _, v := range s.Variants {
		if err := v.Optimizer.Validate(); err != nil {
			return fmt.Errorf("variant %s: %w", v.Name, err)
		}
	}
	return nil
}

// SelectVariants keeps only the named variants, in the study's order.
func (s *Study) SelectVariants(names []string) error {
	if len(names) == 0 {
		return nil
	}
	byName := map[string]Variant{}
	var all []string
	for _, v := range s.Variants {
		byName[v.Name] = v
		all = append(all, v.Name)
	}
	want := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if _, ok := byName[n]; !ok {
			return fmt.Errorf("unknown variant %q for %s (valid: %s)", n, s.Name, strings.Join(all, ", "))
		}
		want[n] = true
	}
	var kept []Variant
	for _, v := range s.Variants {
		if want[v.Name] {
			kept = append(kept, v)
		}
	}
	s.Variants = kept
	return nil
}

// SetVariant adds a variant with the given optimizer, or replaces the
// optimizer of the variant of that name. Names become directory names, so
// they are limited to letters, digits, '.', '_' and '-'.
func (s *Study) SetVariant(name string, cfg optimizers.Config) error {
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || name[0] == '.' {
		return fmt.Errorf("variant name %q: use letters, digits, '.', '_' and '-' only", name)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("variant %s: %w", name, err)
	}
	for i := range s.Variants {
		if s.Variants[i].Name == name {
			s.Variants[i].Optimizer = cfg
			return nil
		}
	}
	s.Variants = append(s.Variants, Variant{Name: name, Optimizer: cfg})
	return nil
}

// Registry lists every study the harness knows, by name.
var registry = map[string]func() *Study{}

func register(name string, f func() *Study) { registry[name] = f }

// Lookup returns a fresh copy of the named study.
func Lookup(name string) (*Study, error) {
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown experiment %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return f(), nil
}

// Names lists the registered studies in alphabetical order.
func Names() []string {
	var n []string
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
