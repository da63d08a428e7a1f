package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/repro-np/repro/experiments"
	"github.com/repro-np/repro/internal/suggest"
	"github.com/repro-np/repro/optimizers"
	"github.com/repro-np/repro/plots"
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
  <out>/figures/                 the study's figures (PNG and SVG)

Every run is checkpointed at the end of each epoch (runs/<run>/checkpoint.safetensors,
loadable with safetensors.torch.load_file). Running the same command again on the
same --out resumes unfinished runs from their checkpoints and skips finished and
diverged ones; a run whose settings changed starts over (its old files move to
<out>/stale/). --fresh starts the whole study over. Ctrl-C (SIGINT) or SIGTERM stops
after the current step, keeping the last epoch's checkpoint, and prints the command
that resumes; a second Ctrl-C exits at once. Only one repro run may use an output
directory at a time ('repro status --from DIR' shows how far it got).

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

  # challenge the claim: add your own optimizer as a third arm
  repro run fashion-ablation --variant-config adamw=adamw.yaml   # adamw.yaml: {name: adamw, lr: 0.001}

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
			if err := checkConfigKeys(cmd, v); err != nil {
				return err
			}
			return runExperiment(cmd, v, args[0])
		},
	}
	f := cmd.Flags()
	f.Bool("fresh", false, "start over: remove this study's earlier runs in --out instead of resuming them")
	f.Int("seeds", 0, "number of seeds, 41..41+N-1 (default: the experiment's)")
	f.Int("epochs", 0, "epochs per run (default: the experiment's)")
	f.Int("batch-size", 0, "training mini-batch size (default: the experiment's)")
	f.String("variants", "", "variants to train, comma-separated (default: all)")
	f.StringArray("variant-config", nil, "NAME=FILE: train variant NAME with the optimizer config in FILE (YAML or JSON,\nsee optimizers/testdata/traces for every field); replaces a variant of that name or adds one; repeatable")
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
	if os.Getenv("GOGC") == "" {
		// Training allocates almost nothing per step; what garbage there is
		// comes once per epoch (checkpoints, records). The dataset dominates
		// the live heap, so Go's default (heap may reach twice the live set)
		// would spend memory for no speed: collect at +40 % instead.
		debug.SetGCPercent(40)
	}
	out := v.GetString("out")
	if out == "" {
		out = filepath.Join("out", s.Name)
	}
	opts := experiments.Options{
		DataDir: v.GetString("data-dir"), Out: out,
		Jobs: v.GetInt("jobs"), Threads: v.GetInt("threads"),
		Progress: cmd.ErrOrStderr(), Fresh: v.GetBool("fresh"),
	}
	if opts.Jobs < 0 || opts.Threads < 0 {
		return usagef("--jobs and --threads must be >= 0")
	}
	hint := resumeCommand(cmd, name)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	stopSignals := handleSignals(sigs, cancel, cmd.ErrOrStderr(), hint, os.Exit)
	defer stopSignals()
	res, err := experiments.Run(ctx, s, opts)
	if res != nil && res.Summary != nil {
		fmt.Fprintln(cmd.OutOrStdout())
		if perr := results.PrintTables(cmd.OutOrStdout(), res.Summary); perr != nil && err == nil {
			err = perr
		}
		if err == nil {
			figDir := filepath.Join(out, "figures")
			files, ferr := plots.WriteAll(out, figDir, res.Runs, res.Summary)
			if ferr != nil {
				return fmt.Errorf("writing figures: %w", ferr)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\n%d figure files in %s\n", len(files), figDir)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "results written to %s\n", out)
	}
	if errors.Is(err, context.Canceled) {
		return interruptedError{hint}
	}
	var se *experiments.SettingError
	if errors.As(err, &se) {
		return usageError{err}
	}
	return err
}

// interruptedError ends a run stopped by SIGINT or SIGTERM. ExitCode is
// the conventional status for a process stopped by Ctrl-C.
type interruptedError struct{ resume string }

func (e interruptedError) Error() string {
	return "interrupted; every run keeps its last completed epoch. Resume with:\n  " + e.resume
}

// ExitCode is 130, as for a process stopped by SIGINT.
func (e interruptedError) ExitCode() int { return 130 }

// handleSignals turns the first signal on sigs into cancel (the runs stop
// after their current step) and a second one into exit(130) at once. The
// returned function stops watching.
func handleSignals(sigs <-chan os.Signal, cancel func(), stderr io.Writer, hint string, exit func(int)) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "\nrepro: %v: stopping after the current step (send it again to exit at once)\n", sig)
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "repro: %v again: exiting now; the last completed epoch of every run is kept. Resume with:\n  %s\n", sig, hint)
			exit(130)
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// resumeCommand is the command line that continues this run: the same
// experiment and flags, without --fresh.
func resumeCommand(cmd *cobra.Command, name string) string {
	args := []string{cmd.Root().Name(), "run", shellQuote(name)}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name != "fresh" {
			args = append(args, "--"+f.Name+"="+shellQuote(f.Value.String()))
		}
	})
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,:=+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkConfigKeys rejects settings in the --config file that are not flags
// of cmd, suggesting the closest flag name.
func checkConfigKeys(cmd *cobra.Command, v *viper.Viper) error {
	file, _ := cmd.Flags().GetString("config")
	if file == "" {
		return nil
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	for _, key := range v.AllKeys() {
		if cmd.Flags().Lookup(key) != nil {
			continue
		}
		if best := suggest.Closest(strings.ReplaceAll(key, "_", "-"), names); best != "" {
			return usagef("config file %s: unknown setting %q (did you mean %q?)", file, key, best)
		}
		return usagef("config file %s: unknown setting %q (settings are the flags of 'repro run', e.g. epochs, seeds, batch-size)", file, key)
	}
	return nil
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
	for _, vc := range v.GetStringSlice("variant-config") {
		name, file, ok := strings.Cut(vc, "=")
		if !ok {
			return nil, usagef("--variant-config %q: expected NAME=FILE", vc)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--variant-config: %v", err)
		}
		cfg, err := optimizers.ParseConfig(data, file)
		if err != nil {
			return nil, usageError{err}
		}
		if err := s.SetVariant(strings.TrimSpace(name), cfg); err != nil {
			return nil, usagef("--variant-config: %v", err)
		}
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
