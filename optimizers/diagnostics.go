package optimizers

import "math"

// DiagnosticKeys lists the keys NeuroPlastic's Diagnostics returns. They
// aggregate every step since the last ResetDiagnostics the way the
// reference's collect_diagnostics does: alpha statistics run over every
// element of every tensor of every step; a "norm" is the square root of the
// sum of the squared per-tensor, per-step norms (the epoch's total L2
// norm); fractions are counts over counts.
//
//	alpha_mean, alpha_std, alpha_min, alpha_max  over all alpha values
//	alpha_median                 from a 64-bin histogram over [min_alpha, max_alpha] (bin centre)
//	saturation_low_fraction      fraction of alpha <= min_alpha + saturation_threshold_fraction*(max_alpha-min_alpha)
//	saturation_high_fraction     fraction of alpha >= max_alpha - the same margin
//	grad_norm                    raw gradient
//	param_norm                   parameters before the update (after decoupled decay)
//	raw_update_norm              update before stabilisation (base + delta + coupled decay)
//	effective_update_norm        lr multiplier * stabilised update
//	delta_norm                   plasticity delta (the part of the update beyond the base)
//	weight_decay_term_norm       wd * p
//	effective_update_to_param_ratio   effective_update_norm / param_norm
//	effective_to_gradient_norm_ratio  effective_update_norm / grad_norm
//	stabilization_norm_ratio     effective_update_norm / raw_update_norm
//	delta_to_update_ratio        delta_norm / raw_update_norm
//	orthogonal_signal_norm, orthogonal_residual_norm, orthogonal_skip_fraction,
//	cosine_similarity_grad_plasticity, cosine_similarity_grad_orthogonal   (orthogonal residual)
//	modulation_active_fraction, modulation_magnitude_<g>, modulation_active_fraction_<g>
//	                             (hybrid bases; g in conv, classifier, early_blocks, late_blocks)
//	controller_signal_mean/min/max, controller_multiplier_mean/min/max,
//	controller_clamp_fraction_low/high, controller_signal_mean_<c>, controller_multiplier_mean_<c>
//	                             (c in stem, classifier, early_blocks, late_blocks)
//	steps                        optimizer steps aggregated
//
// The reference's own names are also present as aliases so its plots read
// unchanged: alpha_fraction_near_min, alpha_fraction_near_max,
// raw_gradient_norm, parameter_norm, plasticity_delta_norm.
var DiagnosticKeys = []string{
	"alpha_mean", "alpha_std", "alpha_min", "alpha_max", "alpha_median",
	"saturation_low_fraction", "saturation_high_fraction",
	"grad_norm", "param_norm", "raw_update_norm", "effective_update_norm", "delta_norm",
	"weight_decay_term_norm", "effective_update_to_param_ratio", "effective_to_gradient_norm_ratio",
	"stabilization_norm_ratio", "delta_to_update_ratio",
	"orthogonal_signal_norm", "orthogonal_residual_norm", "orthogonal_skip_fraction",
	"cosine_similarity_grad_plasticity", "cosine_similarity_grad_orthogonal",
	"modulation_active_fraction",
	"modulation_magnitude_conv", "modulation_magnitude_classifier",
	"modulation_magnitude_early_blocks", "modulation_magnitude_late_blocks",
	"modulation_active_fraction_conv", "modulation_active_fraction_classifier",
	"modulation_active_fraction_early_blocks", "modulation_active_fraction_late_blocks",
	"controller_signal_mean", "controller_signal_min", "controller_signal_max",
	"controller_multiplier_mean", "controller_multiplier_min", "controller_multiplier_max",
	"controller_clamp_fraction_low", "controller_clamp_fraction_high",
	"controller_signal_mean_stem", "controller_signal_mean_classifier",
	"controller_signal_mean_early_blocks", "controller_signal_mean_late_blocks",
	"controller_multiplier_mean_stem", "controller_multiplier_mean_classifier",
	"controller_multiplier_mean_early_blocks", "controller_multiplier_mean_late_blocks",
	"steps",
	"alpha_fraction_near_min", "alpha_fraction_near_max", "raw_gradient_norm", "parameter_norm",
	"plasticity_delta_norm",
}

var modGroupNames = [4]string{"conv", "classifier", "early_blocks", "late_blocks"}

