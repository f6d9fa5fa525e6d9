package stitch

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// smoothLogits returns h rows of k logit rows of width w, smooth enough to
// form class regions with boundaries, and NaN over a 4x4 block.
func smoothLogits(rng *rand.Rand, w, h, k int) [][][]float32 {
	ph := make([]float64, 2*k)
	for i := range ph {
		ph[i] = rng.Float64() * 6
	}
	rows := make([][][]float32, h)
	for y := range rows {
		rows[y] = make([][]float32, k)
		for c := range k {
			rows[y][c] = make([]float32, w)
			for x := range w {
				rows[y][c][x] = float32(math.Sin(float64(x)/7+ph[2*c]) + math.Cos(float64(y)/5+ph[2*c+1]))
			}
		}
	}
	for y := h / 2; y < h/2+4; y++ { // a patch of uncovered pixels
		for x := w / 3; x < w/3+4; x++ {
			rows[y][1][x] = float32(math.NaN())
		}
	}
	return rows
}

// upsampleAll runs an Upsampler over rows and returns the classes of each
// native row and, with logits, the logits handed on.
func upsampleAll(t *testing.T, rows [][][]float32, native image.Point, logits bool) ([][]int16, [][][]float32) {
	t.Helper()
	k := len(rows[0])
	proc := image.Pt(len(rows[0][0]), len(rows))
	var cls [][]int16
	var lg [][][]float32
	u := NewUpsampler(proc, native, k, logits, func(y int, c []int16, l [][]float32) error {
		if y != len(cls) {
			return fmt.Errorf("row %d emitted after %d rows", y, len(cls))
		}
		cls = append(cls, slices.Clone(c))
		if logits {
			var cp [][]float32
			for _, r := range l {
				cp = append(cp, slices.Clone(r))
			}
			lg = append(lg, cp)
		}
		return nil
	})
	for y, r := range rows {
		if err := u.Add(y, r); err != nil {
			t.Fatal(err)
		}
	}
	if len(cls) != native.Y {
		t.Fatalf("%d native rows emitted, want %d", len(cls), native.Y)
	}
	return cls, lg
}

// The classes do not depend on whether logits are asked for: without them
// only pixels near a class boundary are interpolated, with them every
// pixel is, and both give the argmax of the interpolated logits.
func TestUpsamplerClassesIndependentOfLogits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sz := range []struct{ proc, native image.Point }{
		{image.Pt(40, 30), image.Pt(80, 60)},   // 2x
		{image.Pt(33, 21), image.Pt(100, 70)},  // non-integer
		{image.Pt(50, 40), image.Pt(50, 40)},   // same grid
		{image.Pt(60, 45), image.Pt(120, 100)}, // anisotropic
	} {
		t.Run(fmt.Sprintf("%v-%v", sz.proc, sz.native), func(t *testing.T) {
			rows := smoothLogits(rng, sz.proc.X, sz.proc.Y, 4)
			plain, _ := upsampleAll(t, rows, sz.native, false)
			full, lg := upsampleAll(t, rows, sz.native, true)
			boundary, uncovered := 0, 0
			for y := range plain {
				want := make([]int16, sz.native.X)
				Argmax(want, lg[y])
				for x := range want {
					if plain[y][x] != want[x] || full[y][x] != want[x] {
						t.Fatalf("(%d,%d): class %d without logits, %d with, argmax %d", x, y, plain[y][x], full[y][x], want[x])
					}
					if want[x] < 0 {
						uncovered++
					}
					if x > 0 && want[x] != want[x-1] {
						boundary++
					}
				}
			}
			if boundary == 0 || uncovered == 0 {
				t.Fatalf("%d boundary and %d uncovered pixels: the case tests nothing", boundary, uncovered)
			}
		})
	}
}

// On the same grid the rows pass through unchanged.
func TestUpsamplerSameGrid(t *testing.T) {
	rows := smoothLogits(rand.New(rand.NewPCG(1, 1)), 20, 10, 3)
	_, lg := upsampleAll(t, rows, image.Pt(20, 10), true)
	for y := range rows {
		for c := range rows[y] {
			for x, v := range rows[y][c] {
				if math.Float32bits(lg[y][c][x]) != math.Float32bits(v) {
					t.Fatalf("(%d,%d) class %d: %v, want %v", x, y, c, lg[y][c][x], v)
				}
			}
		}
	}
}
