// Package results holds what a study produced: per-run records with one entry
// per epoch, the study summary with its statistics, and the tables printed
// from them. Everything here is computed from the records; nothing is typed in.
package results

// Run statuses.
const (
	StatusComplete = "complete"
	StatusPartial  = "partial"
	StatusDiverged = "diverged"
	StatusMissing  = "missing"
)

// Epoch is one epoch of one run: the metrics the runner measured after it.
type Epoch struct {
	Epoch         int                `json:"epoch"`
	TrainLoss     float64            `json:"train_loss"`
	TrainAccuracy float64            `json:"train_accuracy"` // percent
	TestLoss      float64            `json:"test_loss"`
	TestAccuracy  float64            `json:"test_accuracy"` // percent
	Seconds       float64            `json:"seconds"`       // wall time of the epoch (train + eval)
	Diagnostics   map[string]float64 `json:"diagnostics,omitempty"`
}

// Divergence says where a run stopped producing finite numbers.
type Divergence struct {
	Epoch  int    `json:"epoch"`
	Step   int    `json:"step"`
	Reason string `json:"reason"`
}

// Run is the record of one (variant, seed[, axis values]) training run,
// written as runs/<id>/metrics.json.
type Run struct {
	Experiment string `json:"experiment"`
	Variant    string `json:"variant"`
	Seed       int    `json:"seed"`
	// Axes holds the study's axis values for this run (fraction, shots, lr,
	// warmup_epochs, plasticity_scale ...), so every record says what it is.
	Axes map[string]float64 `json:"axes,omitempty"`
	// Group names the cell of the study this run belongs to, e.g. "fraction=0.25";
	// empty for studies with a single cell.
	Group    string      `json:"group,omitempty"`
	SpecHash string      `json:"spec_hash,omitempty"`
	Status   string      `json:"status"`
	Epochs   []Epoch     `json:"epochs"`
	Diverged *Divergence `json:"diverged,omitempty"`
	// SubsetSize and SubsetHash identify the training subset used (all of the
	// training set when SubsetSize equals the set's size); Subset lists the
	// indices when the study used a subset.
	SubsetSize int    `json:"subset_size"`
	SubsetHash string `json:"subset_hash,omitempty"`
	Subset     []int  `json:"subset,omitempty"`
	// TrainSeconds is the wall time spent training and evaluating.
	TrainSeconds float64 `json:"train_seconds"`
}

// Final returns the last epoch, or false when there is none.
func (r *Run) Final() (Epoch, bool) {
	if len(r.Epochs) == 0 {
		return Epoch{}, false
	}
	return r.Epochs[len(r.Epochs)-1], true
}

// BestTestAccuracy is the highest test accuracy over the run's epochs.
func (r *Run) BestTestAccuracy() float64 {
	best := 0.0
	for i, e := range r.Epochs {
		if i == 0 || e.TestAccuracy > best {
			best = e.TestAccuracy
		}
	}
	return best
}
