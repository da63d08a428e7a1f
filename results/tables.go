package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	twcfg "github.com/olekukonko/tablewriter/tw"
)

// Table is one titled table of formatted cells.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
}

// NA is what a table shows for an undefined number (the spread or interval
// of a single run, a comparison without pairs).
const NA = "n/a"

func fmtNum(x Float, prec int) string {
	if x.IsNaN() {
		return NA
	}
	return strconv.FormatFloat(float64(x), 'f', prec, 64)
}

func fmtSigned(x Float, prec int) string {
	if x.IsNaN() {
		return NA
	}
	return fmt.Sprintf("%+.*f", prec, float64(x))
}

func fmtMeanStd(s Stat, prec int) string {
	if s.Mean.IsNaN() {
		return NA
	}
	if s.Std.IsNaN() {
		return fmtNum(s.Mean, prec) + " ± " + NA
	}
	return fmtNum(s.Mean, prec) + " ± " + fmtNum(s.Std, prec)
}

func fmtCI(lo, hi Float, prec int, signed bool) string {
	if lo.IsNaN() || hi.IsNaN() {
		return NA
	}
	f := fmtNum
	if signed {
		f = fmtSigned
	}
	return "[" + f(lo, prec) + ", " + f(hi, prec) + "]"
}

func fmtP(p Float) string {
	if p.IsNaN() {
		return NA
	}
	if p < 0.0001 {
		return "<0.0001"
	}
	return strconv.FormatFloat(float64(p), 'f', 4, 64)
}

// Precision of the displayed numbers: accuracies in percent with 2
// decimals, losses with 4, seconds with 1.
const (
	accPrec  = 2
	lossPrec = 4
	secPrec  = 1
)

func (s *Summary) hasGroups() bool {
	for _, g := range s.Groups {
		if g != "" {
			return true
		}
	}
	return false
}

// withGroup prefixes a group column when the study has groups.
func (s *Summary) withGroup(group string, cells ...string) []string {
	if !s.hasGroups() {
		return cells
	}
	if group == "" {
		group = "-"
	}
	return append([]string{group}, cells...)
}

