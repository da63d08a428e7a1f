package optimizers

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/repro-np/repro/internal/suggest"
)

// Optimizer names accepted in Config.Name.
const (
	NameSGD          = "sgd"
	NameAdam         = "adam"
	NameAdamW        = "adamw"
	NameNeuroPlastic = "neuroplastic"
)

var optimizerNames = []string{NameSGD, NameAdam, NameAdamW, NameNeuroPlastic}

// Config describes one optimizer as data. Its YAML/JSON form is the
// "optimizer" block of the conformance trace files: the fields that apply
// to Name only (momentum and nesterov for sgd; betas and eps for adam and
// adamw; plasticity, homeostatic, decoupled_weight_decay, memory and
// activity_trace for neuroplastic). Build one with DefaultConfig, Baseline,
// LockedFull or ParseConfig; New validates it again.
type Config struct {
	Name        string  `yaml:"name" json:"name"`
	LR          float64 `yaml:"lr" json:"lr"`
	WeightDecay float64 `yaml:"weight_decay" json:"weight_decay"`

	// sgd
	Momentum float64 `yaml:"momentum" json:"momentum"`
	Nesterov bool    `yaml:"nesterov" json:"nesterov"`

	// adam, adamw
	Betas [2]float64 `yaml:"betas" json:"betas"`
	Eps   float64    `yaml:"eps" json:"eps"`

	// neuroplastic
	DecoupledWeightDecay bool                `yaml:"decoupled_weight_decay" json:"decoupled_weight_decay"`
	Plasticity           PlasticityConfig    `yaml:"plasticity" json:"plasticity"`
	Homeostatic          HomeostaticConfig   `yaml:"homeostatic" json:"homeostatic"`
	Memory               MemoryConfig        `yaml:"memory" json:"memory"`
	ActivityTrace        ActivityTraceConfig `yaml:"activity_trace" json:"activity_trace"`
}

// PlasticityConfig is the "plasticity" block of a neuroplastic optimizer;
// the fields, defaults and meanings are those of the reference
// implementation (see the spec, "Configuration").
type PlasticityConfig struct {
	Mode                        string  `yaml:"mode" json:"mode"`
	HybridBase                  string  `yaml:"hybrid_base" json:"hybrid_base"`
	ModulationTarget            string  `yaml:"modulation_target" json:"modulation_target"`
	ModulationScope             string  `yaml:"modulation_scope" json:"modulation_scope"`
	ModulationSchedule          string  `yaml:"modulation_schedule" json:"modulation_schedule"`
	LRControllerMode            string  `yaml:"lr_controller_mode" json:"lr_controller_mode"`
	LayerScope                  string  `yaml:"layer_scope" json:"layer_scope"`
	PhaseScope                  string  `yaml:"phase_scope" json:"phase_scope"`
	ModulationStrength          float64 `yaml:"modulation_strength" json:"modulation_strength"`
	ModulationMaxRatio          float64 `yaml:"modulation_max_ratio" json:"modulation_max_ratio"`
	ControllerAlpha             float64 `yaml:"controller_alpha" json:"controller_alpha"`
	ControllerLow               float64 `yaml:"controller_low" json:"controller_low"`
	ControllerHigh              float64 `yaml:"controller_high" json:"controller_high"`
	BaseMomentum                float64 `yaml:"base_momentum" json:"base_momentum"`
	BaseBeta2                   float64 `yaml:"base_beta2" json:"base_beta2"`
	BaseEps                     float64 `yaml:"base_eps" json:"base_eps"`
	LateStartFraction           float64 `yaml:"late_start_fraction" json:"late_start_fraction"`
	ActivityWeight              float64 `yaml:"activity_weight" json:"activity_weight"`
	GradientWeight              float64 `yaml:"gradient_weight" json:"gradient_weight"`
	MemoryWeight                float64 `yaml:"memory_weight" json:"memory_weight"`
	PlasticityScale             float64 `yaml:"plasticity_scale" json:"plasticity_scale"`
	WarmupEpochs                int     `yaml:"warmup_epochs" json:"warmup_epochs"`
	BoundedResidual             bool    `yaml:"bounded_residual" json:"bounded_residual"`
	ResidualMaxRatio            float64 `yaml:"residual_max_ratio" json:"residual_max_ratio"`
	OrthogonalResidual          bool    `yaml:"orthogonal_residual" json:"orthogonal_residual"`
	OrthogonalLambda            float64 `yaml:"orthogonal_lambda" json:"orthogonal_lambda"`
	OrthogonalMaxRatio          float64 `yaml:"orthogonal_max_ratio" json:"orthogonal_max_ratio"`
	OrthogonalNormalization     string  `yaml:"orthogonal_normalization" json:"orthogonal_normalization"`
	OrthogonalSchedule          string  `yaml:"orthogonal_schedule" json:"orthogonal_schedule"`
	OrthogonalLateStartFraction float64 `yaml:"orthogonal_late_start_fraction" json:"orthogonal_late_start_fraction"`
	MinAlpha                    float64 `yaml:"min_alpha" json:"min_alpha"`
	MaxAlpha                    float64 `yaml:"max_alpha" json:"max_alpha"`
	SaturationThresholdFraction float64 `yaml:"saturation_threshold_fraction" json:"saturation_threshold_fraction"`
	Layerwise                   bool    `yaml:"layerwise" json:"layerwise"`
	Parameterwise               bool    `yaml:"parameterwise" json:"parameterwise"`
	Eps                         float64 `yaml:"eps" json:"eps"`
}

