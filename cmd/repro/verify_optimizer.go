package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/repro-np/repro/optimizers"
)

func init() { commands = append(commands, newVerifyOptimizerCmd) }

func newVerifyOptimizerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify-optimizer TRACE.json...",
		Short: "Replay optimizer traces recorded from the reference code and compare step by step",
		Long: `verify-optimizer replays conformance traces (format optimizer-trace/v1): each
holds a short training run recorded from the reference PyTorch implementation
- the optimizer configuration, the initial parameters, the gradient of every
step and the parameters after it. The recorded gradients go through this
harness's optimizer and the parameters are compared after every step against
|ours - theirs| <= 1e-5 + 1e-4*|theirs|.

It prints one row per trace (id, optimizer, steps, worst absolute and relative
error, PASS/FAIL) and exits with status 1 if any trace fails or cannot be read.`,
		Example: `  repro verify-optimizer ../shared/conformance/traces/*.json
  repro verify-optimizer optimizers/testdata/traces/np-full-locked-best.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("verify-optimizer needs at least one trace file, e.g. repro verify-optimizer traces/*.json")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyOptimizer(cmd.OutOrStdout(), cmd.ErrOrStderr(), args)
		},
	}
}

// errVerifyFailed is returned when a trace fails or cannot be read; the
// details are already printed.
var errVerifyFailed = errors.New("optimizer verification failed")

// runVerifyOptimizer replays every trace in paths, prints the table to out
// and one line per unreadable file to errw, and returns an error (exit 1)
// if any trace failed or could not be read.
func runVerifyOptimizer(out, errw io.Writer, paths []string) error {
	table := tablewriter.NewWriter(out)
	table.Header("trace", "optimizer", "steps", "worst abs err", "worst rel err", "result")
	var failed []string
	var problems []string
	for _, path := range paths {
		tr, err := optimizers.LoadTrace(path)
		if err != nil {
			problems = append(problems, err.Error())
			failed = append(failed, path)
			if err := table.Append(path, "-", "-", "-", "-", "ERROR"); err != nil {
				return err
			}
			continue
		}
		rep, err := optimizers.Replay(tr)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", path, err))
			failed = append(failed, path)
			if err := table.Append(tr.ID, tr.Config.Name, "-", "-", "-", "ERROR"); err != nil {
				return err
			}
			continue
		}
		result := "PASS"
		if !rep.Pass {
			result = "FAIL"
			failed = append(failed, path)
			problems = append(problems, fmt.Sprintf("%s: %s first out of tolerance at %s", path, rep.ID, rep.FirstFailure))
		}
		if err := table.Append(rep.ID, rep.Optimizer, strconv.Itoa(rep.Steps),
			fmt.Sprintf("%.3g", rep.MaxAbsErr), fmt.Sprintf("%.3g", rep.MaxRelErr), result); err != nil {
			return err
		}
	}
	if err := table.Render(); err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(errw, "repro: "+p)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %d of %d trace(s) failed or could not be read", errVerifyFailed, len(failed), len(paths))
	}
	fmt.Fprintf(out, "all %d trace(s) within |ours-theirs| <= %g + %g*|theirs|\n", len(paths), optimizers.AbsTol, optimizers.RelTol)
	return nil
}
