package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/repro-np/repro/experiments"
	"github.com/repro-np/repro/results"
)

func init() { commands = append(commands, newRunCmd, newListCmd) }

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the experiments repro can run",
		Example: "  repro list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			for _, name := range experiments.Names() {
				s, _ := experiments.Lookup(name)
				fmt.Fprintf(w, "%-18s %s\n", name, s.Description)
			}
			return nil
		},
	}
}

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run <experiment>",
		Short: "Train an experiment's runs and print its comparison table",
		Long: `run trains every (variant, seed) run of an experiment, evaluates the full test set
after each epoch, and writes:

  <out>/runs/<run>/metrics.json   one record per epoch for each run
  <out>/summary.json              per-run results, per-variant mean/std/CI, comparisons
  <out>/summary.csv, summary.md   the same tables as CSV and Markdown

Progress goes to stderr, one line per epoch. Flags left unset keep the
experiment's protocol values (see 'repro list'); every flag can also be set
through the environment as REPRO_<FLAG> (e.g. REPRO_DATA_DIR) or a --config file.`,
		Example: `  # the paper's headline on Fashion-MNIST (3 seeds, 10 epochs)
  repro run fashion-ablation

  # a quick look: 1 seed, 1 epoch, first 5000 training images
  repro run fashion-ablation --seeds 1 --epochs 1 --train-limit 5000

  # reduced data and few-shot
  repro run lowdata --fractions 0.1,0.25
  repro run fewshot --shots 5

  # CIFAR-10 with the small CNN on the first 10,000 images
  repro run cifar10-transfer --model small-cnn --data-dir data/cifar10 --train-limit 10000`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("run needs exactly one experiment name (valid: %s)", strings.Join(experiments.Names(), ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := bindViper(cmd)
			if err != nil {
				return err
			}
			return runExperiment(cmd, v, args[0])
		},
	}
	f := cmd.Flags()
	f.Int("seeds", 0, "number of seeds, 41..41+N-1 (default: the experiment's)")
	f.Int("epochs", 0, "epochs per run (default: the experiment's)")
	f.Int("batch-size", 0, "training mini-batch size (default: the experiment's)")
	f.String("variants", "", "variants to train, comma-separated (default: all)")
	f.String("data-dir", "", "dataset directory (default: the dataset's standard location)")
	f.String("out", "", "output directory (default: out/<experiment>)")
	f.Int("train-limit", 0, "use only the first N training examples (quick looks)")
	f.Int("test-limit", 0, "evaluate on only the first N test examples (quick looks)")
	f.Int("jobs", 0, "runs trained side by side (default: one per core)")
	f.Int("threads", 0, "kernel threads per run (default: cores / jobs); results do not depend on it")
	f.String("fractions", "", "lowdata: training fractions in (0,1], e.g. 0.1,0.25,0.5,1.0")
	f.String("subset-indices", "", "lowdata/fewshot: JSON list of training indices to use instead of the drawn subset")
	f.String("shots", "", "fewshot: examples per class, e.g. 1,5,10,20 or 5")
	f.Int("steps", 0, "fewshot: total optimizer steps, spread over the epochs (default 300)")
	f.String("model", "", "cifar10-transfer: resnet18 or small-cnn (default resnet18)")
	f.String("lr", "", "mnist-tuning: learning rates of the grid, e.g. 0.1,0.05")
	f.String("warmup-epochs", "", "mnist-tuning: warmup epochs of the grid, e.g. 0,1,2")
	f.String("plasticity-scale", "", "mnist-tuning: plasticity scales of the grid, e.g. 0.5,1,2")
	return cmd
}

