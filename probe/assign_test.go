package probe

import (
	"reflect"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// grid returns in-memory embeddings of cols x rows chips (1-D vectors, nil
// at the nodata chips).
func grid(path string, cols, rows, chip, stride int, geo raster.Geo, nodata ...int) *Embeddings {
	e := &Embeddings{Path: path, Cols: cols, Rows: rows, Geo: geo, Sidecar: embed.Sidecar{Encoder: "t", Dim: 1, Chip: chip, Stride: stride}}
	for i := range cols * rows {
		e.Vectors = append(e.Vectors, []float64{float64(i)})
	}
	for _, i := range nodata {
		e.Vectors[i] = nil
	}
	return e
}

func TestPointLabels(t *testing.T) {
	utm, err := gdalio.NormalizeCRS("EPSG:32633")
	if err != nil {
		t.Fatal(err)
	}
	// e1: 30 m scene at (500000, 4000000), 16 px chips (480 m), 3x2,
	// chip 5 nodata. e2: 30 m scene at (499640, 120) near the equator,
	// 16 px chips every 8 px: the embeddings' origin is 4 px (120 m) in, at
	// (499760, 0).
	e1 := grid("e1.tif", 3, 2, 16, 16, raster.Geo{Transform: raster.GeoTransform{500000, 480, 0, 4000000, 0, -480}, CRS: utm}, 5)
	e2 := grid("e2.tif", 3, 2, 16, 8, raster.Geo{Transform: raster.GeoTransform{499640 + 120, 240, 0, 0, 0, -240}, CRS: utm})
	// e3: no georeference: points are scene pixel coordinates.
	e3 := grid("e3.tif", 2, 1, 8, 8, raster.Geo{Transform: raster.Identity})
	p := func(x, y float64, label string, crs ...string) Point {
		pt := Point{X: x, Y: y, Label: label, Where: "pts.csv:" + label}
		if len(crs) > 0 {
			pt.CRS = crs[0]
		}
		return pt
	}
	for _, tc := range []struct {
		name string
		embs []*Embeddings
		pts  []Point
		want [][]string
		st   PointStats
		err  string
	}{
		{name: "majority, tie, nodata, outside, boundary, reprojected, overlapping chips",
			embs: []*Embeddings{e1, e2},
			pts: []Point{
				p(500100, 3999900, "a"), p(500200, 3999800, "a"), p(500300, 3999700, "b"), // chip 0: a by majority
				p(500600, 3999900, "a"), p(500700, 3999900, "b"), // chip 1: tie, dropped
				p(500600, 3999400, "c"),      // chip 4
				p(501100, 3999400, "c"),      // chip 5: nodata
				p(499000, 4000000, "x"),      // left of the scene
				p(500000+1450, 3999900, "x"), // right of the chip grid
				p(500000, 3999520, "d"),      // on the corner of chip 3 (half-open: chip 3 only)
				p(15, 0, "e", "EPSG:4326"),   // (500000, 0): e2's scene pixel (12, 4): chips 0 and 1
				p(15, 95, "x", "EPSG:4326"),  // beyond the pole: cannot be placed
			},
			want: [][]string{{"a", "", "", "d", "c", ""}, {"e", "e", "", "", "", ""}},
			st:   PointStats{Points: 12, InChips: 8, Outside: 3, NoData: 1, Chips: 5, Conflicts: 1, Ties: 1}},
		{name: "no georeference: pixel coordinates", embs: []*Embeddings{e3},
			pts:  []Point{p(3, 2, "a"), p(8, 0, "b"), p(16, 0, "x"), p(-0.5, 1, "x"), p(7.99, 7.99, "a"), p(4, 8, "x")},
			want: [][]string{{"a", "b"}},
			st:   PointStats{Points: 6, InChips: 3, Outside: 3, Chips: 2}},
		{name: "a CRS but no georeference", embs: []*Embeddings{e3}, pts: []Point{p(1, 1, "a", "EPSG:4326")},
			err: "pts.csv:a: points in EPSG:4326 (e3.tif), but the embeddings have no CRS"},
		{name: "unknown CRS", embs: []*Embeddings{e1}, pts: []Point{p(1, 1, "a", "EPSG:999999")}, err: "pts.csv:a: gdalio: unknown CRS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st, err := PointLabels(tc.embs, tc.pts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("labels %q, want %q", got, tc.want)
			}
			if st != tc.st {
				t.Errorf("stats %+v, want %+v", st, tc.st)
			}
		})
	}
}