// HomeostaticConfig is the "homeostatic" block: the update-norm cap and the
// RMS gain controller, with target-RMS scales for the first, middle and
// last third of the parameter tensors.
type HomeostaticConfig struct {
	MaxUpdateNorm        float64 `yaml:"max_update_norm" json:"max_update_norm"`
	TargetRMS            float64 `yaml:"target_rms" json:"target_rms"`
	AdaptationRate       float64 `yaml:"adaptation_rate" json:"adaptation_rate"`
	EarlyTargetRMSScale  float64 `yaml:"early_target_rms_scale" json:"early_target_rms_scale"`
	MiddleTargetRMSScale float64 `yaml:"middle_target_rms_scale" json:"middle_target_rms_scale"`
	LateTargetRMSScale   float64 `yaml:"late_target_rms_scale" json:"late_target_rms_scale"`
	Eps                  float64 `yaml:"eps" json:"eps"`
}

// MemoryConfig holds the decays of the per-tensor gradient moments m and v.
type MemoryConfig struct {
	MomentumDecay float64 `yaml:"momentum_decay" json:"momentum_decay"`
	VarianceDecay float64 `yaml:"variance_decay" json:"variance_decay"`
}

// ActivityTraceConfig holds the decay of the activity trace.
type ActivityTraceConfig struct {
	Decay float64 `yaml:"decay" json:"decay"`
}

// Allowed values of the enumerated plasticity fields, as the reference
// validates them. The scopes "head_only" and "late" are legacy aliases of
// "classifier_only" and "late_blocks".
var (
	allowedModes               = []string{"rule_based", "ablation_grad_only"}
	allowedHybridBases         = []string{"classic", "sgd_momentum", "adamw"}
	allowedModulationTargets   = []string{"gain", "momentum", "trust_ratio"}
	allowedModulationScopes    = []string{"all", "late", "conv_only"}
	allowedModulationSchedules = []string{"constant", "warmup", "late"}
	allowedControllerModes     = []string{"off", "global", "layerwise", "classifier_only"}
	allowedLayerScopes         = []string{"all", "conv_only", "classifier_only", "head_only", "early_blocks", "late_blocks", "late"}
	allowedPhaseScopes         = []string{"full", "early", "middle", "late"}
	allowedNormalizations      = []string{"raw", "match_grad_norm"}
	allowedOrthSchedules       = []string{"constant", "late", "cosine"}
)

// DefaultPlasticity returns the reference defaults of the plasticity block.
func DefaultPlasticity() PlasticityConfig {
	return PlasticityConfig{
		Mode: "rule_based", HybridBase: "classic", ModulationTarget: "gain",
		ModulationScope: "all", ModulationSchedule: "constant", LRControllerMode: "off",
		LayerScope: "all", PhaseScope: "full",
		ModulationStrength: 0.15, ModulationMaxRatio: 0.25,
		ControllerAlpha: 0.1, ControllerLow: 0.8, ControllerHigh: 1.2,
		BaseMomentum: 0.9, BaseBeta2: 0.999, BaseEps: 1e-8, LateStartFraction: 0.6,
		ActivityWeight: 0.4, GradientWeight: 0.4, MemoryWeight: 0.2,
		PlasticityScale: 1.0, WarmupEpochs: 0,
		BoundedResidual: false, ResidualMaxRatio: 0.5,
		OrthogonalResidual: false, OrthogonalLambda: 0.1, OrthogonalMaxRatio: 0.5,
		OrthogonalNormalization: "raw", OrthogonalSchedule: "constant", OrthogonalLateStartFraction: 0.3,
		MinAlpha: 0.2, MaxAlpha: 2.0, SaturationThresholdFraction: 0.05,
		Layerwise: true, Parameterwise: true, Eps: 1e-8,
	}
}

