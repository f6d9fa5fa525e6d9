package probe

import (
	"fmt"
	"math"
	"sort"

	"github.com/omnimask/omnimask/internal/gdalio"
)

// PointStats says what became of the points given to PointLabels.
type PointStats struct {
	Points  int // points given
	InChips int // points inside at least one chip with an embedding
	// Outside counts the points inside no chip of any embeddings (beyond
	// every scene, in the margin the chip grid leaves, or not
	// transformable to the embeddings' CRS).
	Outside int
	NoData  int // points whose chips are all nodata chips
	Chips   int // chips labelled
	// Conflicts counts the chips whose points disagreed and which took
	// the majority label; Ties the chips whose points tied, left unlabelled.
	Conflicts, Ties int
}

// PointLabels labels chips with points: every chip of each embeddings that
// contains a point (chips are half-open squares of Chip pixels on the
// scene's pixel grid, so a point lies in one chip, or in several where
// chips overlap) takes its label; a chip containing points of different
// labels takes the most frequent one, and one with a tie is left
// unlabelled. labels[i][j] is the label of chip j of embs[i] ("" for
// none). Points with a CRS are transformed to each embeddings' CRS; points
// without one are in it already (or, for embeddings without georeference,
// in the scene's pixel coordinates: x column, y row).
func PointLabels(embs []*Embeddings, pts []Point) ([][]string, PointStats, error) {
	st := PointStats{Points: len(pts)}
	in := make([]bool, len(pts))     // inside some chip
	onData := make([]bool, len(pts)) // inside some chip with an embedding
	labels := make([][]string, len(embs))
	for i, e := range embs {
		x, y, ok, err := pointsIn(e, pts)
		if err != nil {
			return nil, st, err
		}
		votes := map[int]map[string]int{}
		for k, p := range pts {
			if !ok[k] {
				continue
			}
			c0, c1 := chipSpan(e, x[k], e.Cols)
			r0, r1 := chipSpan(e, y[k], e.Rows)
			for r := r0; r <= r1; r++ {
				for c := c0; c <= c1; c++ {
					in[k] = true
					j := r*e.Cols + c
					if e.Vectors[j] == nil {
						continue
					}
					onData[k] = true
					if votes[j] == nil {
						votes[j] = map[string]int{}
					}
					votes[j][p.Label]++
				}
			}
		}
		labels[i] = make([]string, e.Cols*e.Rows)
		for j, v := range votes {
			best, n, tie := "", 0, false
			for l, c := range v {
				switch {
				case c > n:
					best, n, tie = l, c, false
				case c == n:
					tie = true
				}
			}
			switch {
			case tie:
				st.Ties++
				continue
			case len(v) > 1:
				st.Conflicts++
			}
			labels[i][j] = best
			st.Chips++
		}
	}
	for k := range pts {
		switch {
		case onData[k]:
			st.InChips++
		case in[k]:
			st.NoData++
		default:
			st.Outside++
		}
	}
	return labels, st, nil
}

// pointsIn returns the points' positions in scene pixel coordinates of
// e's scene (x column, y row), ok false for points that cannot be placed.
func pointsIn(e *Embeddings, pts []Point) (x, y []float64, ok []bool, err error) {
	n := len(pts)
	x, y, ok = make([]float64, n), make([]float64, n), make([]bool, n)
	byCRS := map[string][]int{}
	for k, p := range pts {
		x[k], y[k] = p.X, p.Y
		byCRS[p.CRS] = append(byCRS[p.CRS], k)
	}
	crss := make([]string, 0, len(byCRS))
	for c := range byCRS {
		crss = append(crss, c)
	}
	sort.Strings(crss)
	for _, crs := range crss {
		idx := byCRS[crs]
		if crs == "" {
			for _, k := range idx {
				ok[k] = true
			}
			continue
		}
		if e.Geo.CRS == "" || e.Geo.Transform.IsIdentity() {
			return nil, nil, nil, fmt.Errorf("%s: points in %.60s (%s), but the embeddings have no CRS to transform them to", pts[idx[0]].Where, crs, e.Path)
		}
		px, py := make([]float64, len(idx)), make([]float64, len(idx))
		for i, k := range idx {
			px[i], py[i] = x[k], y[k]
		}
		good, err := gdalio.Reproject(crs, e.Geo.CRS, px, py)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", pts[idx[0]].Where, err)
		}
		for i, k := range idx {
			x[k], y[k], ok[k] = px[i], py[i], good[i]
		}
	}
	if e.Geo.Transform.IsIdentity() {
		return x, y, ok, nil // scene pixel coordinates already
	}
	t := e.Geo.Transform
	if t.Singular() {
		return nil, nil, nil, fmt.Errorf("%s: singular geotransform %v", e.Path, t)
	}
	S, C := float64(e.Sidecar.Stride), float64(e.Sidecar.Chip)
	for k := range pts {
		u, v := t.Invert(x[k], y[k])
		// The embeddings' pixel u is the stride-wide cell centred on chip
		// u, whose first scene pixel is u*stride.
		x[k], y[k] = u*S+(C-S)/2, v*S+(C-S)/2
		if math.IsNaN(x[k]) || math.IsNaN(y[k]) || math.IsInf(x[k], 0) || math.IsInf(y[k], 0) {
			ok[k] = false
		}
	}
	return x, y, ok, nil
}

// chipSpan returns the chips along one axis (of n) whose pixel span
// [c*stride, c*stride+chip) contains scene pixel coordinate p; c0 > c1
// when none does.
func chipSpan(e *Embeddings, p float64, n int) (c0, c1 int) {
	S, C := float64(e.Sidecar.Stride), float64(e.Sidecar.Chip)
	if !(p >= 0 && p < float64(n-1)*S+C) {
		return 0, -1
	}
	return max(int(math.Floor((p-C)/S))+1, 0), min(int(math.Floor(p/S)), n-1)
}
