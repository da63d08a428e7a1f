package optimizers

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, input string
		want        []string // substrings of the error
	}{
		{"weights do not sum to 1", "name: neuroplastic\nlr: 0.1\nplasticity: {activity_weight: 0.5, gradient_weight: 0.4, memory_weight: 0.2}\n",
			[]string{"cfg.yaml", "plasticity.", "activity_weight", "sum to 1", "1.1"}},
		{"negative weight", `{"name": "neuroplastic", "lr": 0.1, "plasticity": {"activity_weight": -0.2, "gradient_weight": 1.0, "memory_weight": 0.2}}`,
			[]string{"plasticity.activity_weight", ">= 0"}},
		{"min_alpha above max_alpha", "name: neuroplastic\nlr: 0.1\nplasticity:\n  min_alpha: 2.5\n  max_alpha: 2.0\n",
			[]string{"plasticity.min_alpha", "<= max_alpha"}},
		{"unknown mode", "name: neuroplastic\nlr: 0.1\nplasticity: {mode: rule_base}\n",
			[]string{"plasticity.mode", `"rule_base"`, "rule_based, ablation_grad_only", `did you mean "rule_based"`}},
		{"unknown hybrid base", "name: neuroplastic\nlr: 0.1\nplasticity: {hybrid_base: lion}\n",
			[]string{"plasticity.hybrid_base", "classic, sgd_momentum, adamw"}},
		{"unknown controller mode", "name: neuroplastic\nlr: 0.1\nplasticity: {lr_controller_mode: local}\n",
			[]string{"plasticity.lr_controller_mode", "off, global, layerwise, classifier_only"}},
		{"misspelt plasticity field", "name: neuroplastic\nlr: 0.1\nplasticity: {min_alhpa: 0.3}\n",
			[]string{"plasticity.min_alhpa", `did you mean "min_alpha"`}},
		{"misspelt homeostatic field", `{"name": "neuroplastic", "lr": 0.1, "homeostatic": {"target_rsm": 0.1}}`,
			[]string{"homeostatic.target_rsm", `did you mean "target_rms"`}},
		{"misspelt top-level field", "name: sgd\nlr: 0.1\nmomentun: 0.9\n",
			[]string{"momentun", `did you mean "momentum"`}},
		{"field of another optimizer", "name: sgd\nlr: 0.1\nbetas: [0.9, 0.99]\n",
			[]string{"betas", "sgd", "allowed fields: name, lr, weight_decay, momentum, nesterov"}},
		{"unknown optimizer", "name: adamm\nlr: 0.1\n", []string{"name", `did you mean "adam"`, "sgd, adam, adamw, neuroplastic"}},
		{"missing name", "lr: 0.1\n", []string{"name", "missing"}},
		{"non-positive lr", "name: adam\nlr: 0\n", []string{"lr", "> 0"}},
		{"wrong type", "name: neuroplastic\nplasticity: {warmup_epochs: two}\n", []string{"plasticity.warmup_epochs", "expected a number"}},
		{"fractional epochs", "name: neuroplastic\nplasticity: {warmup_epochs: 1.5}\n", []string{"plasticity.warmup_epochs", "integer"}},
		{"bad betas", `{"name": "adam", "betas": [0.9]}`, []string{"betas", "2 numbers"}},
		{"beta out of range", `{"name": "adamw", "betas": [0.9, 1.0]}`, []string{"betas[1]", "[0, 1)"}},
		{"homeostatic bound", "name: neuroplastic\nhomeostatic: {adaptation_rate: 2}\n", []string{"homeostatic.adaptation_rate", "[0, 1]"}},
		{"controller bounds", "name: neuroplastic\nplasticity: {controller_low: 1.5, controller_high: 1.2}\n", []string{"plasticity.controller_high", ">= controller_low"}},
		{"malformed JSON", `{"name": "sgd",`, []string{"cfg.yaml", "malformed JSON"}},
		{"malformed YAML", "name: [sgd\n", []string{"malformed YAML"}},
		{"not a mapping", "- sgd\n", []string{"mapping"}},
		{"empty", "  \n", []string{"empty"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.input), "cfg.yaml")
			if err == nil {
				t.Fatalf("accepted %q", c.input)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *ConfigError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseConfigDefaultsAndAliases(t *testing.T) {
	c, err := ParseConfig([]byte("name: neuroplastic\nlr: 0.05\nplasticity:\n  modulation_scope: late\n  modulation_schedule: warmup\n  residual_max_ratio: 0.3\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig(NameNeuroPlastic)
	want.LR = 0.05
	want.Plasticity.ModulationScope, want.Plasticity.ModulationSchedule = "late", "warmup"
	want.Plasticity.LayerScope, want.Plasticity.PhaseScope = "late", "early"
	want.Plasticity.ResidualMaxRatio, want.Plasticity.OrthogonalMaxRatio = 0.3, 0.3
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	s, err := ParseConfig([]byte(`{"name": "sgd"}`), "s.json")
	if err != nil {
		t.Fatal(err)
	}
	if s != DefaultConfig(NameSGD) || s.LR != 0.01 || s.Momentum != 0.9 {
		t.Errorf("sgd defaults: %+v", s)
	}
}

// TestProtocolConfigsMatchTraces checks Baseline and LockedFull against the
// optimizer blocks the reference recorded for the same settings.
func TestProtocolConfigsMatchTraces(t *testing.T) {
	for file, cfg := range map[string]Config{
		"np-grad-only-baseline.json": Baseline(),
		"np-full-locked-best.json":   LockedFull(),
	} {
		tr, err := LoadTrace(filepath.Join("testdata", "traces", file))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tr.Config, cfg) {
			t.Errorf("%s:\n trace %+v\n ours  %+v", file, tr.Config, cfg)
		}
		if err := cfg.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	configs := []Config{DefaultConfig(NameSGD), DefaultConfig(NameAdam), DefaultConfig(NameAdamW), Baseline(), LockedFull()}
	h := LockedFull()
	h.Plasticity.HybridBase, h.Plasticity.ModulationTarget, h.Plasticity.LRControllerMode = "adamw", "trust_ratio", "layerwise"
	h.DecoupledWeightDecay, h.WeightDecay = true, 0.01
	configs = append(configs, h)
	for _, c := range configs {
		j, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name == NameSGD && strings.Contains(string(j), "plasticity") {
			t.Errorf("sgd JSON carries neuroplastic fields: %s", j)
		}
		back, err := ParseConfig(j, "json")
		if err != nil {
			t.Fatalf("%s: %v", j, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("JSON round trip of %s changed it: %+v", c.Name, back)
		}
		y, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var viaYAML Config
		if err := yaml.Unmarshal(y, &viaYAML); err != nil {
			t.Fatalf("%s: %v", y, err)
		}
		if !reflect.DeepEqual(viaYAML, c) {
			t.Errorf("YAML round trip of %s changed it: %+v", c.Name, viaYAML)
		}
	}
	// Embedded configs are validated too.
	var doc struct {
		Optimizer Config `json:"optimizer"`
	}
	err := json.Unmarshal([]byte(`{"optimizer": {"name": "neuroplastic", "plasticity": {"min_alpha": 3}}}`), &doc)
	if err == nil || !strings.Contains(err.Error(), "plasticity.min_alpha") {
		t.Errorf("embedded invalid config: got %v", err)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	if _, err := New(Config{Name: "rmsprop", LR: 1}, nil); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("unknown optimizer: %v", err)
	}
	p := []Param{{Name: "w", Shape: []int{2, 3}, Data: make([]float32, 6), Grad: make([]float32, 5)}}
	if _, err := New(LockedFull(), p); err == nil || !strings.Contains(err.Error(), "w") {
		t.Errorf("grad of the wrong length: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "traces", "*.json"))
	for _, file := range files[:min(len(files), 3)] {
		if tr, err := LoadTrace(file); err == nil {
			b, _ := json.Marshal(tr.Config)
			f.Add(b)
		}
	}
	for _, s := range []string{"name: sgd\n", "name: neuroplastic\nplasticity: {mode: ablation_grad_only}\n", `{"name":"adam","betas":[0.9,0.99]}`, "{", "- 1"} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "config.yaml")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data, "fuzz")
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseConfig(b, "again"); err != nil {
			t.Fatalf("re-parsing %s: %v", b, err)
		}
	})
}
