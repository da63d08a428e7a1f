package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/repro-np/repro/plots"
	"github.com/repro-np/repro/results"
)

func init() { commands = append(commands, newFiguresCmd, newReportCmd) }

// reportOptions are the inputs of `repro report`.
type reportOptions struct {
	From     string // a study directory or a directory holding several
	Format   string // table, csv or markdown
	Baseline string // overrides the baseline of summary.json
	Out      io.Writer
}

func newReportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report --from DIR",
		Short: "Re-summarise saved runs and print their tables, without training",
		Long: `report reads every runs/<run>/metrics.json of a study, recomputes its
statistics (per-variant mean, std and 95% CI; paired differences against the
baseline with t-test, sign-test and Wilcoxon p-values; seed-wise wins), rewrites
summary.json, summary.csv, runs.csv and summary.md, and prints the tables.

--from may name one study directory (holding runs/ or summary.json) or a
directory holding several, e.g. out/. A study with only a summary.json is
printed as it is. Runs that diverged or did not finish are listed but not
averaged in.`,
		Example: `  repro report --from out/fashion-ablation
  repro report --from out --format markdown > results.md
  repro report --from out/lowdata --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := bindViper(cmd)
			if err != nil {
				return err
			}
			return runReport(reportOptions{From: v.GetString("from"), Format: v.GetString("format"),
				Baseline: v.GetString("baseline"), Out: cmd.OutOrStdout()})
		},
	}
	f := cmd.Flags()
	f.String("from", "", "study directory, or a directory holding several (required)")
	f.String("format", "table", "output format: table, csv or markdown")
	f.String("baseline", "", "baseline variant to compare against (default: the one in summary.json, else grad-only)")
	return cmd
}

// runReport re-summarises every study under o.From and prints it.
func runReport(o reportOptions) error {
	if o.From == "" {
		return usagef("report needs --from DIR (a study directory such as out/fashion-ablation, or out)")
	}
	switch o.Format {
	case "table", "csv", "markdown":
	default:
		return usagef("--format %q: expected table, csv or markdown", o.Format)
	}
	studies, err := results.FindStudies(o.From)
	if err != nil {
		return err
	}
	var errs []error
	for i, dir := range studies {
		s, _, err := loadStudy(dir, o.Baseline, true)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if i > 0 {
			fmt.Fprintln(o.Out)
		}
		switch o.Format {
		case "table":
			err = results.PrintTables(o.Out, s)
		case "csv":
			err = results.WriteCSV(o.Out, s)
		case "markdown":
			err = results.WriteMarkdown(o.Out, s)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("printing %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// loadStudy recomputes a study's summary from its run records, keeping the
// experiment name, spec and baseline of an existing summary.json (baseline
// overrides it when set), and rewrites the summary files when write is set.
// It returns the summary and the run records. A study without run records
// falls back to its summary.json as written (and no runs).
func loadStudy(dir, baseline string, write bool) (*results.Summary, []results.Run, error) {
	old, oldErr := results.ReadSummary(filepath.Join(dir, results.SummaryJSON))
	if fi, err := os.Stat(filepath.Join(dir, results.RunsDir)); err != nil || !fi.IsDir() {
		if oldErr != nil {
			return nil, nil, oldErr
		}
		return old, nil, nil
	}
	runs, err := results.ReadRuns(dir)
	if err != nil {
		return nil, nil, err
	}
	experiment, spec := runs[0].Experiment, any(nil)
	if oldErr == nil {
		experiment, spec = old.Experiment, old.Spec
		if baseline == "" {
			baseline = old.Baseline
		}
	}
	if baseline == "" {
		baseline = plots.DefaultBaseline
	}
	if experiment == "" {
		experiment = filepath.Base(dir)
	}
	s := results.Summarize(experiment, baseline, spec, runs)
	if oldErr == nil {
		s.SpecHash = old.SpecHash
	}
	if write {
		if err := s.WriteFiles(dir); err != nil {
			return nil, nil, err
		}
	}
	return s, runs, nil
}
