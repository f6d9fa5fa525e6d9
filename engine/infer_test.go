package engine

import (
	"math"
	"testing"

	"github.com/omnimask/omnimask/stitch"
)

func TestSoftmaxRows(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	tests := []struct {
		name   string
		logits []float32 // 3 classes, one pixel
		want   []float32 // nil: NaN
	}{
		{"finite", []float32{1, 0, 0}, []float32{float32(math.E / (math.E + 2)), float32(1 / (math.E + 2)), float32(1 / (math.E + 2))}},
		{"equal", []float32{5, 5, 5}, []float32{1. / 3, 1. / 3, 1. / 3}},
		{"one +Inf", []float32{inf, 0, 1}, []float32{1, 0, 0}},
		{"two +Inf", []float32{inf, inf, 1}, []float32{0.5, 0.5, 0}},
		{"all -Inf", []float32{-inf, -inf, -inf}, nil}, // no class preferred: nodata, not a confident class 0
		{"all +Inf", []float32{inf, inf, inf}, nil},
		{"+Inf and -Inf", []float32{inf, -inf, -inf}, []float32{1, 0, 0}},
		{"one -Inf", []float32{-inf, 0, 0}, []float32{0, 0.5, 0.5}},
		{"NaN", []float32{nan, 0, 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// As in the engine: sanitize, then softmax.
			v := append([]float32(nil), tt.logits...)
			nans := sanitize(v, 1, 3, 1, false)
			if want := 0; tt.want == nil {
				want = 1
				if nans != want {
					t.Fatalf("NaN count %d, want %d", nans, want)
				}
			} else if nans != want {
				t.Fatalf("NaN count %d, want %d", nans, want)
			}
			rows := [][]float32{v[0:1], v[1:2], v[2:3]}
			dst := [][]float32{make([]float32, 1), make([]float32, 1), make([]float32, 1)}
			stitch.Softmax(dst, rows)
			for c := range dst {
				got := dst[c][0]
				if tt.want == nil {
					if got == got {
						t.Fatalf("class %d: p = %v, want NaN", c, got)
					}
					continue
				}
				if math.Abs(float64(got-tt.want[c])) > 1e-6 {
					t.Fatalf("class %d: p = %v, want %v", c, got, tt.want[c])
				}
			}
		})
	}
}

func TestSanitizeProbabilities(t *testing.T) {
	v := []float32{0.7, 0.2, 0, 0.1} // 2 classes x 2 pixels: (0.7, 0), (0.2, 0.1)
	if n := sanitize(v, 1, 2, 2, true); n != 0 {
		t.Fatalf("NaN count %d", n)
	}
	if math.Abs(float64(v[0])-math.Log(0.7)) > 1e-6 || v[2] != -logitLimit {
		t.Fatalf("log-probabilities %v", v)
	}
	dst := [][]float32{make([]float32, 2), make([]float32, 2)}
	stitch.Softmax(dst, [][]float32{v[0:2], v[2:4]})
	if dst[0][0] != 1 || math.Abs(float64(dst[0][1])-2./3) > 1e-6 {
		t.Fatalf("probabilities %v", dst)
	}
}

// patchLogits returns one 4-class 512 x 512 patch of smooth logits.
func patchLogits() []float32 {
	const k, n = 4, 512 * 512
	v := make([]float32, k*n)
	for c := 0; c < k; c++ {
		for j := 0; j < n; j++ {
			v[c*n+j] = float32(math.Sin(float64(j%512)/40+float64(c))) * 4
		}
	}
	return v
}

func BenchmarkSanitize(b *testing.B) {
	v := patchLogits()
	b.SetBytes(512 * 512) // pixels
	for b.Loop() {
		sanitize(v, 1, 4, 512*512, false)
	}
}
