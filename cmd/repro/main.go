// Command repro reproduces the experiments of "NeuroPlastic: A
// Plasticity-Modulated Optimizer for Biologically Inspired Learning Dynamics"
// (arXiv:2604.26297) on a plain CPU.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// usageError marks an error caused by how repro was called (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit status 2) with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// commands holds the constructors of the subcommands; each command file adds
// its own in an init function so that command files stay independent.
var commands []func() *cobra.Command

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "repro",
		Short: "Reproduce the NeuroPlastic optimizer paper's experiments on a CPU",
		Long: `repro trains the models of the NeuroPlastic paper (arXiv:2604.26297) with the
NeuroPlastic optimizer and its gradient-only ablation, and rebuilds the paper's
tables and figures, from a single binary with no Python stack.

Settings come from flags, from REPRO_* environment variables (REPRO_DATA_DIR,
REPRO_JOBS, ...) and from an optional config file given with --config.`,
		Example: `  repro list
  repro run fashion-ablation
  repro run fewshot --shots 5
  repro figures --from out/fashion-ablation`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("config", "", "config file (YAML or JSON) with flag values, e.g. {epochs: 3}")
	root.PersistentFlags().String("cpuprofile", "", "write a Go CPU profile of the command to this file")
	var prof *os.File
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		path, _ := cmd.Flags().GetString("cpuprofile")
		if path == "" {
			return nil
		}
		f, err := os.Create(path)
		if err != nil {
			return usagef("--cpuprofile: %v", err)
		}
		prof = f
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
	}
	for _, c := range commands {
		root.AddCommand(c())
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	return root
}

// bindViper makes every flag of cmd also settable from REPRO_<FLAG> and from
// the --config file; flags given on the command line win.
func bindViper(cmd *cobra.Command) (*viper.Viper, error) {
	v := viper.New()
	v.SetEnvPrefix("REPRO")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return nil, err
	}
	if f, _ := cmd.Flags().GetString("config"); f != "" {
		v.SetConfigFile(f)
		if err := v.ReadInConfig(); err != nil {
			return nil, usagef("reading config file %s: %v", f, err)
		}
	}
	return v, nil
}

// exitCode maps an error to the process exit status: 2 for usage errors,
// the error's own code when it carries one (130 after an interrupt), 1 otherwise.
func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return 1
}

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "repro: "+err.Error())
		os.Exit(exitCode(err))
	}
}