// DisplayTables returns the tables shown in the terminal and in
// summary.md: per run, per variant, the comparisons against the baseline
// (accuracy and loss) and, for grid studies, the ranking.
func DisplayTables(s *Summary) []Table {
	var out []Table
	runs := Table{Title: "Runs", Header: s.withGroup("Group", "Variant", "Seed", "Status", "Epochs",
		"Final acc (%)", "Best acc (%)", "Final loss", "Time (s)")}
	for _, r := range s.Runs {
		status := r.Status
		if !r.Included && status == StatusComplete {
			status += " (non-finite)"
		}
		if r.Diverged != nil {
			status += fmt.Sprintf(" @ epoch %d", r.Diverged.Epoch)
		}
		runs.Rows = append(runs.Rows, s.withGroup(r.Group, r.Variant, strconv.Itoa(r.Seed), status,
			strconv.Itoa(r.Epochs), fmtNum(r.FinalTestAccuracy, accPrec), fmtNum(r.BestTestAccuracy, accPrec),
			fmtNum(r.FinalTestLoss, lossPrec), fmtNum(r.TrainSeconds, secPrec)))
	}
	out = append(out, runs)

	title := "Per variant over seeds (mean ± std, 95 % CI from Student t)"
	if s.Excluded > 0 {
		title += fmt.Sprintf("; %d run(s) not complete, left out", s.Excluded)
	}
	agg := Table{Title: title, Header: s.withGroup("Group", "Variant", "n", "Final acc (%)", "Final acc 95% CI",
		"Best acc (%)", "Final loss", "Final loss 95% CI", "Time (s)")}
	for _, a := range s.Aggregates {
		n := strconv.Itoa(a.N)
		if a.Excluded > 0 {
			n += fmt.Sprintf(" (+%d excl.)", a.Excluded)
		}
		agg.Rows = append(agg.Rows, s.withGroup(a.Group, a.Variant, n,
			fmtMeanStd(a.FinalTestAccuracy, accPrec), fmtCI(a.FinalTestAccuracy.CI95Low, a.FinalTestAccuracy.CI95High, accPrec, false),
			fmtMeanStd(a.BestTestAccuracy, accPrec),
			fmtMeanStd(a.FinalTestLoss, lossPrec), fmtCI(a.FinalTestLoss.CI95Low, a.FinalTestLoss.CI95High, lossPrec, false),
			fmtMeanStd(a.TrainSeconds, secPrec)))
	}
	out = append(out, agg)

	if len(s.Comparisons) > 0 {
		for _, m := range []struct {
			title string
			prec  int
			get   func(c Comparison) Paired
		}{
			{"Final test accuracy: treatment − baseline (points), paired by seed", accPrec, func(c Comparison) Paired { return c.FinalTestAccuracy }},
			{"Final test loss: treatment − baseline, paired by seed (lower is better)", lossPrec, func(c Comparison) Paired { return c.FinalTestLoss }},
		} {
			t := Table{Title: m.title, Header: s.withGroup("Group", "Treatment", "Baseline", "Pairs", "Mean diff", "95% CI",
				"t-test p", "Sign p", "Wilcoxon p", "Wins/Losses/Ties")}
			for _, c := range s.Comparisons {
				p := m.get(c)
				base := c.Baseline
				if c.BaselineGroup != c.Group {
					base += " (" + c.BaselineGroup + ")"
				}
				t.Rows = append(t.Rows, s.withGroup(c.Group, c.Treatment, base, strconv.Itoa(p.N),
					fmtSigned(p.MeanDiff, m.prec), fmtCI(p.CI95Low, p.CI95High, m.prec, true),
					fmtP(p.TTestP), fmtP(p.SignTestP), fmtP(p.WilcoxonP),
					fmt.Sprintf("%d/%d/%d", p.Wins, p.Losses, p.Ties)))
			}
			out = append(out, t)
		}
	}

	if len(s.Ranking) > 0 {
		t := Table{Title: "Ranking by mean final test accuracy", Header: s.withGroup("Group", "Rank", "Variant", "Axes", "n", "Final acc (%)")}
		for _, e := range s.Ranking {
			t.Rows = append(t.Rows, s.withGroup(e.Group, strconv.Itoa(e.Rank), e.Variant, FormatAxes(e.Axes), strconv.Itoa(e.N),
				fmtMeanStd(Stat{Mean: e.MeanFinalTestAccuracy, Std: e.StdFinalTestAccuracy}, accPrec)))
		}
		out = append(out, t)
	}
	return out
}

// FormatAxes writes axis values as "a=1 b=0.5", names sorted.
func FormatAxes(axes map[string]float64) string {
	keys := sortedKeys(axes)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatFloat(axes[k], 'g', -1, 64)
	}
	return strings.Join(parts, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Summary) header(w io.Writer) {
	fmt.Fprintf(w, "Study %s", s.Experiment)
	if s.SpecHash != "" {
		fmt.Fprintf(w, " (spec %s)", s.SpecHash)
	}
	fmt.Fprintf(w, ": %d run(s) averaged, %d left out (diverged, partial or missing); baseline %s\n",
		s.Included, s.Excluded, s.Baseline)
}

