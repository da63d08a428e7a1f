package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/repro-np/repro/experiments"
	"github.com/repro-np/repro/plots"
	"github.com/repro-np/repro/results"
)

// figuresOptions are the inputs of `repro figures`.
type figuresOptions struct {
	From     string // a study directory or a directory holding several
	OutDir   string // where figures go; default <study>/figures
	Baseline string // overrides the baseline of summary.json
	Out      io.Writer
}

func newFiguresCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "figures --from DIR [--out DIR]",
		Short: "Rebuild every figure of saved studies as PNG and SVG, without training",
		Long: `figures reads the run records (runs/<run>/metrics.json) of a study and draws
the paper's figures as PNG and SVG:

  test-accuracy[-<group>]      test accuracy vs epoch, mean ± 1 std over seeds (Figs. 2, 4)
  test-loss[-<group>]          test loss vs epoch, likewise (Fig. 4)
  alpha-mean[-<group>]         mean plasticity alpha per epoch (Fig. 5), when recorded
  update-norm[-<group>]        effective update norm per epoch (Fig. 5), when recorded
  final-accuracy-vs-<axis>     final test accuracy vs fraction or shots, 95% CI bars (Fig. 3)
  final-loss-vs-<axis>         final test loss vs the same axis (Fig. 3)

--from may name one study directory or a directory holding several. Figures go
to <study>/figures unless --out is given; with several studies, --out DIR puts
each study's figures in DIR/<study>. The same results always give
byte-identical files.`,
		Example: `  repro figures --from out/fashion-ablation
  repro figures --from out --out paper-figures`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := bindViper(cmd)
			if err != nil {
				return err
			}
			return runFigures(figuresOptions{From: v.GetString("from"), OutDir: v.GetString("out"),
				Baseline: v.GetString("baseline"), Out: cmd.OutOrStdout()})
		},
	}
	f := cmd.Flags()
	f.String("from", "", "study directory, or a directory holding several (required)")
	f.String("out", "", "directory for the figures (default <study>/figures)")
	f.String("baseline", "", "baseline variant (default: the one in summary.json, else grad-only)")
	return cmd
}

// runFigures draws the figures of every study under o.From.
func runFigures(o figuresOptions) error {
	if o.From == "" {
		return usagef("figures needs --from DIR (a study directory such as out/fashion-ablation, or out)")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	studies, err := results.FindStudies(o.From)
	if err != nil {
		return err
	}
	var errs []error
	fig2 := map[string]plots.Panel{} // experiment -> panel, for the two-study Fig. 2
	for _, dir := range studies {
		out := filepath.Join(dir, "figures")
		if o.OutDir != "" {
			out = o.OutDir
			if len(studies) > 1 {
				rel, err := filepath.Rel(o.From, dir)
				if err != nil {
					rel = filepath.Base(dir)
				}
				out = filepath.Join(o.OutDir, rel)
			}
		}
		if fi, err := os.Stat(filepath.Join(dir, results.RunsDir)); err != nil || !fi.IsDir() {
			errs = append(errs, fmt.Errorf("%s: expected run records in runs/<run>/%s to draw figures from", dir, results.MetricsFile))
			continue
		}
		s, runs, err := loadStudy(dir, o.Baseline, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files, err := plots.WriteAll(dir, out, runs, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("figures of %s: %w", dir, err))
			continue
		}
		fmt.Fprintf(o.Out, "%s: %d figure files in %s\n", s.Experiment, len(files), out)
		switch s.Experiment {
		case "fashion-ablation":
			fig2[s.Experiment] = plots.Panel{Title: "Fashion-MNIST", Runs: runs, Baseline: s.Baseline, Treatment: "full"}
		case "mnist-tuning":
			fig2[s.Experiment] = plots.Panel{Title: "MNIST", Runs: runs, Baseline: s.Baseline, Treatment: experiments.LockedGridVariant()}
		}
	}
	if len(fig2) == 2 { // both panels of the paper's Fig. 2 are here
		out := o.OutDir
		if out == "" {
			out = filepath.Join(o.From, "figures")
		}
		files, err := plots.Figure2(out, []plots.Panel{fig2["mnist-tuning"], fig2["fashion-ablation"]})
		if err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintf(o.Out, "Fig. 2 (MNIST and Fashion-MNIST panels): %d files in %s\n", len(files), out)
		}
	}
	return errors.Join(errs...)
}