// DefaultHomeostatic returns the reference defaults of the homeostatic block.
func DefaultHomeostatic() HomeostaticConfig {
	return HomeostaticConfig{MaxUpdateNorm: 1.0, TargetRMS: 0.02, AdaptationRate: 0.01,
		EarlyTargetRMSScale: 1, MiddleTargetRMSScale: 1, LateTargetRMSScale: 1, Eps: 1e-8}
}

// DefaultConfig returns the reference defaults for the named optimizer:
// sgd lr 0.01 momentum 0.9 (the reference harness's SGD); adam lr 1e-3;
// adamw lr 1e-3 weight decay 0.01; neuroplastic lr 1e-3 with the spec's
// plasticity and homeostatic defaults. An unknown name gives a Config with
// only Name set, which Validate rejects.
func DefaultConfig(name string) Config {
	c := Config{Name: name}
	switch name {
	case NameSGD:
		c.LR, c.Momentum = 0.01, 0.9
	case NameAdam:
		c.LR, c.Betas, c.Eps = 1e-3, [2]float64{0.9, 0.999}, 1e-8
	case NameAdamW:
		c.LR, c.WeightDecay, c.Betas, c.Eps = 1e-3, 0.01, [2]float64{0.9, 0.999}, 1e-8
	case NameNeuroPlastic:
		c.LR = 1e-3
		c.Plasticity = DefaultPlasticity()
		c.Homeostatic = DefaultHomeostatic()
		c.Memory = MemoryConfig{MomentumDecay: 0.9, VarianceDecay: 0.99}
		c.ActivityTrace = ActivityTraceConfig{Decay: 0.95}
	}
	return c
}

// Baseline returns the protocol's gradient-only ablation: neuroplastic,
// lr 0.1, mode ablation_grad_only, alpha in [0.5, 1.5], homeostatic
// max_update_norm 1, target_rms 0.02, adaptation_rate 0.01.
func Baseline() Config {
	c := DefaultConfig(NameNeuroPlastic)
	c.LR = 0.1
	c.Plasticity.Mode = "ablation_grad_only"
	c.Plasticity.MinAlpha, c.Plasticity.MaxAlpha = 0.5, 1.5
	return c
}

// LockedFull returns the protocol's locked best full configuration:
// neuroplastic, lr 0.1, rule_based, weights 0.4/0.4/0.2, alpha in [0.2, 2],
// warmup_epochs 2, plasticity_scale 2, the same homeostatic settings.
func LockedFull() Config {
	c := DefaultConfig(NameNeuroPlastic)
	c.LR = 0.1
	c.Plasticity.WarmupEpochs = 2
	c.Plasticity.PlasticityScale = 2
	return c
}

// ResolveAliases applies the reference's legacy aliases: a modulation_scope
// other than "all" becomes the layer_scope when layer_scope is "all", and a
// modulation_schedule "warmup" or "late" becomes phase_scope "early" or
// "late" when phase_scope is "full". It is idempotent; ParseConfig and New
// apply it.
func (p *PlasticityConfig) ResolveAliases() {
	if p.LayerScope == "all" && p.ModulationScope != "all" {
		p.LayerScope = p.ModulationScope
	}
	if p.PhaseScope == "full" && p.ModulationSchedule != "constant" {
		switch p.ModulationSchedule {
		case "warmup":
			p.PhaseScope = "early"
		case "late":
			p.PhaseScope = "late"
		}
	}
}

// ConfigError is a rejected configuration: Source names where it came
// from (a file name, or "" for Go values), Field the offending field path
// (for example "plasticity.min_alpha").
type ConfigError struct {
	Source string
	Field  string
	Msg    string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func cfgErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func oneOf(field, value string, allowed []string) error {
	for _, a := range allowed {
		if a == value {
			return nil
		}
	}
	msg := fmt.Sprintf("%q is not allowed; must be one of: %s", value, strings.Join(allowed, ", "))
	if s := closest(value, allowed); s != "" {
		msg = fmt.Sprintf("%q is not allowed (did you mean %q?); must be one of: %s", value, s, strings.Join(allowed, ", "))
	}
	return &ConfigError{Field: field, Msg: msg}
}

func finite(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return cfgErr(field, "must be a finite number, got %v", v)
	}
	return nil
}