// npDiag accumulates one epoch's diagnostics.
type npDiag struct {
	steps                                 int
	hist                                  [64]float64
	nearLo, nearHi                        float64 // thresholds
	alphaSum, alphaSq, alphaMin, alphaMax float64
	alphaCount, nearLoCount, nearHiCount  int
	gradSq, paramSq, rawUpdateSq          float64
	effUpdateSq, deltaSq, wdSq            float64
	orthSignalSq, orthResidualSq          float64
	gradPlastDot, gradOrthDot             float64
	orthSkip, orthActive                  int
	modParams, modActive                  int
	modGroupParams, modGroupActive        [4]int
	modGroupDeltaSq                       [4]float64
	ctrlSigSum, ctrlMultSum               float64
	ctrlSigMin, ctrlSigMax                float64
	ctrlMultMin, ctrlMultMax              float64
	ctrlCount, ctrlLow, ctrlHigh          int
	groupCount                            [numGroups]int
	groupSigSum, groupMultSum             [numGroups]float64
}

func (d *npDiag) ctrlRecord(t *npTensor, pc *PlasticityConfig) {
	s, m := t.sigApplied, t.multiplier
	d.ctrlSigSum += s
	d.ctrlMultSum += m
	d.ctrlCount++
	d.ctrlSigMin, d.ctrlSigMax = math.Min(d.ctrlSigMin, s), math.Max(d.ctrlSigMax, s)
	d.ctrlMultMin, d.ctrlMultMax = math.Min(d.ctrlMultMin, m), math.Max(d.ctrlMultMax, m)
	if m <= pc.ControllerLow+1e-9 {
		d.ctrlLow++
	}
	if m >= pc.ControllerHigh-1e-9 {
		d.ctrlHigh++
	}
	d.groupCount[t.group]++
	d.groupSigSum[t.group] += s
	d.groupMultSum[t.group] += m
}

// ResetDiagnostics starts a new aggregation window.
func (o *neuroPlastic) ResetDiagnostics() {
	margin := (o.pc.MaxAlpha - o.pc.MinAlpha) * o.pc.SaturationThresholdFraction
	o.diag = npDiag{
		nearLo: o.pc.MinAlpha + margin, nearHi: o.pc.MaxAlpha - margin,
		alphaMin: math.Inf(1), alphaMax: math.Inf(-1),
		ctrlSigMin: math.Inf(1), ctrlSigMax: math.Inf(-1),
		ctrlMultMin: math.Inf(1), ctrlMultMax: math.Inf(-1),
	}
}

