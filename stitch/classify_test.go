package stitch

import (
	"math"
	"testing"
)

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	logits := [][]float32{
		{0, 3, nan, 1, -1},
		{1, 2, 0, 1, -2},
		{2, 1, 0, nan, -3},
	}
	got := make([]int16, 5)
	Argmax(got, logits)
	want := []int16{2, 0, -1, -1, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("argmax %v, want %v", got, want)
		}
	}
}

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x <= 0; x += 0.0003 {
		want := math.Exp(float64(x))
		if rel := math.Abs(float64(exp32(x))-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 5e-6 {
		t.Fatalf("relative error up to %g", worst)
	}
	if exp32(-100) != 0 || exp32(0) != 1 {
		t.Fatalf("exp32(-100) = %v, exp32(0) = %v", exp32(-100), exp32(0))
	}
}

func BenchmarkSoftmax(b *testing.B) {
	const n = 512 * 512 // one 4-class patch of smooth logits
	v := make([]float32, 4*n)
	for i := range v {
		v[i] = float32(math.Sin(float64(i%512)/40+float64(i/n))) * 4
	}
	rows := [][]float32{v[:n], v[n : 2*n], v[2*n : 3*n], v[3*n:]}
	dst := [][]float32{make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)}
	b.SetBytes(n)
	for b.Loop() {
		Softmax(dst, rows)
	}
}
