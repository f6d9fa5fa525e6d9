package preprocess

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

func benchPatch(c, n int) (*raster.Float32, *raster.Mask) {
	m := raster.NewFloat32(c, image.Rect(0, 0, n, n))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range m.Pix {
		m.Pix[i] = float32(r.IntN(10000))
	}
	v := raster.NewMask(m.Rect)
	Valid(v, m, raster.NoDataValue(0))
	return m, v
}

func reportMpx(b *testing.B, px int) {
	b.ReportMetric(float64(px)*float64(b.N)/1e6/b.Elapsed().Seconds(), "Mpx/s")
}

func BenchmarkValid(b *testing.B) {
	m, v := benchPatch(3, 512)
	for b.Loop() {
		Valid(v, m, raster.NoDataValue(0))
	}
	reportMpx(b, 512*512)
}

func BenchmarkZScore(b *testing.B) {
	src, v := benchPatch(3, 512)
	m := src.Clone()
	for b.Loop() {
		copy(m.Pix, src.Pix)
		ZScore(m, v, 0)
	}
	reportMpx(b, 512*512)
}

func BenchmarkAreaHalve(b *testing.B) {
	src, v := benchPatch(3, 512)
	dst := raster.NewFloat32(3, image.Rect(0, 0, 256, 256))
	dv := raster.NewMask(dst.Rect)
	for b.Loop() {
		Area(dst, dv, src, v, 2, 2, image.Pt(512, 512))
	}
	reportMpx(b, 512*512)
}
