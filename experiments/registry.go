package experiments

import (
	"fmt"

	"github.com/repro-np/repro/optimizers"
)

// The paper's studies (see the protocol: ablation, low data, few shot,
// CIFAR-10 transfer and the MNIST grid that picked the locked config).
func init() {
	register("fashion-ablation", FashionAblation)
	register("lowdata", LowData)
	register("fewshot", FewShot)
	register("cifar10-transfer", CIFAR10Transfer)
	register("mnist-tuning", MNISTTuning)
}

// pair is the comparison every study makes: the gradient-only ablation and
// the locked best full NeuroPlastic config.
func pair() []Variant {
	return []Variant{
		{Name: "grad-only", Optimizer: optimizers.Baseline()},
		{Name: "full", Optimizer: optimizers.LockedFull()},
	}
}

// FashionAblation is study 1: Fashion-MNIST, full training set, 10 epochs.
func FashionAblation() *Study {
	return &Study{
		Name:        "fashion-ablation",
		Description: "Fashion-MNIST MLP, full NeuroPlastic vs its gradient-only ablation (the headline)",
		Dataset:     "fashion-mnist", Model: "mlp",
		Variants: pair(), Baseline: "grad-only",
		Seeds: DefaultSeeds(3), Epochs: 10, BatchSize: 128,
	}
}

// LowData is study 2: the pair on training fractions, one subset per
// (fraction, seed) shared by both variants.
func LowData() *Study {
	s := FashionAblation()
	s.Name = "lowdata"
	s.Description = "Fashion-MNIST on reduced training fractions (one uniform subset per fraction and seed)"
	s.Fractions = []float64{0.1, 0.25, 0.5, 1.0}
	return s
}

// FewShot is study 3: k examples per class, a fixed budget of optimizer
// steps split over 10 epochs, 10 seeds.
func FewShot() *Study {
	s := FashionAblation()
	s.Name = "fewshot"
	s.Description = "Fashion-MNIST with k examples per class, fixed optimizer-step budget"
	s.Shots = []int{1, 5, 10, 20}
	s.Steps = 300
	s.Seeds = DefaultSeeds(10)
	return s
}

// CIFAR10Transfer is study 4: the locked config moved unchanged to CIFAR-10.
func CIFAR10Transfer() *Study {
	return &Study{
		Name:        "cifar10-transfer",
		Description: "CIFAR-10 ResNet-18 (or small CNN), locked config transferred without retuning",
		Dataset:     "cifar10", Model: "resnet18",
		Variants: pair(), Baseline: "grad-only",
		Seeds: DefaultSeeds(3), Epochs: 5, BatchSize: 64, Augment: true,
	}
}

// Grid holds the axes of the MNIST tuning grid.
type Grid struct {
	LR              []float64
	WarmupEpochs    []int
	PlasticityScale []float64
}

// DefaultGrid is the grid that selected the locked config.
func DefaultGrid() Grid {
	return Grid{
		LR:              []float64{0.1, 0.05, 0.03, 0.01},
		WarmupEpochs:    []int{0, 1, 2},
		PlasticityScale: []float64{0.5, 1, 2},
	}
}

// GridVariantName names the tuning-grid cell with these values.
func GridVariantName(lr float64, warmup int, scale float64) string {
	return fmt.Sprintf("full-lr%g-w%d-s%g", lr, warmup, scale)
}

// LockedGridVariant is the grid cell holding the locked best config.
func LockedGridVariant() string {
	c := optimizers.LockedFull()
	return GridVariantName(c.LR, c.Plasticity.WarmupEpochs, c.Plasticity.PlasticityScale)
}

// MNISTTuning is study 5 with the default grid.
func MNISTTuning() *Study { return MNISTTuningGrid(DefaultGrid()) }

// MNISTTuningGrid builds the tuning study over the given grid: every
// (lr, warmup, scale) cell as a full NeuroPlastic variant, plus the
// gradient-only baseline at lr 0.1.
func MNISTTuningGrid(g Grid) *Study {
	vs := []Variant{{Name: "grad-only", Optimizer: optimizers.Baseline()}}
	for _, lr := range g.LR {
		for _, w := range g.WarmupEpochs {
			for _, sc := range g.PlasticityScale {
				c := optimizers.LockedFull()
				c.LR = lr
				c.Plasticity.WarmupEpochs = w
				c.Plasticity.PlasticityScale = sc
				vs = append(vs, Variant{
					Name:      GridVariantName(lr, w, sc),
					Optimizer: c,
					Axes:      map[string]float64{"lr": lr, "warmup_epochs": float64(w), "plasticity_scale": sc},
				})
			}
		}
	}
	return &Study{
		Name:        "mnist-tuning",
		Description: "MNIST grid over lr x warmup_epochs x plasticity_scale that picked the locked config",
		Dataset:     "mnist", Model: "mlp",
		Variants: vs, Baseline: "grad-only",
		Seeds: DefaultSeeds(3), Epochs: 10, BatchSize: 128,
	}
}
