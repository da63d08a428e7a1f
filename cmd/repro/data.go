package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/repro-np/repro/datasets"
)

func init() { commands = append(commands, newDataCmd) }

// dataOptions holds the flags of the data subcommands.
type dataOptions struct {
	Name    string
	DataDir string
	BaseURL string
	Out     io.Writer // results
	Err     io.Writer // progress
}

func newDataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Download and inspect the data sets (fashion-mnist, mnist, cifar10)",
		Long: `data downloads the official files of a data set and describes what a data
directory holds.

Where the data comes from:
  fashion-mnist  the Debian package dataset-fashion-mnist installs it into
                 ` + datasets.DefaultFashionMNISTDir + `/ (apt-get install dataset-fashion-mnist);
                 'repro data fetch fashion-mnist' downloads the official files instead
  mnist          'repro data fetch mnist' (torchvision's mirror)
  cifar10        'repro data fetch cifar10' (the official binary archive, read without
                 extracting); image folders train/<class>/ and test/<class>/ work too`,
		Example: `  repro data fetch fashion-mnist
  repro data fetch mnist --data-dir /srv/data/mnist
  repro data info fashion-mnist
  repro data info cifar10 --data-dir data/cifar10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("data needs a subcommand: fetch or info (see 'repro data --help')")
		},
	}
	cmd.AddCommand(newDataFetchCmd(), newDataInfoCmd())
	return cmd
}

func dataNameArg(verb string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		valid := strings.Join(datasets.Names(), ", ")
		if len(args) != 1 {
			return usagef("data %s needs exactly one data set name (valid: %s)", verb, valid)
		}
		if !slices.Contains(datasets.Names(), args[0]) {
			return usagef("unknown data set %q (valid: %s)", args[0], valid)
		}
		return nil
	}
}

func newDataFetchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fetch <fashion-mnist|mnist|cifar10>",
		Short: "Download a data set's official files and verify their checksums",
		Long: `fetch downloads the official files of a data set into --data-dir (default
./data/<name>, or REPRO_DATA_DIR) and checks each against its published MD5
checksum. A file is saved only once its checksum matches; files already
present and valid are kept, so fetch can be re-run after an interruption.`,
		Example: `  repro data fetch fashion-mnist
  repro data fetch cifar10 --data-dir /srv/data/cifar10
  REPRO_DATA_DIR=/srv/data/mnist repro data fetch mnist`,
		Args: dataNameArg("fetch"),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := bindViper(cmd)
			if err != nil {
				return err
			}
			o := dataOptions{Name: args[0], DataDir: v.GetString("data-dir"), BaseURL: v.GetString("base-url"),
				Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr()}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDataFetch(ctx, o)
		},
	}
	cmd.Flags().String("data-dir", "", "directory to download into (default ./data/<name>)")
	cmd.Flags().String("base-url", "", "download from this URL prefix instead of the official host (a mirror)")
	return cmd
}

func runDataFetch(ctx context.Context, o dataOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	dir := o.DataDir
	if dir == "" {
		dir = datasets.DefaultDir(o.Name)
	}
	if err := datasets.Fetch(ctx, o.Name, dir, o.BaseURL, o.Err); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "%s is in %s; use it with --data-dir %s\n", o.Name, dir, dir)
	return nil
}

func newDataInfoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "info <fashion-mnist|mnist|cifar10>",
		Short: "Load a data set and print its counts, shapes and class balance",
		Long: `info loads a data set the way 'repro run' does and prints the number of
examples, the image shape, the normalisation and the examples per class of
each split. Without --data-dir (or REPRO_DATA_DIR) it looks in ./data/<name>,
then, for fashion-mnist, in ` + datasets.DefaultFashionMNISTDir + `.`,
		Example: `  repro data info fashion-mnist
  repro data info cifar10 --data-dir data/cifar10`,
		Args: dataNameArg("info"),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := bindViper(cmd)
			if err != nil {
				return err
			}
			return runDataInfo(dataOptions{Name: args[0], DataDir: v.GetString("data-dir"), Out: cmd.OutOrStdout()})
		},
	}
	cmd.Flags().String("data-dir", "", "directory holding the data set (default: see above)")
	return cmd
}

func runDataInfo(o dataOptions) error {
	dir := datasets.Locate(o.Name, o.DataDir)
	start := time.Now()
	train, test, err := datasets.Load(o.Name, dir)
	if err != nil {
		if errors.Is(err, datasets.ErrMissing) {
			return err
		}
		return fmt.Errorf("loading %s: %w", o.Name, err)
	}
	w := o.Out
	fmt.Fprintf(w, "%s from %s (loaded in %.2fs)\n", o.Name, dir, time.Since(start).Seconds())
	fmt.Fprintf(w, "image shape %dx%dx%d (CxHxW), %d classes, mean %v, std %v\n",
		train.C, train.H, train.W, len(train.Classes), train.Mean, train.Std)
	tc, ec := train.ClassCounts(), test.ClassCounts()
	fmt.Fprintf(w, "%-4s %-14s %8s %8s\n", "", "class", "train", "test")
	for c, name := range train.Classes {
		fmt.Fprintf(w, "%-4d %-14s %8d %8d\n", c, name, tc[c], ec[c])
	}
	fmt.Fprintf(w, "%-4s %-14s %8d %8d\n", "", "total", train.N, test.N)
	return nil
}
