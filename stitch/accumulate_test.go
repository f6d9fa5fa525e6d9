package stitch

import (
	"errors"
	"image"
	"math"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/tiling"
)

// constScores returns k planes of h*w scores, plane c holding base+c.
func constScores(k, h, w int, base float32) []float32 {
	s := make([]float32, k*h*w)
	for c := 0; c < k; c++ {
		for i := 0; i < h*w; i++ {
			s[c*h*w+i] = base + float32(c)
		}
	}
	return s
}

func constWeights(h, w int, v float32) []float32 {
	s := make([]float32, h*w)
	for i := range s {
		s[i] = v
	}
	return s
}

// collect flushes a up to y and returns copies of the emitted rows.
func collect(t *testing.T, a *Accumulator, y int) (rows []int, scores [][][]float32) {
	t.Helper()
	err := a.Flush(y, func(row int, s [][]float32) error {
		rows = append(rows, row)
		cp := make([][]float32, len(s))
		for c := range s {
			cp[c] = append([]float32(nil), s[c]...)
		}
		scores = append(scores, cp)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, scores
}

func isNaN(v float32) bool { return v != v }

func TestAccumulatorWeightedMean(t *testing.T) {
	// Scene 6 wide, 4 tall; two classes. Patch A covers x 0..4, y 0..3
	// with scores (1, 2) and weight 1; patch B covers x 2..6, y 1..4 with
	// scores (10, 11) and weight 3. Their overlap (x 2..4, y 1..3) is the
	// weighted mean (1*1 + 3*10)/4 = 7.75 and (1*2 + 3*11)/4 = 8.75.
	a := NewAccumulator(2, 6)
	if err := a.Add(image.Rect(0, 0, 4, 3), constScores(2, 3, 4, 1), constWeights(3, 4, 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(image.Rect(2, 1, 6, 4), constScores(2, 3, 4, 10), constWeights(3, 4, 3)); err != nil {
		t.Fatal(err)
	}
	rows, scores := collect(t, a, 4)
	if len(rows) != 4 {
		t.Fatalf("emitted rows %v, want 0..3", rows)
	}
	for y, row := range rows {
		if row != y {
			t.Fatalf("emitted rows %v, want 0..3 in order", rows)
		}
		for x := 0; x < 6; x++ {
			inA := x < 4 && y < 3
			inB := x >= 2 && y >= 1
			for c := 0; c < 2; c++ {
				got := scores[y][c][x]
				var want float32
				switch {
				case inA && inB:
					want = float32(1*(1+c)+3*(10+c)) / 4
				case inA:
					want = float32(1 + c)
				case inB:
					want = float32(10 + c)
				default:
					if !isNaN(got) {
						t.Errorf("uncovered (%d, %d) class %d = %v, want NaN", x, y, c, got)
					}
					continue
				}
				if math.Abs(float64(got-want)) > 1e-6 {
					t.Errorf("(%d, %d) class %d = %v, want %v", x, y, c, got, want)
				}
			}
		}
	}
	if a.Top() != 4 {
		t.Errorf("Top() = %d, want 4", a.Top())
	}
}

// Per-pixel scores and weights (not constants) land at the right places.
func TestAccumulatorLayout(t *testing.T) {
	const k, w = 3, 5
	r := image.Rect(1, 2, 4, 4) // 3 x 2
	scores := make([]float32, k*2*3)
	for i := range scores {
		scores[i] = float32(i)
	}
	weights := []float32{1, 2, 3, 4, 5, 6}
	a := NewAccumulator(k, w)
	if err := a.Add(r, scores, weights); err != nil {
		t.Fatal(err)
	}
	_, got := collect(t, a, 4)
	for y := 0; y < 4; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < k; c++ {
				v := got[y][c][x]
				if !(image.Point{x, y}).In(r) {
					if !isNaN(v) {
						t.Errorf("(%d, %d, %d) = %v, want NaN", c, x, y, v)
					}
					continue
				}
				// A single patch's weighted mean is its own score.
				want := float32(c*6 + (y-2)*3 + (x - 1))
				if v != want {
					t.Errorf("(%d, %d, %d) = %v, want %v", c, x, y, v, want)
				}
			}
		}
	}
}

func TestAccumulatorFlushStreams(t *testing.T) {
	const k, w = 1, 4
	a := NewAccumulator(k, w)
	add := func(y0 int, v float32) {
		t.Helper()
		if err := a.Add(image.Rect(0, y0, w, y0+4), constScores(k, 4, w, v), constWeights(4, w, 1)); err != nil {
			t.Fatal(err)
		}
	}
	add(0, 1) // rows 0..3
	rows, s := collect(t, a, 2)
	if len(rows) != 2 || rows[0] != 0 || rows[1] != 1 || s[0][0][0] != 1 {
		t.Fatalf("first flush: rows %v", rows)
	}
	if a.Top() != 2 {
		t.Fatalf("Top() = %d, want 2", a.Top())
	}
	// Rows above Top were dropped: adding there is an error.
	err := a.Add(image.Rect(0, 1, w, 5), constScores(k, 4, w, 5), constWeights(4, w, 1))
	if err == nil || !strings.Contains(err.Error(), "outside accumulator rows from 2") {
		t.Fatalf("Add above Top: %v, want an error", err)
	}
	add(2, 3) // rows 2..5, overlapping rows 2..3 of the first patch
	rows, s = collect(t, a, 6)
	if len(rows) != 4 || rows[0] != 2 || rows[3] != 5 {
		t.Fatalf("second flush: rows %v, want 2..5", rows)
	}
	for i, want := range []float32{2, 2, 3, 3} {
		if s[i][0][0] != want {
			t.Errorf("row %d = %v, want %v", rows[i], s[i][0][0], want)
		}
	}
	// Flushing again up to the same row emits nothing; flushing past
	// anything added emits NaN rows.
	if rows, _ := collect(t, a, 6); len(rows) != 0 {
		t.Errorf("re-flush emitted %v", rows)
	}
	rows, s = collect(t, a, 8)
	if len(rows) != 2 || rows[0] != 6 || !isNaN(s[0][0][0]) || !isNaN(s[1][0][3]) {
		t.Errorf("flush past the data: rows %v scores %v", rows, s)
	}
	// A later patch after a gap still lands at its rows.
	if err := a.Add(image.Rect(0, 10, w, 12), constScores(k, 2, w, 9), constWeights(2, w, 1)); err != nil {
		t.Fatal(err)
	}
	rows, s = collect(t, a, 12)
	if len(rows) != 4 || !isNaN(s[0][0][0]) || !isNaN(s[1][0][0]) || s[2][0][0] != 9 || s[3][0][0] != 9 {
		t.Errorf("after a gap: rows %v scores %v", rows, s)
	}
}

// Memory follows the band of rows in flight, not the scene height.
func TestAccumulatorBoundedMemory(t *testing.T) {
	const k, w, p, stride = 2, 16, 8, 6
	a := NewAccumulator(k, w)
	for y0 := 0; y0 < 10000; y0 += stride {
		if err := a.Add(image.Rect(0, y0, w, y0+p), constScores(k, p, w, 1), constWeights(p, w, 1)); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(y0+stride, func(int, [][]float32) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if a.n > p || len(a.sum) > p*k*w || len(a.wsum) > p*w {
			t.Fatalf("at row %d: %d rows held, %d sums", y0, a.n, len(a.sum))
		}
	}
}

func TestAccumulatorFlushError(t *testing.T) {
	a := NewAccumulator(1, 2)
	if err := a.Add(image.Rect(0, 0, 2, 5), constScores(1, 5, 2, 1), constWeights(5, 2, 1)); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var seen []int
	err := a.Flush(5, func(row int, _ [][]float32) error {
		seen = append(seen, row)
		if row == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Flush error = %v, want boom", err)
	}
	if len(seen) != 3 {
		t.Errorf("emitted %v, want rows 0..2", seen)
	}
	// The failed row counts as emitted: flushing resumes after it.
	if a.Top() != 3 {
		t.Errorf("Top() = %d after the error, want 3", a.Top())
	}
	rows, s := collect(t, a, 5)
	if len(rows) != 2 || rows[0] != 3 || s[0][0][0] != 1 || s[1][0][1] != 1 {
		t.Errorf("resumed flush: rows %v scores %v", rows, s)
	}
}

func TestAccumulatorAddErrors(t *testing.T) {
	tests := []struct {
		name     string
		r        image.Rectangle
		nScores  int
		nWeights int
		msg      string
	}{
		{"left of the scene", image.Rect(-1, 0, 3, 2), 2 * 8, 8, "outside accumulator"},
		{"right of the scene", image.Rect(3, 0, 7, 2), 2 * 8, 8, "outside accumulator"},
		{"too few scores", image.Rect(0, 0, 4, 2), 2*8 - 1, 8, "15 scores and 8 weights for a 4x2 patch of 2 classes"},
		{"too few weights", image.Rect(0, 0, 4, 2), 2 * 8, 7, "16 scores and 7 weights"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccumulator(2, 6)
			err := a.Add(tt.r, make([]float32, tt.nScores), make([]float32, tt.nWeights))
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Add error = %v, want one containing %q", err, tt.msg)
			}
			// A rejected patch leaves nothing behind.
			rows, s := collect(t, a, 2)
			for i := range rows {
				for c := range s[i] {
					for x, v := range s[i][c] {
						if !isNaN(v) {
							t.Fatalf("rejected Add left (%d, %d) = %v", x, rows[i], v)
						}
					}
				}
			}
		})
	}
	// Longer buffers than needed are fine (batch slots are reused).
	a := NewAccumulator(1, 4)
	if err := a.Add(image.Rect(0, 0, 2, 2), make([]float32, 100), make([]float32, 100)); err != nil {
		t.Errorf("Add with spare capacity: %v", err)
	}
}

// Blending a grid of patches with constant scores and any window gives
// back the constant everywhere: the weights are normalised.
func TestAccumulatorGridPartitionOfUnity(t *testing.T) {
	size := image.Pt(45, 37)
	g, err := tiling.NewGrid(size, 16, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, win := range []tiling.Window{tiling.Ramp, tiling.Hann, tiling.Boxcar} {
		a := NewAccumulator(2, size.X)
		weights := win.Weights(16, 16, 5)
		for iy := range g.Ys {
			for ix := range g.Xs {
				if err := a.Add(g.Rect(ix, iy), constScores(2, 16, 16, 0.25), weights); err != nil {
					t.Fatal(err)
				}
			}
			next := size.Y
			if iy+1 < len(g.Ys) {
				next = g.Ys[iy+1]
			}
			err := a.Flush(next, func(row int, s [][]float32) error {
				for c := range s {
					for x, v := range s[c] {
						if math.Abs(float64(v)-0.25-float64(c)) > 1e-6 {
							t.Fatalf("%v: (%d, %d) class %d = %v", win, x, row, c, v)
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if a.Top() != size.Y {
			t.Errorf("%v: Top() = %d, want %d", win, a.Top(), size.Y)
		}
	}
}
