package probe

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// blobs: 3 classes around (±3, 0) and (0, 3) in the first two of D
// features, plus noise features on very different scales.
func blobs(n int, seed uint64) (x [][]float64, y []int, groups []string) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := [][2]float64{{-3, 0}, {3, 0}, {0, 3}}
	for i := range n {
		c := i % 3
		x = append(x, []float64{centres[c][0] + rng.NormFloat64(), centres[c][1] + rng.NormFloat64(), 1000 * rng.NormFloat64(), 5 + 0.001*rng.NormFloat64()})
		y = append(y, c)
		groups = append(groups, string(rune('a'+i%5)))
	}
	return x, y, groups
}

func TestFitSeparable(t *testing.T) {
	x, y, _ := blobs(300, 1)
	p, err := Fit(x, y, []string{"a", "b", "c"}, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	tx, ty, _ := blobs(300, 2)
	right := 0
	for i := range tx {
		if p.Class(tx[i]) == ty[i] {
			right++
		}
		var s float64
		for _, v := range p.Predict(tx[i]) {
			s += v
		}
		if math.Abs(s-1) > 1e-9 {
			t.Fatalf("probabilities sum to %g", s)
		}
	}
	if acc := float64(right) / float64(len(tx)); acc < 0.95 {
		t.Fatalf("held-out accuracy %.3f < 0.95", acc)
	}
	// the standardisation is the training features' mean and population std
	var m float64
	for _, r := range x {
		m += r[2]
	}
	if m /= float64(len(x)); math.Abs(p.Mean[2]-m) > 1e-9*math.Abs(m) {
		t.Errorf("stored mean %g, want %g", p.Mean[2], m)
	}
}

// A larger penalty must shrink the weights; the fit must be a minimum
// (no coordinate step lowers the objective).
func TestFitPenalty(t *testing.T) {
	x, y, _ := blobs(90, 3)
	norm := func(p *Probe) (s float64) {
		for _, r := range p.W {
			for _, v := range r[:len(r)-1] {
				s += v * v
			}
		}
		return s
	}
	a, err := Fit(x, y, []string{"a", "b", "c"}, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(x, y, []string{"a", "b", "c"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(norm(b) < norm(a)) {
		t.Fatalf("|W|² %g with lambda 1, %g with 1e-3", norm(b), norm(a))
	}
}

func TestCrossValidate(t *testing.T) {
	x, y, g := blobs(150, 4)
	r, err := CrossValidate(x, y, g, []string{"a", "b", "c"}, 1e-2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Folds != 5 || r.N != 150 || r.Accuracy < 0.9 {
		t.Fatalf("report %+v", r)
	}
	n := 0
	for _, row := range r.Confusion {
		for _, v := range row {
			n += v
		}
	}
	if n != 150 {
		t.Fatalf("confusion counts %d samples, want 150", n)
	}
	if _, err := CrossValidate(x, y, make([]string, len(x)), []string{"a", "b", "c"}, 1e-2, 0); err == nil {
		t.Fatal("one group cross-validated")
	}
}

// TestFitRefusesPenalty: a negative or non-finite L2 penalty has no
// minimiser; Fit refuses it instead of running the optimiser.
func TestFitRefusesPenalty(t *testing.T) {
	x := [][]float64{{0}, {1}, {2}, {3}}
	y := []int{0, 0, 1, 1}
	for _, l := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := Fit(x, y, []string{"a", "b"}, l); err == nil || !strings.Contains(err.Error(), "L2 penalty") {
			t.Errorf("lambda %g: %v, want the penalty refused", l, err)
		}
	}
	if _, err := Fit(x, y, []string{"a", "b"}, 0); err != nil {
		t.Errorf("lambda 0: %v", err)
	}
}

// TestPredict: the softmax of the standardised features under W (bias
// plus the weighted features, in that order), computed without copying the
// weights: one allocation a call, the probabilities returned.
func TestPredict(t *testing.T) {
	x, y, _ := blobs(90, 4)
	p, err := Fit(x, y, []string{"a", "b", "c"}, 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range x[:10] {
		want := make([]float64, len(p.W))
		var sum float64
		top := math.Inf(-1)
		for k, w := range p.W {
			s := w[len(r)]
			for j, v := range r {
				s += w[j] * ((v - p.Mean[j]) / p.Std[j])
			}
			want[k], top = s, max(top, s)
		}
		for k := range want {
			want[k] = math.Exp(want[k] - top)
			sum += want[k]
		}
		for k, q := range p.Predict(r) {
			if q != want[k]/sum {
				t.Fatalf("class %d: %v, want %v", k, q, want[k]/sum)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { p.Predict(x[0]) }); n > 1 {
		t.Errorf("Predict: %v allocations a call, want 1 (the probabilities; the features stay on the stack)", n)
	}
}
