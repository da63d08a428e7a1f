package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/repro-np/repro/experiments"
	"github.com/repro-np/repro/results"
)

func init() { commands = append(commands, newStatusCmd) }

func newStatusCmd() *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "status --from DIR",
		Short: "Show which runs of a study are complete, partial, missing or diverged",
		Long: `status reads the study a 'repro run' stored in DIR (study.json) and shows every
run it expects as a matrix of variants by seeds, one per group (fraction, shots):

  complete         all epochs trained
  partial k/N      k of N epochs done; 'repro run' resumes it from epoch k
  missing          not started
  diverged eE sS   stopped producing finite numbers at epoch E, step S (not retried)
  stale            runs/<run> holds files of different settings; 'repro run' moves them aside
  unreadable       its files cannot be read (listed below the matrix)

It also says whether a 'repro run' is working in DIR now.`,
		Example: `  repro status --from out/fashion-ablation
  repro status --from out/lowdata`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("status takes no arguments; give the study directory with --from DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usagef("status needs --from DIR, the output directory of a 'repro run'")
			}
			return runStatus(cmd.OutOrStdout(), from)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the study's output directory (the --out of 'repro run')")
	return cmd
}

// runStatus prints the status matrix of the study stored in dir.
func runStatus(w io.Writer, dir string) error {
	s, err := experiments.ReadStudy(dir)
	if err != nil {
		return err
	}
	specs := experiments.Expand(s)
	states := make([]experiments.RunState, len(specs))
	counts := map[string]int{}
	for i := range specs {
		states[i] = experiments.InspectRun(dir, specs[i])
		st := states[i].Status
		if states[i].Err != nil {
			st = "unreadable"
		}
		counts[st]++
	}
	fmt.Fprintf(w, "%s in %s: %d runs (%d epochs each)", s.Name, dir, len(specs), s.Epochs)
	for _, st := range []string{results.StatusComplete, results.StatusPartial, results.StatusMissing,
		results.StatusDiverged, experiments.StatusStale, "unreadable"} {
		if counts[st] > 0 || st == results.StatusComplete {
			fmt.Fprintf(w, ", %d %s", counts[st], st)
		}
	}
	fmt.Fprintln(w)
	if info, alive, ok := experiments.ReadLock(dir); ok && alive {
		fmt.Fprintf(w, "a repro run is working here now: PID %d on %s, started %s\n", info.PID, info.Host, info.Started)
	}

	// One matrix per group: variants down, seeds across.
	var groups []string
	byGroup := map[string][]int{}
	for i, sp := range specs {
		if _, ok := byGroup[sp.Group]; !ok {
			groups = append(groups, sp.Group)
		}
		byGroup[sp.Group] = append(byGroup[sp.Group], i)
	}
	for _, g := range groups {
		fmt.Fprintln(w)
		if g != "" {
			fmt.Fprintf(w, "%s:\n", g)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		header := []string{"variant"}
		for _, seed := range s.Seeds {
			header = append(header, "seed "+strconv.Itoa(seed))
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		cell := map[[2]string]string{}
		for _, i := range byGroup[g] {
			cell[[2]string{specs[i].Variant, strconv.Itoa(specs[i].Seed)}] = statusCell(states[i])
		}
		for _, v := range s.Variants {
			row := []string{v.Name}
			for _, seed := range s.Seeds {
				row = append(row, cell[[2]string{v.Name, strconv.Itoa(seed)}])
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
	}
	var problems []string
	for _, st := range states {
		if st.Err != nil {
			problems = append(problems, fmt.Sprintf("  %s: %v", st.Spec.ID(), st.Err))
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "\nunreadable runs:\n%s\n", strings.Join(problems, "\n"))
	}
	if n := counts[results.StatusPartial] + counts[results.StatusMissing] + counts[experiments.StatusStale]; n > 0 {
		fmt.Fprintf(w, "\n%d run(s) left; 'repro run %s --out %s' with the same settings continues the study\n", n, s.Name, dir)
	}
	return nil
}

// statusCell is one run's entry in the matrix.
func statusCell(st experiments.RunState) string {
	switch {
	case st.Err != nil:
		return "unreadable"
	case st.Status == results.StatusPartial:
		return fmt.Sprintf("partial %d/%d", st.Epochs, st.Spec.Epochs)
	case st.Status == results.StatusDiverged && st.Diverged != nil:
		return fmt.Sprintf("diverged e%d s%d", st.Diverged.Epoch, st.Diverged.Step)
	}
	return st.Status
}
