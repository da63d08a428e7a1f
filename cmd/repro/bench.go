package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/repro-np/repro/engine"
	"github.com/repro-np/repro/engine/kernels"
	"github.com/repro-np/repro/optimizers"
)

func init() { commands = append(commands, newBenchCmd) }

// benchWorkload is one training-step workload, named and shaped as in the
// PyTorch reference script (shared/bench/torch_reference.py).
type benchWorkload struct {
	name  string
	shape [3]int
	batch int
	model func() (engine.Model, error)
}

var benchWorkloads = []benchWorkload{
	{"mlp_fashion_b128", [3]int{1, 28, 28}, 128, func() (engine.Model, error) {
		return engine.NewMLP([]int{784, 256, 256, 10}, 0.1, 0)
	}},
	{"small_cifar_net_b64", [3]int{3, 32, 32}, 64, func() (engine.Model, error) { return engine.NewSmallCNN(10, 0) }},
	{"resnet18_cifar_b32", [3]int{3, 32, 32}, 32, func() (engine.Model, error) { return engine.NewResNet18(10, 0) }},
}

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure training-step throughput and SGEMM speed",
		Long: `bench measures, on this machine, what the PyTorch script in the shared bench
folder measures: samples per second of one full training step (forward,
backward, SGD with momentum 0.9) for each workload, and SGEMM GFLOP/s at
n = 256 and 1024. --json prints the same keys as the PyTorch script so the two
can be compared line by line (see shared/bench/compare.sh).`,
		Example: `  repro bench
  repro bench --json --seconds 4
  repro bench --only mlp_fashion_b128 --threads 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := bindViper(cmd)
			if err != nil {
				return err
			}
			secs := v.GetFloat64("seconds")
			if secs <= 0 {
				return usagef("--seconds must be positive, got %v", secs)
			}
			threads := v.GetInt("threads")
			if threads < 0 {
				return usagef("--threads must be >= 0")
			}
			if threads == 0 {
				threads = runtime.GOMAXPROCS(0)
			}
			kernels.SetThreads(threads)
			only := v.GetString("only")
			out := map[string]any{"repro": "dev", "kernel": kernels.PeakInfo(), "threads": threads}
			sps := map[string]float64{}
			known := only == "" || only == "gemm"
			for _, w := range benchWorkloads {
				if only != "" && only != w.name {
					continue
				}
				known = true
				rate, err := trainStepRate(w, secs)
				if err != nil {
					return fmt.Errorf("%s: %w", w.name, err)
				}
				sps[w.name] = round1(rate)
				if !v.GetBool("json") {
					fmt.Fprintf(cmd.OutOrStdout(), "%-22s %10.1f samples/s\n", w.name, rate)
				}
			}
			if !known {
				return usagef("--only %q is not a workload (valid: mlp_fashion_b128, small_cifar_net_b64, resnet18_cifar_b32, gemm)", only)
			}
			out["samples_per_second"] = sps
			if only == "" || only == "gemm" {
				g := map[string]float64{}
				for _, n := range []int{256, 1024} {
					gf := gemmGFLOPS(n, secs/2)
					g[strconv.Itoa(n)] = round1(gf)
					if !v.GetBool("json") {
						fmt.Fprintf(cmd.OutOrStdout(), "sgemm_gflops %-9d %10.1f GFLOP/s (%s)\n", n, gf, kernels.PeakInfo())
					}
				}
				out["sgemm_gflops"] = g
			}
			if v.GetBool("json") {
				b, _ := json.Marshal(out)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			return nil
		},
	}
	cmd.Flags().Bool("json", false, "print one JSON object with the PyTorch script's keys")
	cmd.Flags().Float64("seconds", 5, "measuring time per workload")
	cmd.Flags().Int("threads", 0, "kernel threads (default: all cores)")
	cmd.Flags().String("only", "", "run one workload (or gemm)")
	return cmd
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

// trainStepRate times full training steps on a fixed random batch.
func trainStepRate(w benchWorkload, seconds float64) (float64, error) {
	m, err := w.model()
	if err != nil {
		return 0, err
	}
	params := m.Params()
	ps := make([]optimizers.Param, len(params))
	for i, p := range params {
		p.T.ZeroGrad()
		ps[i] = optimizers.Param{Name: p.Name, Shape: p.T.Shape, Data: p.T.Data, Grad: p.T.Grad}
	}
	cfg := optimizers.DefaultConfig("sgd")
	cfg.LR, cfg.Momentum = 0.01, 0.9
	opt, err := optimizers.New(cfg, ps)
	if err != nil {
		return 0, err
	}
	x := engine.NewTensor(w.batch, w.shape[0], w.shape[1], w.shape[2])
	r := engine.NewRNG(0, engine.StreamInit)
	for i := range x.Data {
		x.Data[i] = float32(r.Normal())
	}
	y := make([]int32, w.batch)
	for i := range y {
		y[i] = int32(r.IntN(10))
	}
	tape := engine.NewTape(true)
	tape.Dropout = engine.NewCounterRNG(0, engine.StreamDropout)
	step := func() error {
		engine.ZeroGrads(params)
		tape.Reset()
		loss, _ := engine.CrossEntropy(tape, m.Forward(tape, x), y)
		tape.Backward(loss)
		return opt.Step()
	}
	for i := 0; i < 3; i++ {
		if err := step(); err != nil {
			return 0, err
		}
	}
	n, t0 := 0, time.Now()
	for time.Since(t0).Seconds() < seconds {
		if err := step(); err != nil {
			return 0, err
		}
		n++
	}
	return float64(n*w.batch) / time.Since(t0).Seconds(), nil
}

// gemmGFLOPS times n x n x n SGEMM on uniform random matrices.
func gemmGFLOPS(n int, seconds float64) float64 {
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	r := engine.NewRNG(1, engine.StreamInit)
	r.Uniform(a, 0, 1)
	r.Uniform(b, 0, 1)
	kernels.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	k, t0 := 0, time.Now()
	for time.Since(t0).Seconds() < seconds {
		kernels.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		k++
	}
	return 2 * float64(n) * float64(n) * float64(n) * float64(k) / time.Since(t0).Seconds() / 1e9
}
