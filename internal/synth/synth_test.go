package synth

import (
	"image"
	"math"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

// Fill (the fast path) agrees with Reflectance (the per-band definition).
func TestFillMatchesReflectance(t *testing.T) {
	g := New(Options{Width: 90, Height: 70, Seed: 4, NoDataCorners: true, Bands: []string{"blue", "red", "nir"}})
	m := raster.NewFloat32(3, image.Rect(10, 5, 90, 70))
	g.Fill(m, 1, -1)
	for c, b := range g.Opts.Bands {
		for y := 5; y < 70; y++ {
			for x := 10; x < 90; x++ {
				want := g.Reflectance(x, y, b)
				if math.IsNaN(want) {
					want = -1
				}
				if got := float64(m.At(c, x, y)); math.Abs(got-want) > 1e-6 {
					t.Fatalf("band %s (%d,%d) = %v, want %v", b, x, y, got, want)
				}
			}
		}
	}
}

func TestTruthHasEveryClass(t *testing.T) {
	g := New(Options{Width: 300, Height: 300, Seed: 1, NoDataCorners: true})
	var n [256]int
	for y := 0; y < 300; y++ {
		for x := 0; x < 300; x++ {
			n[g.Truth(x, y)]++
		}
	}
	for _, c := range []int{Clear, ThickCloud, ThinCloud, Shadow, NoData} {
		if n[c] == 0 {
			t.Errorf("class %d absent: %v", c, n[:4])
		}
	}
	if f := float64(n[ThickCloud]+n[ThinCloud]) / float64(300*300-n[NoData]); f < 0.1 || f > 0.6 {
		t.Errorf("cloud fraction %.2f far from the requested 0.3", f)
	}
}

func BenchmarkFill(b *testing.B) {
	g := New(Options{Width: 512, Height: 512})
	m := raster.NewFloat32(3, image.Rect(0, 0, 512, 512))
	for b.Loop() {
		g.Fill(m, 10000, 0)
	}
	b.ReportMetric(float64(b.N)*512*512/1e6/b.Elapsed().Seconds(), "Mpx/s")
}
