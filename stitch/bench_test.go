package stitch

import (
	"image"
	"testing"

	"github.com/omnimask/omnimask/tiling"
)

// BenchmarkAccumulate blends a row of 512-px patches (4 classes) and flushes
// the finished rows, as the engine does for each strip.
func BenchmarkAccumulate(b *testing.B) {
	const p, o, w, k = 512, 128, 2048, 4
	scores := make([]float32, k*p*p)
	for i := range scores {
		scores[i] = 0.25
	}
	weights := tiling.Ramp.Weights(p, p, o)
	g, _ := tiling.NewGrid(image.Pt(w, 4*p), p, o)
	for b.Loop() {
		a := NewAccumulator(k, w)
		for _, y := range g.Ys[:2] {
			for _, x := range g.Xs {
				if err := a.Add(image.Rect(x, y, x+p, y+p), scores, weights); err != nil {
					b.Fatal(err)
				}
			}
			_ = a.Flush(y+p-o, func(int, [][]float32) error { return nil })
		}
	}
	b.ReportMetric(float64(2*len(g.Xs)*p*p)*float64(b.N)/1e6/b.Elapsed().Seconds(), "patch-Mpx/s")
}

func BenchmarkBilinearRow(b *testing.B) {
	const n = 10980
	src := make([]float32, n/2)
	dst := make([]float32, n)
	ax := NewAxis(n/2, n)
	for b.Loop() {
		BilinearRow(dst, src, src, 0.25, ax)
	}
	reportMpx(b, n)
}
