// Package plots draws the paper's figures from saved run records with
// gonum/plot, as PNG and SVG: accuracy and loss against epoch with a ±1 std
// band (Figs. 2 and 4), final accuracy and loss against a study axis such as
// the training fraction or the number of shots with 95 % CI bars (Fig. 3 and
// the few-shot figure), and the plasticity dynamics (Fig. 5).
//
// Output is deterministic: everything is drawn in sorted order and the
// files carry no timestamps, so rebuilding from the same results gives
// byte-identical files.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/repro-np/repro/results"
)

// Figure size and PNG resolution.
const (
	width  = 7 * vg.Inch
	height = 4.5 * vg.Inch
	dpi    = 150
	// maxCurves is the most variants drawn in one epoch figure; a grid study
	// shows its baseline and its best variants by mean final accuracy.
	maxCurves = 6
)

// DefaultBaseline is the baseline variant assumed when neither a summary
// nor the caller names one.
const DefaultBaseline = "grad-only"

// Fixed colours of the paper's two variants; every other variant takes the
// next colour of palette in sorted name order.
var (
	fixedColors = map[string]color.NRGBA{
		"grad-only": {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
		"full":      {R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	}
	palette = []color.NRGBA{
		{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // orange
		{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // green
		{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
		{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, // brown
		{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, // pink
		{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, // grey
		{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, // olive
		{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, // cyan
	}
)

// style is how one variant is drawn in every figure of a study.
type style struct {
	color color.NRGBA
	dash  []vg.Length
}

// variantStyles assigns each variant its colour (and, past the palette, a dash
// pattern): grad-only and full fixed, the others by sorted name.
func variantStyles(variants []string) map[string]style {
	names := append([]string{}, variants...)
	sort.Strings(names)
	out := map[string]style{}
	i := 0
	for _, v := range names {
		if _, done := out[v]; done {
			continue
		}
		if c, ok := fixedColors[v]; ok {
			out[v] = style{color: c}
			continue
		}
		st := style{color: palette[i%len(palette)]}
		if round := i / len(palette); round > 0 {
			st.dash = []vg.Length{vg.Points(float64(2 + 2*round)), vg.Points(2)}
		}
		out[v] = st
		i++
	}
	return out
}

// WriteAll draws every figure of one study into outDir (default
// <studyDir>/figures) and returns the files written. runs defaults to the
// study's run records and s to their summary (with the baseline of an
// existing summary.json, else DefaultBaseline).
func WriteAll(studyDir, outDir string, runs []results.Run, s *results.Summary) ([]string, error) {
	if outDir == "" {
		outDir = filepath.Join(studyDir, "figures")
	}
	if runs == nil {
		var err error
		if runs, err = results.ReadRuns(studyDir); err != nil {
			return nil, err
		}
	}
	if s == nil {
		baseline, spec, experiment := DefaultBaseline, any(nil), ""
		if old, err := results.ReadSummary(filepath.Join(studyDir, results.SummaryJSON)); err == nil {
			baseline, spec, experiment = old.Baseline, old.Spec, old.Experiment
		}
		if experiment == "" && len(runs) > 0 {
			experiment = runs[0].Experiment
		}
		s = results.Summarize(experiment, baseline, spec, runs)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating figure directory %s: %w", outDir, err)
	}
	figs, err := Figures(runs, s)
	if err != nil {
		return nil, err
	}
	var written []string
	for _, f := range figs {
		for _, format := range []string{"png", "svg"} {
			data, err := render(f.Plot, format)
			if err != nil {
				return written, fmt.Errorf("rendering %s.%s: %w", f.Name, format, err)
			}
			path := filepath.Join(outDir, f.Name+"."+format)
			if err := results.WriteFileAtomic(path, data); err != nil {
				return written, err
			}
			written = append(written, path)
		}
	}
	return written, nil
}

// Figure is one named plot; Name is the file name without extension.
type Figure struct {
	Name string
	Plot *plot.Plot
}

// Figures builds every figure of a study, in a fixed order: per group the
// test accuracy and test loss against epoch and, when the runs carry
// NeuroPlastic diagnostics, mean alpha and effective update norm against
// epoch; then, for an axis that varies across groups (fraction, shots),
// final test accuracy and loss against it.
func Figures(runs []results.Run, s *results.Summary) ([]Figure, error) {
	sorted := results.SortRuns(runs, s.Baseline)
	var variants []string
	for _, r := range sorted {
		variants = append(variants, r.Variant)
	}
	styles := variantStyles(variants)
	groups := results.GroupOrder(sorted)

	var figs []Figure
	for _, g := range groups {
		cells := epochCells(sorted, g, s)
		suffix := ""
		if g != "" {
			suffix = "-" + fileSafe(g)
		}
		note := ""
		if n := countVariants(sorted, g); n > len(cells) {
			note = fmt.Sprintf(" (baseline and best %d of %d variants)", len(cells)-1, n)
		}
		where := s.Experiment
		if g != "" {
			where += ", " + g
		}
		for _, m := range []struct {
			name, key, title, ylabel string
			top                      bool
		}{
			{"test-accuracy", "test_accuracy", "test accuracy", "test accuracy (%)", false},
			{"test-loss", "test_loss", "test loss", "test loss (cross-entropy)", true},
			{"alpha-mean", "alpha_mean", "plasticity: mean alpha", "mean alpha", true},
			{"update-norm", "effective_update_norm", "plasticity: effective update norm", "effective update norm", true},
		} {
			curves := seriesOf(cells, m.key)
			if len(curves) == 0 {
				continue // e.g. no diagnostics for these optimizers
			}
			p, err := epochPlot(fmt.Sprintf("%s: %s%s\nmean ± 1 std over seeds", where, m.title, note), m.ylabel, curves, styles, m.top)
			if err != nil {
				return nil, fmt.Errorf("figure %s%s: %w", m.name, suffix, err)
			}
			figs = append(figs, Figure{Name: m.name + suffix, Plot: p})
		}
	}

	for _, axis := range varyingAxes(s) {
		for _, m := range []struct {
			name, title, ylabel string
			get                 func(a results.Aggregate) results.Stat
			top                 bool
		}{
			{"final-accuracy-vs-" + fileSafe(axis), "final test accuracy", "final test accuracy (%)",
				func(a results.Aggregate) results.Stat { return a.FinalTestAccuracy }, false},
			{"final-loss-vs-" + fileSafe(axis), "final test loss", "final test loss (cross-entropy)",
				func(a results.Aggregate) results.Stat { return a.FinalTestLoss }, true},
		} {
			p, err := axisPlot(s, axis, fmt.Sprintf("%s: %s vs %s\nmean with 95%% CI over seeds", s.Experiment, m.title, axis),
				m.ylabel, m.get, styles, m.top)
			if err != nil {
				return nil, fmt.Errorf("figure %s: %w", m.name, err)
			}
			if p != nil {
				figs = append(figs, Figure{Name: m.name, Plot: p})
			}
		}
	}
	return figs, nil
}

// cell is one variant's included runs within a group.
type cell struct {
	variant string
	runs    []results.Run
}

func countVariants(runs []results.Run, group string) int {
	seen := map[string]bool{}
	for _, r := range runs {
		if r.Group == group {
			seen[r.Variant] = true
		}
	}
	return len(seen)
}

// epochCells returns the variants of a group to draw against epoch, in
// display order, with their included runs; grid groups are cut to the
// baseline and the best variants of the summary's ranking.
func epochCells(sorted []results.Run, group string, s *results.Summary) []cell {
	var cells []cell
	for _, r := range sorted {
		if r.Group != group || !results.Included(&r) {
			continue
		}
		if len(cells) == 0 || cells[len(cells)-1].variant != r.Variant {
			cells = append(cells, cell{variant: r.Variant})
		}
		cells[len(cells)-1].runs = append(cells[len(cells)-1].runs, r)
	}
	if len(cells) <= maxCurves {
		return cells
	}
	keep := map[string]bool{s.Baseline: true}
	n := 0
	for _, e := range s.Ranking {
		if e.Group == group && n < maxCurves-1 && e.Variant != s.Baseline {
			keep[e.Variant] = true
			n++
		}
	}
	var out []cell
	for _, c := range cells {
		if keep[c.variant] {
			out = append(out, c)
		}
	}
	return out
}

// curve is the per-epoch mean and std of one quantity for one variant.
type curve struct {
	variant   string
	n         int
	x, mean   []float64
	std       []float64
	hasSpread bool
}

func epochValue(e results.Epoch, key string) (float64, bool) {
	switch key {
	case "test_accuracy":
		return e.TestAccuracy, true
	case "test_loss":
		return e.TestLoss, true
	}
	v, ok := e.Diagnostics[key]
	return v, ok
}

// seriesOf computes each cell's curve of key over epochs; variants without
// any value of key are left out.
func seriesOf(cells []cell, key string) []curve {
	var out []curve
	for _, c := range cells {
		byEpoch := map[int][]float64{}
		for _, r := range c.runs {
			for _, e := range r.Epochs {
				if v, ok := epochValue(e, key); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					byEpoch[e.Epoch] = append(byEpoch[e.Epoch], v)
				}
			}
		}
		if len(byEpoch) == 0 {
			continue
		}
		epochs := make([]int, 0, len(byEpoch))
		for e := range byEpoch {
			epochs = append(epochs, e)
		}
		sort.Ints(epochs)
		cv := curve{variant: c.variant, n: len(c.runs)}
		for _, e := range epochs {
			vs := byEpoch[e]
			sd := results.StdDev(vs)
			if math.IsNaN(sd) {
				sd = 0
			} else {
				cv.hasSpread = true
			}
			cv.x = append(cv.x, float64(e))
			cv.mean = append(cv.mean, results.Mean(vs))
			cv.std = append(cv.std, sd)
		}
		out = append(out, cv)
	}
	return out
}

func newPlot(title, xlabel, ylabel string, legendTop bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Legend.Top = legendTop
	p.Legend.Left = false
	p.Legend.ThumbnailWidth = vg.Points(20)
	p.Legend.XOffs = -vg.Points(6)
	if legendTop {
		p.Legend.YOffs = -vg.Points(4)
	} else {
		p.Legend.YOffs = vg.Points(4)
	}
	p.Add(plotter.NewGrid())
	return p
}

// legendRoom widens the y range on the legend's side so that the legend
// (entries lines tall) sits clear of the data.
func legendRoom(p *plot.Plot, entries int) {
	r := p.Y.Max - p.Y.Min
	if r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return
	}
	extra := r * 0.08 * float64(entries+1)
	if p.Legend.Top {
		p.Y.Max += extra
	} else {
		p.Y.Min -= extra
	}
}

func epochPlot(title, ylabel string, curves []curve, styles map[string]style, legendTop bool) (*plot.Plot, error) {
	p := newPlot(title, "epoch", ylabel, legendTop)
	p.X.Tick.Marker = integerTicks{}
	// Bands first so every mean line is drawn above every band.
	bands := map[string]*plotter.Polygon{}
	for _, c := range curves {
		if !c.hasSpread {
			continue
		}
		pts := make(plotter.XYs, 0, 2*len(c.x))
		for i := range c.x {
			pts = append(pts, plotter.XY{X: c.x[i], Y: c.mean[i] + c.std[i]})
		}
		for i := len(c.x) - 1; i >= 0; i-- {
			pts = append(pts, plotter.XY{X: c.x[i], Y: c.mean[i] - c.std[i]})
		}
		poly, err := plotter.NewPolygon(pts)
		if err != nil {
			return nil, err
		}
		col := styles[c.variant].color
		col.A = 0x40
		poly.Color = col
		poly.LineStyle.Width = 0
		p.Add(poly)
		bands[c.variant] = poly
	}
	for _, c := range curves {
		pts := make(plotter.XYs, len(c.x))
		for i := range c.x {
			pts[i] = plotter.XY{X: c.x[i], Y: c.mean[i]}
		}
		line, marks, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		st := styles[c.variant]
		line.LineStyle.Color, line.LineStyle.Width, line.LineStyle.Dashes = st.color, vg.Points(1.5), st.dash
		marks.GlyphStyle.Color, marks.GlyphStyle.Radius, marks.GlyphStyle.Shape = st.color, vg.Points(2), draw.CircleGlyph{}
		p.Add(line, marks)
		label := fmt.Sprintf("%s (n=%d)", c.variant, c.n)
		if b := bands[c.variant]; b != nil {
			p.Legend.Add(label, b, line, marks)
		} else {
			p.Legend.Add(label, line, marks)
		}
	}
	legendRoom(p, len(curves))
	return p, nil
}

// varyingAxes lists the axes (sorted) that every aggregate of a grouped
// study shares within its group and that take more than one value across
// groups - the x axis of Fig. 3 and the few-shot figure.
func varyingAxes(s *results.Summary) []string {
	if len(s.Groups) < 2 || len(s.Aggregates) == 0 {
		return nil
	}
	values := map[string]map[float64]bool{}
	for _, k := range sortedAxisNames(s.Aggregates[0].Axes) {
		values[k] = map[float64]bool{}
	}
	for _, a := range s.Aggregates {
		for k := range values {
			v, ok := a.Axes[k]
			if !ok {
				delete(values, k)
				continue
			}
			values[k][v] = true
		}
	}
	var out []string
	for _, k := range sortedAxisNames(values) {
		if len(values[k]) > 1 {
			out = append(out, k)
		}
	}
	return out
}

func sortedAxisNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ciBars are points with asymmetric vertical error bars.
type ciBars struct {
	plotter.XYs
	lo, hi []float64 // distances below and above
}

func (c ciBars) YError(i int) (float64, float64) { return c.lo[i], c.hi[i] }

func axisPlot(s *results.Summary, axis, title, ylabel string, get func(results.Aggregate) results.Stat,
	styles map[string]style, legendTop bool) (*plot.Plot, error) {
	// Variants in summary order (baseline first), each with its points sorted by axis value.
	var order []string
	byVariant := map[string][]results.Aggregate{}
	for _, a := range s.Aggregates {
		if a.N == 0 || get(a).Mean.IsNaN() {
			continue
		}
		if _, ok := byVariant[a.Variant]; !ok {
			order = append(order, a.Variant)
		}
		byVariant[a.Variant] = append(byVariant[a.Variant], a)
	}
	if len(order) == 0 {
		return nil, nil
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, a := range s.Aggregates {
		xmin, xmax = math.Min(xmin, a.Axes[axis]), math.Max(xmax, a.Axes[axis])
	}
	// Dodge the variants sideways by a little so their bars do not overlap.
	dodge := 0.008 * (xmax - xmin)
	p := newPlot(title, axis, ylabel, legendTop)
	for vi, v := range order {
		as := byVariant[v]
		sort.SliceStable(as, func(i, j int) bool { return as[i].Axes[axis] < as[j].Axes[axis] })
		off := (float64(vi) - float64(len(order)-1)/2) * dodge
		var pts plotter.XYs
		bars := ciBars{}
		nmin, nmax := math.MaxInt, 0
		for _, a := range as {
			st := get(a)
			pt := plotter.XY{X: a.Axes[axis] + off, Y: float64(st.Mean)}
			pts = append(pts, pt)
			if !st.CI95Low.IsNaN() && !st.CI95High.IsNaN() {
				bars.XYs = append(bars.XYs, pt)
				bars.lo = append(bars.lo, float64(st.Mean-st.CI95Low))
				bars.hi = append(bars.hi, float64(st.CI95High-st.Mean))
			}
			nmin, nmax = min(nmin, a.N), max(nmax, a.N)
		}
		st := styles[v]
		line, marks, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		line.LineStyle.Color, line.LineStyle.Width, line.LineStyle.Dashes = st.color, vg.Points(1.5), st.dash
		marks.GlyphStyle.Color, marks.GlyphStyle.Radius, marks.GlyphStyle.Shape = st.color, vg.Points(2.5), draw.CircleGlyph{}
		p.Add(line, marks)
		if len(bars.XYs) > 0 {
			eb, err := plotter.NewYErrorBars(bars)
			if err != nil {
				return nil, err
			}
			eb.LineStyle.Color, eb.LineStyle.Width = st.color, vg.Points(1.2)
			eb.CapWidth = vg.Points(6)
			p.Add(eb)
		}
		label := fmt.Sprintf("%s (n=%d)", v, nmax)
		if nmin != nmax {
			label = fmt.Sprintf("%s (n=%d-%d)", v, nmin, nmax)
		}
		p.Legend.Add(label, line, marks)
	}
	legendRoom(p, len(order))
	p.X.Tick.Marker = valueTicks(s, axis)
	// Keep the outermost error bars clear of the plot's edges.
	pad := 0.05 * (xmax - xmin)
	if pad == 0 {
		pad = 0.5
	}
	p.X.Min, p.X.Max = xmin-pad, xmax+pad
	return p, nil
}

// valueTicks puts a labelled tick at each axis value of the study.
func valueTicks(s *results.Summary, axis string) plot.Ticker {
	seen := map[float64]bool{}
	var vals []float64
	for _, a := range s.Aggregates {
		if v, ok := a.Axes[axis]; ok && !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	sort.Float64s(vals)
	ticks := make(plot.ConstantTicks, len(vals))
	for i, v := range vals {
		ticks[i] = plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)}
	}
	return ticks
}

// integerTicks labels whole epochs only.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	step := math.Max(1, math.Ceil((max-min)/10))
	for v := math.Ceil(min); v <= max; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return out
}

func render(p *plot.Plot, format string) ([]byte, error) {
	var buf bytes.Buffer
	switch format {
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
		p.Draw(draw.New(c))
		if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
			return nil, err
		}
	default:
		wt, err := p.WriterTo(width, height, format)
		if err != nil {
			return nil, err
		}
		if _, err := wt.WriteTo(&buf); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// fileSafe turns a group or axis name such as "fraction=0.25" into a file
// name part ("fraction-0.25").
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}