// Validate checks every field the way the reference does (and the torch
// optimizers' own argument checks for sgd/adam/adamw); the error is a
// *ConfigError naming the field path.
func (c Config) Validate() error {
	if err := oneOf("name", c.Name, optimizerNames); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"lr", c.LR}, {"weight_decay", c.WeightDecay}} {
		if err := finite(f.name, f.v); err != nil {
			return err
		}
	}
	if c.LR <= 0 {
		return cfgErr("lr", "must be > 0, got %v", c.LR)
	}
	if c.WeightDecay < 0 {
		return cfgErr("weight_decay", "must be >= 0, got %v", c.WeightDecay)
	}
	switch c.Name {
	case NameSGD:
		if err := finite("momentum", c.Momentum); err != nil {
			return err
		}
		if c.Momentum < 0 {
			return cfgErr("momentum", "must be >= 0, got %v", c.Momentum)
		}
		if c.Nesterov && c.Momentum <= 0 {
			return cfgErr("nesterov", "requires momentum > 0")
		}
	case NameAdam, NameAdamW:
		for i, b := range c.Betas {
			if !(b >= 0 && b < 1) {
				return cfgErr(fmt.Sprintf("betas[%d]", i), "must be in [0, 1), got %v", b)
			}
		}
		if !(c.Eps >= 0) || math.IsInf(c.Eps, 0) {
			return cfgErr("eps", "must be >= 0, got %v", c.Eps)
		}
	case NameNeuroPlastic:
		if err := c.Plasticity.validate("plasticity"); err != nil {
			return err
		}
		if err := c.Homeostatic.validate("homeostatic"); err != nil {
			return err
		}
		for _, f := range []struct {
			name string
			v    float64
		}{{"memory.momentum_decay", c.Memory.MomentumDecay}, {"memory.variance_decay", c.Memory.VarianceDecay}, {"activity_trace.decay", c.ActivityTrace.Decay}} {
			if !(f.v >= 0 && f.v <= 1) {
				return cfgErr(f.name, "must be in [0, 1], got %v", f.v)
			}
		}
	}
	return nil
}

