package stitch

import (
	"math"
	"testing"
)

var nan32 = float32(math.NaN())

// close32 reports whether got is within tol of want (relative above 1);
// a NaN want needs a NaN.
func close32(got, want float32, tol float64) bool {
	if want != want {
		return got != got
	}
	return math.Abs(float64(got)-float64(want)) <= tol*math.Max(1, math.Abs(float64(want)))
}

func reportMpx(b *testing.B, px int) {
	b.ReportMetric(float64(px)*float64(b.N)/1e6/b.Elapsed().Seconds(), "Mpx/s")
}
