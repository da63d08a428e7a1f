package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/repro-np/repro/results"
)

// Panel is one panel of a multi-study figure: a study's runs and the two
// variants it compares.
type Panel struct {
	Title     string
	Runs      []results.Run
	Baseline  string
	Treatment string
}

// Figure2 writes the paper's Fig. 2 into outDir as fig2-test-accuracy.png
// and .svg: test accuracy against epoch, baseline against treatment, mean
// with a +-1 std band over seeds, one panel per study side by side (MNIST
// and Fashion-MNIST in the paper). Treatments are drawn as "full", so the
// locked cell of the MNIST grid takes the same colour as in every other
// figure.
func Figure2(outDir string, panels []Panel) ([]string, error) {
	if len(panels) == 0 {
		return nil, nil
	}
	row := make([]*plot.Plot, len(panels))
	for i, pn := range panels {
		cells := []cell{{variant: pn.Baseline}, {variant: "full"}}
		for _, r := range results.SortRuns(pn.Runs, pn.Baseline) {
			if r.Group != "" || !results.Included(&r) {
				continue
			}
			switch r.Variant {
			case pn.Baseline:
				cells[0].runs = append(cells[0].runs, r)
			case pn.Treatment:
				r.Variant = "full"
				cells[1].runs = append(cells[1].runs, r)
			}
		}
		if len(cells[0].runs) == 0 || len(cells[1].runs) == 0 {
			return nil, fmt.Errorf("figure 2, %s: needs complete runs of both %s and %s", pn.Title, pn.Baseline, pn.Treatment)
		}
		p, err := epochPlot(pn.Title, "test accuracy (%)", seriesOf(cells, "test_accuracy"),
			variantStyles([]string{pn.Baseline, "full"}), false)
		if err != nil {
			return nil, err
		}
		row[i] = p
	}
	w, h := width*vg.Length(len(panels))*0.75, height
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Points(12), PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
	var written []string
	for _, format := range []string{"png", "svg"} {
		var buf bytes.Buffer
		switch format {
		case "png":
			c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
			drawRow(row, tiles, draw.New(c))
			if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
				return written, err
			}
		case "svg":
			c := vgsvg.New(w, h)
			drawRow(row, tiles, draw.New(c))
			if _, err := c.WriteTo(&buf); err != nil {
				return written, err
			}
		}
		path := filepath.Join(outDir, "fig2-test-accuracy."+format)
		if err := results.WriteFileAtomic(path, buf.Bytes()); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

func drawRow(row []*plot.Plot, tiles draw.Tiles, dc draw.Canvas) {
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
}