func (p PlasticityConfig) validate(prefix string) error {
	f := func(name string) string { return prefix + "." + name }
	enums := []struct {
		name    string
		v       string
		allowed []string
	}{
		{"mode", p.Mode, allowedModes},
		{"hybrid_base", p.HybridBase, allowedHybridBases},
		{"modulation_target", p.ModulationTarget, allowedModulationTargets},
		{"modulation_scope", p.ModulationScope, allowedModulationScopes},
		{"modulation_schedule", p.ModulationSchedule, allowedModulationSchedules},
		{"lr_controller_mode", p.LRControllerMode, allowedControllerModes},
		{"layer_scope", p.LayerScope, allowedLayerScopes},
		{"phase_scope", p.PhaseScope, allowedPhaseScopes},
		{"orthogonal_normalization", p.OrthogonalNormalization, allowedNormalizations},
		{"orthogonal_schedule", p.OrthogonalSchedule, allowedOrthSchedules},
	}
	for _, e := range enums {
		if err := oneOf(f(e.name), e.v, e.allowed); err != nil {
			return err
		}
	}
	nums := []struct {
		name string
		v    float64
	}{
		{"modulation_strength", p.ModulationStrength}, {"modulation_max_ratio", p.ModulationMaxRatio},
		{"controller_alpha", p.ControllerAlpha}, {"controller_low", p.ControllerLow}, {"controller_high", p.ControllerHigh},
		{"base_momentum", p.BaseMomentum}, {"base_beta2", p.BaseBeta2}, {"base_eps", p.BaseEps},
		{"late_start_fraction", p.LateStartFraction}, {"activity_weight", p.ActivityWeight},
		{"gradient_weight", p.GradientWeight}, {"memory_weight", p.MemoryWeight},
		{"plasticity_scale", p.PlasticityScale}, {"residual_max_ratio", p.ResidualMaxRatio},
		{"orthogonal_lambda", p.OrthogonalLambda}, {"orthogonal_max_ratio", p.OrthogonalMaxRatio},
		{"orthogonal_late_start_fraction", p.OrthogonalLateStartFraction},
		{"min_alpha", p.MinAlpha}, {"max_alpha", p.MaxAlpha},
		{"saturation_threshold_fraction", p.SaturationThresholdFraction}, {"eps", p.Eps},
	}
	for _, n := range nums {
		if err := finite(f(n.name), n.v); err != nil {
			return err
		}
	}
	in01 := func(name string, v float64) error {
		if !(v >= 0 && v <= 1) {
			return cfgErr(f(name), "must be in [0, 1], got %v", v)
		}
		return nil
	}
	switch {
	case p.ModulationStrength < 0:
		return cfgErr(f("modulation_strength"), "must be >= 0, got %v", p.ModulationStrength)
	case in01("modulation_max_ratio", p.ModulationMaxRatio) != nil:
		return in01("modulation_max_ratio", p.ModulationMaxRatio)
	case p.ControllerAlpha < 0:
		return cfgErr(f("controller_alpha"), "must be >= 0, got %v", p.ControllerAlpha)
	case p.ControllerLow <= 0:
		return cfgErr(f("controller_low"), "must be > 0, got %v", p.ControllerLow)
	case p.ControllerHigh < p.ControllerLow:
		return cfgErr(f("controller_high"), "must be >= controller_low (%v), got %v", p.ControllerLow, p.ControllerHigh)
	case !(p.BaseMomentum > 0 && p.BaseMomentum < 1):
		return cfgErr(f("base_momentum"), "must be in (0, 1), got %v", p.BaseMomentum)
	case !(p.BaseBeta2 > 0 && p.BaseBeta2 < 1):
		return cfgErr(f("base_beta2"), "must be in (0, 1), got %v", p.BaseBeta2)
	case p.BaseEps <= 0:
		return cfgErr(f("base_eps"), "must be > 0, got %v", p.BaseEps)
	case !(p.LateStartFraction >= 0 && p.LateStartFraction < 1):
		return cfgErr(f("late_start_fraction"), "must be in [0, 1), got %v", p.LateStartFraction)
	case p.ActivityWeight < 0:
		return cfgErr(f("activity_weight"), "plasticity weights must be >= 0, got %v", p.ActivityWeight)
	case p.GradientWeight < 0:
		return cfgErr(f("gradient_weight"), "plasticity weights must be >= 0, got %v", p.GradientWeight)
	case p.MemoryWeight < 0:
		return cfgErr(f("memory_weight"), "plasticity weights must be >= 0, got %v", p.MemoryWeight)
	}
	if s := p.ActivityWeight + p.GradientWeight + p.MemoryWeight; math.Abs(s-1) > 1e-6 {
		return cfgErr(prefix+".{activity_weight,gradient_weight,memory_weight}",
			"plasticity weights must sum to 1.0, got %v + %v + %v = %v", p.ActivityWeight, p.GradientWeight, p.MemoryWeight, s)
	}
	switch {
	case p.PlasticityScale < 0:
		return cfgErr(f("plasticity_scale"), "must be >= 0, got %v", p.PlasticityScale)
	case p.WarmupEpochs < 0:
		return cfgErr(f("warmup_epochs"), "must be >= 0, got %v", p.WarmupEpochs)
	case in01("residual_max_ratio", p.ResidualMaxRatio) != nil:
		return in01("residual_max_ratio", p.ResidualMaxRatio)
	case p.OrthogonalLambda < 0:
		return cfgErr(f("orthogonal_lambda"), "must be >= 0, got %v", p.OrthogonalLambda)
	case in01("orthogonal_max_ratio", p.OrthogonalMaxRatio) != nil:
		return in01("orthogonal_max_ratio", p.OrthogonalMaxRatio)
	case !(p.OrthogonalLateStartFraction >= 0 && p.OrthogonalLateStartFraction < 1):
		return cfgErr(f("orthogonal_late_start_fraction"), "must be in [0, 1), got %v", p.OrthogonalLateStartFraction)
	case p.MinAlpha > p.MaxAlpha:
		return cfgErr(f("min_alpha"), "must be <= max_alpha, got min_alpha %v > max_alpha %v", p.MinAlpha, p.MaxAlpha)
	case p.MinAlpha <= 0:
		return cfgErr(f("min_alpha"), "alpha bounds must be > 0, got %v", p.MinAlpha)
	case p.MaxAlpha <= 0:
		return cfgErr(f("max_alpha"), "alpha bounds must be > 0, got %v", p.MaxAlpha)
	case !(p.SaturationThresholdFraction >= 0 && p.SaturationThresholdFraction <= 0.5):
		return cfgErr(f("saturation_threshold_fraction"), "must be in [0, 0.5], got %v", p.SaturationThresholdFraction)
	case p.Eps <= 0:
		return cfgErr(f("eps"), "must be > 0, got %v", p.Eps)
	}
	return nil
}

