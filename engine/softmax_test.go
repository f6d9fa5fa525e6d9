package engine

import (
	"math"
	"testing"
)

func TestSoftmax(t *testing.T) {
	v := []float32{1, 0, 2, 0, 3, 0} // 2 classes x 3 pixels
	softmax(v, 1, 2, 3)
	for j := 0; j < 3; j++ {
		a, b := float64(v[j]), float64(v[3+j])
		if math.Abs(a+b-1) > 1e-6 {
			t.Fatalf("pixel %d sums to %v", j, a+b)
		}
	}
	if want := 1 / (1 + math.Exp(-1)); math.Abs(float64(v[0])-want) > 1e-6 {
		t.Fatalf("p = %v, want %v", v[0], want)
	}
}

func BenchmarkSoftmax(b *testing.B) {
	const k, plane = 4, 512 * 512
	v := make([]float32, k*plane)
	for b.Loop() {
		for i := range v {
			v[i] = float32(i%13) - 6
		}
		softmax(v, 1, k, plane)
	}
	b.ReportMetric(float64(plane)*float64(b.N)/1e6/b.Elapsed().Seconds(), "Mpx/s")
}
