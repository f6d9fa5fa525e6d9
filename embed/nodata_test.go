package embed

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
)

// writeBands writes the bands red, green and nir of a w x h scene as
// three one-band GeoTIFFs of GDAL type typ in dir (GeoTIFF has one nodata
// value for all of a file's bands), with value f(c, x, y) and band c's
// nodata value nds[c] (none where nil), and returns their paths.
func writeBands(t *testing.T, dir string, typ godal.DataType, w, h int, nds [3]*float64, f func(c, x, y int) float64) []string {
	t.Helper()
	var paths []string
	for c, name := range []string{"red", "green", "nir"} {
		path := filepath.Join(dir, name+".tif")
		ds, err := godal.Create(godal.GTiff, path, 1, typ, w, h, godal.CreationOption("TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32"))
		if err != nil {
			t.Fatal(err)
		}
		b := ds.Bands()[0]
		if err := b.SetDescription(name); err != nil {
			t.Fatal(err)
		}
		fillBand(t, b, c, w, h, nds[c], f)
		if err := ds.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// writeVRT writes a VRT of the w x h Float32 one-band GeoTIFFs src
// declaring band c's nodata value nds[c] (none where nil) as written, which
// GeoTIFF rounds to float32 for Float32 bands and a VRT does not.
func writeVRT(t *testing.T, path string, src []string, w, h int, nds [3]*float64) {
	t.Helper()
	x := fmt.Sprintf("<VRTDataset rasterXSize=\"%d\" rasterYSize=\"%d\">\n", w, h)
	for c, name := range []string{"red", "green", "nir"} {
		x += fmt.Sprintf("<VRTRasterBand dataType=\"Float32\" band=\"%d\"><Description>%s</Description>", c+1, name)
		if nds[c] != nil {
			x += fmt.Sprintf("<NoDataValue>%s</NoDataValue>", strconv.FormatFloat(*nds[c], 'g', -1, 64))
		}
		x += fmt.Sprintf("<SimpleSource><SourceFilename relativeToVRT=\"0\">%s</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>\n", src[c])
	}
	if err := os.WriteFile(path, []byte(x+"</VRTDataset>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNoDataRule: embed decides which pixels are nodata by predict's rule
// (preprocess.ValidBands): a pixel is nodata when any band is NaN or ±Inf,
// or when every band that declares a nodata value holds it, compared in
// float32 (bands without one do not take part). Each scene has two nodata
// regions (144 of chip 0,0's 256 px, 48 of chip 2,1's) built by hand, and
// decoy pixels where some bands hold their nodata value but the pixel is
// valid. Chips mode (through the float32 path and, for integer bands, the
// lookup tables) and dense mode must make exactly the chips / cells whose
// hand-counted nodata fraction exceeds the threshold nodata, and give the
// others the mean of their pixels with the nodata ones filled with 0
// (chipmean, nodata_fill 0).
func TestNoDataRule(t *testing.T) {
	gdalio.Register()
	e := chipmean(t)
	dir := t.TempDir()
	const W, H = 48, 32 // 3x2 chips of 16 px, 6x4 cells of 8 px
	f64 := func(v float64) *float64 { return &v }
	inA := func(x, y int) bool { return x < 12 && y < 12 }                          // 144 px of chip 0,0
	inB := func(x, y int) bool { return x >= 32 && y >= 16 && x%16 < 3 }            // 48 px of chip 2,1
	decoy := func(x, y int) bool { return x >= 16 && x < 32 && y < 16 && x%4 == 0 } // 64 valid px of chip 1,0
	bad := func(x, y int) bool { return inA(x, y) || inB(x, y) }
	base := func(c, x, y int) float64 { return float64(1 + (c*37+x*11+y*5)%200) }
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name string
		typ  godal.DataType
		nds  [3]*float64
		vrt  bool // nds declared by a VRT over the GeoTIFF (which rounds Float32 ones)
		// at is the value of band c at a nodata pixel, and at a decoy
		// pixel when decoy; ok false keeps base.
		at func(c, x, y int, decoy bool) (float64, bool)
	}{
		{"float32 nodata -9999.1 (not a float32 value) on every band", godal.Float32, [3]*float64{f64(-9999.1), f64(-9999.1), f64(-9999.1)}, true,
			func(c, x, y int, decoy bool) (float64, bool) { return -9999.1, !decoy || c == 0 }},
		{"float32 nodata -9999.1 in a GeoTIFF (which rounds it to float32)", godal.Float32, [3]*float64{f64(-9999.1), f64(-9999.1), f64(-9999.1)}, false,
			func(c, x, y int, decoy bool) (float64, bool) { return -9999.1, !decoy || c == 2 }},
		{"float32 nodata on green and nir only", godal.Float32, [3]*float64{nil, f64(-9999), f64(-9999)}, false,
			func(c, x, y int, decoy bool) (float64, bool) { return -9999, !decoy && c > 0 || decoy && c == 1 }},
		{"float32 NaN and +Inf in one band", godal.Float32, [3]*float64{f64(-9999), f64(-9999), f64(-9999)}, false,
			func(c, x, y int, decoy bool) (float64, bool) {
				switch {
				case decoy:
					return -9999, c == 0
				case inA(x, y):
					return nan, c == 1
				}
				return inf, c == 2
			}},
		{"float32 NaN, no nodata value", godal.Float32, [3]*float64{}, false,
			func(c, x, y int, decoy bool) (float64, bool) {
				if decoy {
					return -9999, true
				}
				return nan, c == 0 && inA(x, y) || c == 2 && inB(x, y)
			}},
		{"uint16 nodata 0 on every band", godal.UInt16, [3]*float64{f64(0), f64(0), f64(0)}, false,
			func(c, x, y int, decoy bool) (float64, bool) { return 0, !decoy || c == 2 }},
		{"uint16 nodata 65535 on green and nir only", godal.UInt16, [3]*float64{nil, f64(65535), f64(65535)}, false,
			func(c, x, y int, decoy bool) (float64, bool) { return 65535, !decoy && c > 0 || decoy && c < 2 }},
		{"int16 nodata -9999 on nir only", godal.Int16, [3]*float64{nil, nil, f64(-9999)}, false,
			func(c, x, y int, decoy bool) (float64, bool) { return -9999, !decoy && c == 2 || decoy && c < 2 }},
		{"byte nodata 255 on red and nir", godal.Byte, [3]*float64{f64(255), nil, f64(255)}, false,
			func(c, x, y int, decoy bool) (float64, bool) { return 255, !decoy && c != 1 || decoy && c == 0 }},
	} {
		val := func(c, x, y int) float64 {
			if d := decoy(x, y); d || bad(x, y) {
				if v, ok := tc.at(c, x, y, d); ok {
					return v
				}
			}
			return base(c, x, y)
		}
		stored := func(c, x, y int) float64 { // as read: float32 for Float32 bands
			if tc.typ == godal.Float32 {
				return float64(float32(val(c, x, y)))
			}
			return val(c, x, y)
		}
		scene := writeBands(t, dir, tc.typ, W, H, tc.nds, val)
		if tc.vrt {
			writeBands(t, dir, tc.typ, W, H, [3]*float64{}, val)
			writeVRT(t, filepath.Join(dir, "scene.vrt"), scene, W, H, tc.nds)
			scene = []string{filepath.Join(dir, "scene.vrt")}
		}
		src, err := openScene(e, scene, nil, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for c, b := range src.s.Selected() { // as the scene declares them
			g, w := b.NoData, math.NaN()
			if tc.nds[c] != nil {
				w = *tc.nds[c]
				if tc.typ == godal.Float32 && !tc.vrt {
					w = float64(float32(w))
				}
			}
			if g.Set != (tc.nds[c] != nil) || g.Set && g.Value != w {
				t.Errorf("%s: band %d's nodata %+v, want %v", tc.name, c, g, w)
			}
		}
		_, isFloat := newChipRows(src.s, src.norm, 16, 16, false).(*floatRows)
		src.s.Close()
		if isFloat != (tc.typ == godal.Float32) {
			t.Fatalf("%s: float32 path %v", tc.name, isFloat)
		}
		// want returns the chipmean vector of the cs x cs chip at x0, y0
		// (nil for a nodata chip) from the hand-made nodata pixels.
		want := func(x0, y0, cs int, maxND float64) []float64 {
			n := 0
			sum := make([]float64, 3)
			for y := y0; y < y0+cs; y++ {
				for x := x0; x < x0+cs; x++ {
					if bad(x, y) {
						n++
						continue
					}
					for c := range sum {
						sum[c] += stored(c, x, y)
					}
				}
			}
			if float64(n) > maxND*float64(cs*cs) || n == cs*cs {
				return nil
			}
			for c := range sum {
				sum[c] /= float64(cs * cs)
			}
			return sum
		}
		check := func(name string, got [][]float32, cols, rows, cs int, maxND float64, res *Result, wantND int) {
			t.Helper()
			nd, errs := 0, 0
			for r := range rows {
				for c := range cols {
					w := want(c*cs, r*cs, cs, maxND)
					if w == nil {
						nd++
					}
					for b := range 3 {
						g := float64(got[b][r*cols+c])
						switch {
						case errs > 3:
						case w == nil && !math.IsNaN(g):
							t.Errorf("%s: %d,%d band %d = %g, want nodata (NaN)", name, c, r, b, g)
							errs++
						case w != nil && !(math.Abs(g-w[b]) <= 1e-6*max(1, math.Abs(w[b]))):
							t.Errorf("%s: %d,%d band %d = %.9g, want %.9g", name, c, r, b, g, w[b])
							errs++
						}
					}
				}
			}
			if nd != wantND {
				t.Fatalf("%s: the hand count makes %d nodata, not %d", name, nd, wantND)
			}
			if res.NoDataChips != nd || res.Chips != cols*rows-nd {
				t.Errorf("%s: %d embedded, %d nodata, want %d nodata of %d", name, res.Chips, res.NoDataChips, nd, cols*rows)
			}
		}
		// Nodata fractions: chip 0,0 144/256, chip 2,1 48/256; cell 0,0 1,
		// cells 1,0 and 0,1 1/2, cell 1,1 1/4, cells 4,2 and 4,3 3/8.
		for _, th := range []struct {
			maxND            float64
			chipsND, cellsND int
		}{{0.5, 1, 1}, {0.15, 2, 6}, {1, 0, 1}} {
			maxND := th.maxND
			for _, float := range []bool{false, true} {
				name := fmt.Sprintf("%s/chips/max %g", tc.name, maxND)
				if float {
					name += "/float32 path"
				}
				out := filepath.Join(dir, "chips.tif")
				res, err := Chips(context.Background(), e, scene, out, Options{Chip: 16, MaxNoData: maxND, Batch: 2, floatRows: float})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				_, got := readVectors(t, out)
				check(name, got, 3, 2, 16, maxND, res, th.chipsND)
			}
			name := fmt.Sprintf("%s/dense/max %g", tc.name, maxND)
			out := filepath.Join(dir, "dense.tif")
			res, err := Dense(context.Background(), e, scene, out, DenseOptions{Tile: 24, Overlap: 8, MaxNoData: maxND})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			_, got := readVectors(t, out)
			check(name, got, 6, 4, 8, maxND, res, th.cellsND)
		}
	}
}