func (h HomeostaticConfig) validate(prefix string) error {
	f := func(name string) string { return prefix + "." + name }
	nums := []struct {
		name string
		v    float64
	}{
		{"max_update_norm", h.MaxUpdateNorm}, {"target_rms", h.TargetRMS}, {"adaptation_rate", h.AdaptationRate},
		{"early_target_rms_scale", h.EarlyTargetRMSScale}, {"middle_target_rms_scale", h.MiddleTargetRMSScale},
		{"late_target_rms_scale", h.LateTargetRMSScale}, {"eps", h.Eps},
	}
	for _, n := range nums {
		if err := finite(f(n.name), n.v); err != nil {
			return err
		}
	}
	switch {
	case h.MaxUpdateNorm <= 0:
		return cfgErr(f("max_update_norm"), "must be > 0, got %v", h.MaxUpdateNorm)
	case h.TargetRMS <= 0:
		return cfgErr(f("target_rms"), "must be > 0, got %v", h.TargetRMS)
	case !(h.AdaptationRate >= 0 && h.AdaptationRate <= 1):
		return cfgErr(f("adaptation_rate"), "must be in [0, 1], got %v", h.AdaptationRate)
	case h.EarlyTargetRMSScale <= 0:
		return cfgErr(f("early_target_rms_scale"), "must be > 0, got %v", h.EarlyTargetRMSScale)
	case h.MiddleTargetRMSScale <= 0:
		return cfgErr(f("middle_target_rms_scale"), "must be > 0, got %v", h.MiddleTargetRMSScale)
	case h.LateTargetRMSScale <= 0:
		return cfgErr(f("late_target_rms_scale"), "must be > 0, got %v", h.LateTargetRMSScale)
	case h.Eps <= 0:
		return cfgErr(f("eps"), "must be > 0, got %v", h.Eps)
	}
	return nil
}

// closest returns the candidate nearest to s when it is a plausible
// misspelling, else "".
func closest(s string, candidates []string) string { return suggest.Closest(s, candidates) }

// blockFor returns the value that Config's YAML/JSON form holds: only the
// fields that apply to c.Name, in the trace files' order.
func (c Config) blockFor() any {
	switch c.Name {
	case NameSGD:
		return struct {
			Name        string  `yaml:"name" json:"name"`
			LR          float64 `yaml:"lr" json:"lr"`
			WeightDecay float64 `yaml:"weight_decay" json:"weight_decay"`
			Momentum    float64 `yaml:"momentum" json:"momentum"`
			Nesterov    bool    `yaml:"nesterov" json:"nesterov"`
		}{c.Name, c.LR, c.WeightDecay, c.Momentum, c.Nesterov}
	case NameAdam, NameAdamW:
		return struct {
			Name        string     `yaml:"name" json:"name"`
			LR          float64    `yaml:"lr" json:"lr"`
			WeightDecay float64    `yaml:"weight_decay" json:"weight_decay"`
			Betas       [2]float64 `yaml:"betas,flow" json:"betas"`
			Eps         float64    `yaml:"eps" json:"eps"`
		}{c.Name, c.LR, c.WeightDecay, c.Betas, c.Eps}
	case NameNeuroPlastic:
		return struct {
			Name                 string              `yaml:"name" json:"name"`
			LR                   float64             `yaml:"lr" json:"lr"`
			WeightDecay          float64             `yaml:"weight_decay" json:"weight_decay"`
			Plasticity           PlasticityConfig    `yaml:"plasticity" json:"plasticity"`
			Homeostatic          HomeostaticConfig   `yaml:"homeostatic" json:"homeostatic"`
			DecoupledWeightDecay bool                `yaml:"decoupled_weight_decay" json:"decoupled_weight_decay"`
			Memory               MemoryConfig        `yaml:"memory" json:"memory"`
			ActivityTrace        ActivityTraceConfig `yaml:"activity_trace" json:"activity_trace"`
		}{c.Name, c.LR, c.WeightDecay, c.Plasticity, c.Homeostatic, c.DecoupledWeightDecay, c.Memory, c.ActivityTrace}
	}
	return struct {
		Name string `yaml:"name" json:"name"`
	}{c.Name}
}

// MarshalJSON writes only the fields that apply to c.Name.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.blockFor()) }

// MarshalYAML writes only the fields that apply to c.Name.
func (c Config) MarshalYAML() (any, error) { return c.blockFor(), nil }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