// runExperiment resolves the study from the flags and trains it.
func runExperiment(cmd *cobra.Command, v *viper.Viper, name string) error {
	s, err := buildStudy(v, name)
	if err != nil {
		return err
	}
	out := v.GetString("out")
	if out == "" {
		out = filepath.Join("out", s.Name)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	opts := experiments.Options{
		DataDir: v.GetString("data-dir"), Out: out,
		Jobs: v.GetInt("jobs"), Threads: v.GetInt("threads"),
		Progress: cmd.ErrOrStderr(),
	}
	if opts.Jobs < 0 || opts.Threads < 0 {
		return usagef("--jobs and --threads must be >= 0")
	}
	res, err := experiments.Run(ctx, s, opts)
	if res != nil && res.Summary != nil {
		fmt.Fprintln(cmd.OutOrStdout())
		results.PrintTables(cmd.OutOrStdout(), res.Summary)
		fmt.Fprintf(cmd.OutOrStdout(), "\nresults written to %s\n", out)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; run the same command again to resume")
	}
	return err
}

// buildStudy applies the flags to the registered study and validates it.
func buildStudy(v *viper.Viper, name string) (*experiments.Study, error) {
	var s *experiments.Study
	var err error
	if name == "mnist-tuning" {
		g := experiments.DefaultGrid()
		if g.LR, err = floatList(v, "lr", g.LR); err != nil {
			return nil, err
		}
		if g.PlasticityScale, err = floatList(v, "plasticity-scale", g.PlasticityScale); err != nil {
			return nil, err
		}
		ws, err := floatList(v, "warmup-epochs", nil)
		if err != nil {
			return nil, err
		}
		if ws != nil {
			g.WarmupEpochs = g.WarmupEpochs[:0]
			for _, w := range ws {
				if w != float64(int(w)) || w < 0 {
					return nil, usagef("--warmup-epochs: %g is not a non-negative integer", w)
				}
				g.WarmupEpochs = append(g.WarmupEpochs, int(w))
			}
		}
		s = experiments.MNISTTuningGrid(g)
	} else if s, err = experiments.Lookup(name); err != nil {
		return nil, usageError{err}
	}
	positive := func(flag string, dst *int) error {
		if !v.IsSet(flag) {
			return nil
		}
		n := v.GetInt(flag)
		if n <= 0 {
			return usagef("--%s must be a positive integer, got %s", flag, v.GetString(flag))
		}
		*dst = n
		return nil
	}
	var seeds int
	for _, p := range []struct {
		flag string
		dst  *int
	}{{"seeds", &seeds}, {"epochs", &s.Epochs}, {"batch-size", &s.BatchSize}, {"steps", &s.Steps},
		{"train-limit", &s.TrainLimit}, {"test-limit", &s.TestLimit}} {
		if err := positive(p.flag, p.dst); err != nil {
			return nil, err
		}
	}
	if seeds > 0 {
		s.Seeds = experiments.DefaultSeeds(seeds)
	}
	if vs := strings.TrimSpace(v.GetString("variants")); vs != "" {
		if err := s.SelectVariants(strings.Split(vs, ",")); err != nil {
			return nil, usageError{err}
		}
	}
	if fr, err := floatList(v, "fractions", nil); err != nil {
		return nil, err
	} else if fr != nil {
		if s.Name != "lowdata" {
			return nil, usagef("--fractions applies to lowdata only")
		}
		s.Fractions = fr
	}
	if sh, err := floatList(v, "shots", nil); err != nil {
		return nil, err
	} else if sh != nil {
		if s.Name != "fewshot" {
			return nil, usagef("--shots applies to fewshot only")
		}
		s.Shots = nil
		for _, k := range sh {
			if k != float64(int(k)) || k <= 0 {
				return nil, usagef("--shots: %g is not a positive integer", k)
			}
			s.Shots = append(s.Shots, int(k))
		}
	}
	if f := v.GetString("subset-indices"); f != "" {
		s.SubsetFile = f
	}
	if m := v.GetString("model"); m != "" {
		if s.Dataset != "cifar10" {
			return nil, usagef("--model applies to cifar10-transfer only")
		}
		if m != "resnet18" && m != "small-cnn" {
			return nil, usagef("--model must be resnet18 or small-cnn, got %q", m)
		}
		s.Model = m
	}
	if err := s.Validate(); err != nil {
		return nil, usageError{err}
	}
	return s, nil
}

// floatList parses a comma-separated list flag; unset gives def.
func floatList(v *viper.Viper, flag string, def []float64) ([]float64, error) {
	raw := strings.TrimSpace(v.GetString(flag))
	if raw == "" {
		return def, nil
	}
	var out []float64
	for _, part := range strings.Split(raw, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, usagef("--%s: %q is not a number (expected a comma-separated list like 0.1,0.5)", flag, part)
		}
		out = append(out, x)
	}
	return out, nil
}
