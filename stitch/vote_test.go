package stitch

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/omnimask/omnimask/tiling"
)

// naiveVote is the hard vote written out: for each pixel, the class most
// patches covering it chose; among classes with as many votes, the one
// whose window weights sum higher. -1 where no patch covers the pixel, and
// a bit mask of the classes tied within float32 rounding (ramp windows make
// exact ties such as 1/7 + 1/7 + 6/7 = 1/49 + 1 + 6/49) as -2-mask.
func naiveVote(size image.Point, k int, rects []image.Rectangle, cls [][]int, w []float32) []int {
	out := make([]int, size.X*size.Y)
	for y := 0; y < size.Y; y++ {
		for x := 0; x < size.X; x++ {
			votes := make([]int, k)
			wsum := make([]float64, k)
			any := false
			for i, r := range rects {
				if !(image.Point{x, y}).In(r) {
					continue
				}
				j := (y-r.Min.Y)*r.Dx() + x - r.Min.X
				votes[cls[i][j]]++
				wsum[cls[i][j]] += float64(w[j])
				any = true
			}
			best := -1
			for c := range k {
				if votes[c] > 0 && (best < 0 || votes[c] > votes[best] || votes[c] == votes[best] && wsum[c] > wsum[best]) {
					best = c
				}
			}
			if !any {
				best = -1
			} else {
				tied := 0
				for c := range k {
					if votes[c] == votes[best] && wsum[best]-wsum[c] < 1e-5 {
						tied |= 1 << c
					}
				}
				if tied != 1<<best {
					best = -2 - tied
				}
			}
			out[y*size.X+x] = best
		}
	}
	return out
}

func TestHardVoteMatchesNaiveMajority(t *testing.T) {
	for _, tt := range []struct {
		name           string
		size           image.Point
		patch, overlap int
		k              int
		window         tiling.Window
		seed           uint64
	}{
		{"ramp 3 classes", image.Pt(70, 53), 16, 7, 3, tiling.Ramp, 1},
		{"hann 5 classes", image.Pt(41, 90), 20, 9, 5, tiling.Hann, 2},
		{"boxcar 2 classes", image.Pt(64, 64), 24, 11, 2, tiling.Boxcar, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 0))
			g, err := tiling.NewGrid(tt.size, tt.patch, tt.overlap)
			if err != nil {
				t.Fatal(err)
			}
			P := tt.patch
			w := tt.window.Weights(P, P, tt.overlap)
			vw := VoteWeights(w)
			acc := NewAccumulator(tt.k, tt.size.X)
			var rects []image.Rectangle
			var classes [][]int
			for iy := range g.Ys {
				for ix := range g.Xs {
					r := g.Rect(ix, iy)
					// Votes in blobs, so that patches agree in places and
					// disagree in others, with many ties between two patches.
					cls := make([]int, P*P)
					scores := make([]float32, tt.k*P*P)
					base := rng.IntN(tt.k)
					for j := range cls {
						c := base
						if rng.IntN(3) == 0 {
							c = rng.IntN(tt.k)
						}
						cls[j] = c
						scores[c*P*P+j] = 1
					}
					rects, classes = append(rects, r), append(classes, cls)
					if err := acc.Add(r, scores, vw); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := naiveVote(tt.size, tt.k, rects, classes, w)
			got := make([]int16, tt.size.X)
			ties := 0
			if err := acc.Flush(tt.size.Y, func(y int, s [][]float32) error {
				Argmax(got, s)
				for x, c := range got {
					if v := want[y*tt.size.X+x]; v <= -2 && c >= 0 && (-2-v)&(1<<c) != 0 {
						ties++
						continue
					}
					if int(c) != want[y*tt.size.X+x] {
						t.Fatalf("pixel (%d, %d): vote %d, naive majority %d", x, y, c, want[y*tt.size.X+x])
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d pixels tied in votes and weights", ties)
		})
	}
}

// A plain weighted mean of votes lets one heavily weighted patch outvote
// two lightly weighted ones; the hard vote does not.
func TestHardVoteCountsBeforeWeights(t *testing.T) {
	acc := NewAccumulator(2, 1)
	r := image.Rect(0, 0, 1, 1)
	add := func(c int, w float32) {
		s := make([]float32, 2)
		s[c] = 1
		if err := acc.Add(r, s, VoteWeights([]float32{w})); err != nil {
			t.Fatal(err)
		}
	}
	add(0, 1)
	add(1, 0.2)
	add(1, 0.1)
	_, s := collect(t, acc, 1)
	got := make([]int16, 1)
	Argmax(got, s[0])
	if got[0] != 1 {
		t.Fatalf("class %d won with 1 vote against 2 (scores %v)", got[0], s[0])
	}
}