// Diagnostics returns the aggregate since the last reset; see DiagnosticKeys.
func (o *neuroPlastic) Diagnostics() map[string]float64 {
	d := &o.diag
	out := make(map[string]float64, len(DiagnosticKeys))
	for _, k := range DiagnosticKeys {
		out[k] = 0
	}
	for _, k := range []string{"controller_multiplier_mean", "controller_multiplier_min", "controller_multiplier_max"} {
		out[k] = 1
	}
	for _, g := range groupNames {
		out["controller_multiplier_mean_"+g] = 1
	}
	out["steps"] = float64(d.steps)
	gradN := math.Sqrt(d.gradSq)
	rawN := math.Sqrt(d.rawUpdateSq)
	effN := math.Sqrt(d.effUpdateSq)
	out["grad_norm"], out["raw_update_norm"], out["effective_update_norm"] = gradN, rawN, effN
	if d.alphaCount == 0 {
		out["raw_gradient_norm"] = gradN
		return out
	}
	cnt := float64(d.alphaCount)
	mean := d.alphaSum / cnt
	variance := math.Max(d.alphaSq/cnt-mean*mean, 0)
	// median: first bin whose cumulative count reaches half the count
	// (torch.searchsorted, left side).
	half, cum, idx := cnt/2, 0.0, len(d.hist)
	for i, h := range d.hist {
		cum += h
		if cum >= half {
			idx = i
			break
		}
	}
	width := (o.pc.MaxAlpha - o.pc.MinAlpha) / float64(len(d.hist))
	paramN := math.Sqrt(d.paramSq)
	deltaN := math.Sqrt(d.deltaSq)
	orthS, orthR := math.Sqrt(d.orthSignalSq), math.Sqrt(d.orthResidualSq)
	set := map[string]float64{
		"alpha_mean":                        mean,
		"alpha_std":                         math.Sqrt(variance),
		"alpha_median":                      o.pc.MinAlpha + (float64(idx)+0.5)*width,
		"alpha_min":                         d.alphaMin,
		"alpha_max":                         d.alphaMax,
		"saturation_low_fraction":           float64(d.nearLoCount) / cnt,
		"saturation_high_fraction":          float64(d.nearHiCount) / cnt,
		"param_norm":                        paramN,
		"delta_norm":                        deltaN,
		"weight_decay_term_norm":            math.Sqrt(d.wdSq),
		"effective_update_to_param_ratio":   effN / math.Max(paramN, 1e-12),
		"effective_to_gradient_norm_ratio":  effN / math.Max(gradN, 1e-12),
		"stabilization_norm_ratio":          effN / math.Max(rawN, 1e-12),
		"delta_to_update_ratio":             deltaN / math.Max(rawN, 1e-12),
		"orthogonal_signal_norm":            orthS,
		"orthogonal_residual_norm":          orthR,
		"cosine_similarity_grad_plasticity": d.gradPlastDot / math.Max(gradN*orthS, 1e-12),
		"cosine_similarity_grad_orthogonal": d.gradOrthDot / math.Max(gradN*orthR, 1e-12),
	}
	for k, v := range set {
		out[k] = v
	}
	if d.orthActive > 0 {
		out["orthogonal_skip_fraction"] = float64(d.orthSkip) / float64(d.orthActive)
	}
	if d.modParams > 0 {
		out["modulation_active_fraction"] = float64(d.modActive) / float64(d.modParams)
	}
	for i, g := range modGroupNames {
		out["modulation_magnitude_"+g] = math.Sqrt(d.modGroupDeltaSq[i])
		if d.modGroupParams[i] > 0 {
			out["modulation_active_fraction_"+g] = float64(d.modGroupActive[i]) / float64(d.modGroupParams[i])
		}
	}
	if d.ctrlCount > 0 {
		c := float64(d.ctrlCount)
		out["controller_signal_mean"] = d.ctrlSigSum / c
		out["controller_signal_min"], out["controller_signal_max"] = d.ctrlSigMin, d.ctrlSigMax
		out["controller_multiplier_mean"] = d.ctrlMultSum / c
		out["controller_multiplier_min"], out["controller_multiplier_max"] = d.ctrlMultMin, d.ctrlMultMax
		out["controller_clamp_fraction_low"] = float64(d.ctrlLow) / c
		out["controller_clamp_fraction_high"] = float64(d.ctrlHigh) / c
	}
	for i, g := range groupNames {
		if d.groupCount[i] > 0 {
			out["controller_signal_mean_"+g] = d.groupSigSum[i] / float64(d.groupCount[i])
			out["controller_multiplier_mean_"+g] = d.groupMultSum[i] / float64(d.groupCount[i])
		}
	}
	// the reference's names
	out["alpha_fraction_near_min"] = out["saturation_low_fraction"]
	out["alpha_fraction_near_max"] = out["saturation_high_fraction"]
	out["raw_gradient_norm"] = gradN
	out["parameter_norm"] = paramN
	out["plasticity_delta_norm"] = deltaN
	return out
}

// npBuffers are the per-tensor state buffers in State order.
var npBuffers = []string{"trace", "m", "v", "base_m", "base_v"}

func (t *npTensor) buffers() [][]float32 {
	return [][]float32{t.trace, t.m, t.v, t.baseM, t.baseV}
}

// State returns the per-tensor trace, m, v, base_m, base_v and step count
// and the epoch. Diagnostics are not part of the state: LoadState resets them.
func (o *neuroPlastic) State() State {
	var b stateBuilder
	for i := range o.tensors {
		t := &o.tensors[i]
		for k, buf := range t.buffers() {
			b.tensor(i, npBuffers[k], t.p.Shape, buf)
		}
		b.scalar(tensorName(i, "step"), t.step)
	}
	o.save(&b)
	return b.s
}

// LoadState restores a State from State; on error nothing changes.
func (o *neuroPlastic) LoadState(s State) error {
	l, err := newStateLoader(o.cfg.Name, s)
	if err != nil {
		return err
	}
	loaded := make([][][]float32, len(o.tensors))
	steps := make([]float64, len(o.tensors))
	for i := range o.tensors {
		t := &o.tensors[i]
		for _, name := range npBuffers {
			data, err := l.tensor(i, name, t.p.Shape, t.n)
			if err != nil {
				return err
			}
			loaded[i] = append(loaded[i], data)
		}
		if steps[i], err = l.scalar(tensorName(i, "step")); err != nil {
			return err
		}
	}
	clock, err := o.load(l)
	if err != nil {
		return err
	}
	if err := l.finish(); err != nil {
		return err
	}
	for i := range o.tensors {
		for k, buf := range o.tensors[i].buffers() {
			copy(buf, loaded[i][k])
		}
		o.tensors[i].step = steps[i]
	}
	o.epochClock = clock
	o.ResetDiagnostics()
	return nil
}