// PrintTables prints every table of the summary to w for a terminal.
func PrintTables(w io.Writer, s *Summary) error {
	s.header(w)
	for _, note := range s.Warnings {
		fmt.Fprintf(w, "note: %s\n", note)
	}
	for _, t := range DisplayTables(s) {
		fmt.Fprintf(w, "\n%s\n", t.Title)
		tw := tablewriter.NewWriter(w)
		tw.Options(tablewriter.WithHeaderAutoFormat(twcfg.Off))
		tw.Header(anySlice(t.Header)...)
		for _, row := range t.Rows {
			if err := tw.Append(anySlice(row)...); err != nil {
				return fmt.Errorf("table %q: %w", t.Title, err)
			}
		}
		if err := tw.Render(); err != nil {
			return fmt.Errorf("table %q: %w", t.Title, err)
		}
	}
	return nil
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// WriteMarkdown writes the summary as a Markdown document: a heading, the
// notes, and every display table as a pipe table.
func WriteMarkdown(w io.Writer, s *Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", s.Experiment)
	s.header(&b)
	for _, note := range s.Warnings {
		fmt.Fprintf(&b, "\n- note: %s", note)
	}
	if len(s.Warnings) > 0 {
		b.WriteString("\n")
	}
	for _, t := range DisplayTables(s) {
		fmt.Fprintf(&b, "\n## %s\n\n", t.Title)
		writeMDRow(&b, t.Header)
		sep := make([]string, len(t.Header))
		for i := range sep {
			sep[i] = "---"
		}
		writeMDRow(&b, sep)
		for _, r := range t.Rows {
			writeMDRow(&b, r)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMDRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
	}
	b.WriteString("\n")
}

func csvNum(x Float) string {
	if x.IsNaN() {
		return ""
	}
	return strconv.FormatFloat(float64(x), 'g', -1, 64)
}

func axisNames(s *Summary) []string {
	set := map[string]bool{}
	for _, r := range s.Runs {
		for k := range r.Axes {
			set[k] = true
		}
	}
	return sortedKeys(set)
}

// WriteCSV writes one row per (group, variant): its aggregates and, for a
// treatment, its paired comparison against the baseline. Numbers are
// written in full precision; undefined values are empty cells.
func WriteCSV(w io.Writer, s *Summary) error {
	axes := axisNames(s)
	header := []string{"experiment", "group", "variant"}
	for _, a := range axes {
		header = append(header, "axis_"+a)
	}
	header = append(header, "n", "excluded")
	for _, m := range []string{"final_test_accuracy", "best_test_accuracy", "final_test_loss", "train_seconds"} {
		header = append(header, m+"_mean", m+"_std", m+"_ci95_low", m+"_ci95_high")
	}
	header = append(header, "baseline", "pairs")
	for _, m := range []string{"acc_diff", "loss_diff"} {
		header = append(header, m+"_mean", m+"_ci95_low", m+"_ci95_high", m+"_t_test_p", m+"_sign_test_p",
			m+"_wilcoxon_p", m+"_wins", m+"_losses", m+"_ties")
	}
	cw := csv.NewWriter(w)
	cw.Write(header)
	cmp := map[[2]string]Comparison{}
	for _, c := range s.Comparisons {
		cmp[[2]string{c.Group, c.Treatment}] = c
	}
	for _, a := range s.Aggregates {
		row := []string{s.Experiment, a.Group, a.Variant}
		for _, k := range axes {
			if v, ok := a.Axes[k]; ok {
				row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, strconv.Itoa(a.N), strconv.Itoa(a.Excluded))
		for _, st := range []Stat{a.FinalTestAccuracy, a.BestTestAccuracy, a.FinalTestLoss, a.TrainSeconds} {
			row = append(row, csvNum(st.Mean), csvNum(st.Std), csvNum(st.CI95Low), csvNum(st.CI95High))
		}
		if c, ok := cmp[[2]string{a.Group, a.Variant}]; ok {
			row = append(row, c.Baseline, strconv.Itoa(c.FinalTestAccuracy.N))
			for _, p := range []Paired{c.FinalTestAccuracy, c.FinalTestLoss} {
				row = append(row, csvNum(p.MeanDiff), csvNum(p.CI95Low), csvNum(p.CI95High), csvNum(p.TTestP),
					csvNum(p.SignTestP), csvNum(p.WilcoxonP), strconv.Itoa(p.Wins), strconv.Itoa(p.Losses), strconv.Itoa(p.Ties))
			}
		} else {
			row = append(row, make([]string, 2+2*9)...)
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// WriteRunsCSV writes one row per run with its final numbers.
func WriteRunsCSV(w io.Writer, s *Summary) error {
	axes := axisNames(s)
	header := []string{"experiment", "group", "variant", "seed"}
	for _, a := range axes {
		header = append(header, "axis_"+a)
	}
	header = append(header, "status", "included", "epochs", "final_test_accuracy", "best_test_accuracy",
		"final_test_loss", "train_seconds")
	cw := csv.NewWriter(w)
	cw.Write(header)
	for _, r := range s.Runs {
		row := []string{s.Experiment, r.Group, r.Variant, strconv.Itoa(r.Seed)}
		for _, k := range axes {
			if v, ok := r.Axes[k]; ok {
				row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, r.Status, strconv.FormatBool(r.Included), strconv.Itoa(r.Epochs),
			csvNum(r.FinalTestAccuracy), csvNum(r.BestTestAccuracy), csvNum(r.FinalTestLoss), csvNum(r.TrainSeconds))
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}
