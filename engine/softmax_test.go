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

func TestSoftmaxNonFinite(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	tests := []struct {
		name    string
		logits  []float32 // 3 classes, one pixel
		want    []float32
		wantNaN int
	}{
		{"one +Inf", []float32{inf, 0, 1}, []float32{1, 0, 0}, 0},
		{"two +Inf", []float32{inf, inf, 1}, []float32{0.5, 0.5, 0}, 0},
		{"all -Inf", []float32{-inf, -inf, -inf}, []float32{1. / 3, 1. / 3, 1. / 3}, 0},
		{"one -Inf", []float32{-inf, 0, 0}, []float32{0, 0.5, 0.5}, 0},
		{"NaN", []float32{nan, 0, 0}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := append([]float32(nil), tt.logits...)
			if got := softmax(v, 1, 3, 1); got != tt.wantNaN {
				t.Fatalf("NaN count %d, want %d", got, tt.wantNaN)
			}
			for c, w := range tt.want {
				if math.Abs(float64(v[c]-w)) > 1e-6 {
					t.Fatalf("p = %v, want %v", v, tt.want)
				}
			}
			if tt.want == nil && v[0] == v[0] {
				t.Fatalf("p = %v, want NaN", v)
			}
		})
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
