package eval

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot files written by Write: one bar chart per step, and one line plot.
const (
	BOABySensorPlot = "boa-by-sensor-%s.png" // %s: step, e.g. x1 or 60m
	BOAVsResPlot    = "boa-vs-resolution.png"
)

func (r *Report) writePlots(dir string) error {
	for i, st := range r.Steps {
		p, err := r.barPlot(i)
		if err == nil {
			err = p.Save(8*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, fmt.Sprintf(BOABySensorPlot, st.slug())))
		}
		if err != nil {
			return fmt.Errorf("eval: plot BOA by sensor at %v: %w", st, err)
		}
	}
	p, err := r.linePlot()
	if err == nil {
		err = p.Save(8*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, BOAVsResPlot))
	}
	if err != nil {
		return fmt.Errorf("eval: plot BOA vs resolution: %w", err)
	}
	return nil
}

// barPlot shows per-group BOA, one bar per sensor (and overall), at a step.
// Undefined values are drawn as empty bars.
func (r *Report) barPlot(step int) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: BOA per group and sensor at %v", r.Run, r.Steps[step])
	p.Y.Label.Text = "BOA = (TPR + TNR) / 2"
	p.X.Label.Text = "scoring group (no bar: undefined)"
	var aggs []Aggregate
	for _, a := range r.Sensors {
		if a.Step == step {
			aggs = append(aggs, a)
		}
	}
	if len(aggs) > 1 {
		aggs = append(aggs, r.Overall[step])
	}
	w := vg.Points(min(40, 360/float64(max(1, len(aggs)*len(r.Groups)))))
	for i, a := range aggs {
		vals := make(plotter.Values, len(r.Groups))
		for g, gm := range a.Metrics.Groups {
			if gm.BOA.Valid() {
				vals[g] = float64(gm.BOA)
			}
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bars.Color = plotutil.Color(i)
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(aggs)-1)/2)
		p.Add(bars)
		name := a.Sensor
		if name == "all" {
			name = "all sensors"
		}
		p.Legend.Add(name, bars)
	}
	p.NominalX(r.names()...)
	p.X.Min, p.X.Max = -0.5, float64(len(r.Groups))-0.5
	legendRoom(p, len(aggs))
	return p, nil
}

// linePlot shows per-group BOA against the processing resolution, one line
// per sensor and group (x is the scale factor when resolutions are unknown).
func (r *Report) linePlot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = r.Run + ": BOA vs processing resolution"
	p.X.Label.Text = "processing resolution (m)"
	p.Y.Label.Text = "BOA"
	var sensors []string
	for _, a := range r.Sensors {
		if a.Step == 0 {
			sensors = append(sensors, a.Sensor)
		}
	}
	byRes := true
	for _, a := range r.Sensors {
		if a.Scenes > 0 && a.ProcRes <= 0 {
			byRes = false
		}
	}
	if !byRes {
		p.X.Label.Text = "scale (factor of native pixel size)"
	}
	line := 0
	for si, sensor := range sensors {
		for g, group := range r.Groups {
			var xys plotter.XYs
			for _, a := range r.Sensors {
				if a.Sensor != sensor || a.Scenes == 0 || !a.Metrics.Groups[g].BOA.Valid() {
					continue
				}
				x := a.ProcRes
				if !byRes {
					x = r.Steps[a.Step].Scale
				}
				xys = append(xys, plotter.XY{X: x, Y: float64(a.Metrics.Groups[g].BOA)})
			}
			if len(xys) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, err
			}
			l.Color, s.Color = plotutil.Color(g), plotutil.Color(g)
			l.Dashes = plotutil.Dashes(si)
			s.Shape = plotutil.Shape(si)
			p.Add(l, s)
			p.Legend.Add(sensor+" "+group.Name, l, s)
			line++
		}
	}
	if line == 0 {
		p.Title.Text += " (no defined values)"
	}
	p.Legend.Left = true
	legendRoom(p, line)
	return p, nil
}

// legendRoom puts the legend at the top, above BOA = 1, with ticks from 0
// to 1 only.
func legendRoom(p *plot.Plot, entries int) {
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, 1.08+0.065*float64(entries)
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 0.2, Label: "0.2"},
		{Value: 0.4, Label: "0.4"}, {Value: 0.6, Label: "0.6"}, {Value: 0.8, Label: "0.8"}, {Value: 1, Label: "1"}})
}

// Preview colours besides the model's class colours.
var (
	colIgnored = color.RGBA{64, 64, 64, 255}    // reference nodata or unmapped
	colNoData  = color.RGBA{0, 0, 0, 255}       // predicted nodata
	colAgree   = color.RGBA{235, 235, 235, 255} // same scoring group
	colMiss    = color.RGBA{220, 30, 30, 255}   // different group or predicted nodata
	colText    = color.RGBA{255, 255, 0, 255}
)

// preview writes prediction, reference and disagreement side by side.
func (sc *scorer) preview(dir, name string, pred, ref *image.Gray) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	size := ref.Rect.Size()
	const gap = 4
	img := image.NewRGBA(image.Rect(0, 0, 3*size.X+2*gap, size.Y))
	draw.Draw(img, img.Rect, image.White, image.Point{}, draw.Src)
	class := func(v uint8, none color.RGBA) color.RGBA {
		if v == 255 || sc.classGroup[v] < 0 {
			return none
		}
		c := sc.colors[v]
		return color.RGBA{c[0], c[1], c[2], 255}
	}
	for y := 0; y < size.Y; y++ {
		for x := 0; x < size.X; x++ {
			p := pred.GrayAt(pred.Rect.Min.X+x, pred.Rect.Min.Y+y).Y
			r := ref.GrayAt(x, y).Y
			img.SetRGBA(x, y, class(p, colNoData))
			img.SetRGBA(size.X+gap+x, y, class(r, colIgnored))
			d := colIgnored
			if r != 255 {
				d = colMiss
				if p != 255 && sc.classGroup[p] == sc.classGroup[r] {
					d = colAgree
				}
			}
			img.SetRGBA(2*(size.X+gap)+x, y, d)
		}
	}
	for i, label := range []string{"prediction", "reference", "disagreement"} {
		fd := font.Drawer{Dst: img, Src: image.NewUniform(colText), Face: basicfont.Face7x13,
			Dot: fixed.P(i*(size.X+gap)+3, 12)}
		fd.DrawString(label)
	}
	return writeFile(filepath.Join(dir, name), func(w io.Writer) error { return png.Encode(w, img) })
}
