package embed

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/raster"
)

const noData = -9999

// writeScene writes a 3-band float32 GeoTIFF (red, green, nir) of size w x h
// with value f(c, x, y), nodata -9999 where f returns it.
func writeScene(t *testing.T, path string, w, h int, geo raster.Geo, f func(c, x, y int) float32) {
	t.Helper()
	wr, err := gdalio.Create(path, image.Pt(w, h), geo, gdalio.WriteOptions{
		Bands: 3, Float32: true, NoData: raster.NoDataValue(noData), Names: []string{"red", "green", "nir"}})
	if err != nil {
		t.Fatal(err)
	}
	for c := range 3 {
		buf := make([]float32, w*h)
		for y := range h {
			for x := range w {
				buf[y*w+x] = f(c, x, y)
			}
		}
		if err := wr.WriteFloat32(c, image.Rect(0, 0, w, h), buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := wr.Commit(); err != nil {
		t.Fatal(err)
	}
}

func readVectors(t *testing.T, path string) (*godal.Dataset, [][]float32) {
	t.Helper()
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	st := ds.Structure()
	var bands [][]float32
	for _, b := range ds.Bands() {
		buf := make([]float32, st.SizeX*st.SizeY)
		if err := b.Read(0, 0, buf, st.SizeX, st.SizeY); err != nil {
			t.Fatal(err)
		}
		bands = append(bands, buf)
	}
	return ds, bands
}

// TestChipsMeans embeds a synthetic scene with the chipmean test encoder
// (testdata/models/gen.py: per-band means of 8x8 cells) and compares every
// chip with the float64 mean of its pixels (nodata pixels filled with 0),
// for a chip grid with and without overlap, and checks the nodata chips,
// the chip grid's geotransform and the sidecar.
func TestChipsMeans(t *testing.T) {
	e := chipmean(t)
	dir := t.TempDir()
	scene := filepath.Join(dir, "scene.tif")
	geo := raster.Geo{Transform: raster.GeoTransform{500000, 30, 0, 4000000, 0, -30}, CRS: `EPSG:32633`}
	geo.CRS = utm33(t)
	const W, H = 50, 40
	val := func(c, x, y int) float32 {
		if x < 12 && y < 12 { // top-left: 144 nodata pixels
			return noData
		}
		return float32(c*1000+x*7+y*13) * 0.001
	}
	writeScene(t, scene, W, H, geo, val)
	for _, tc := range []struct {
		chip, stride int
		maxND        float64
		cols, rows   int
	}{
		{16, 16, 0.5, 3, 2},
		{16, 8, 0.5, 5, 4},
		{16, 8, 0.6, 5, 4},
	} {
		out := filepath.Join(dir, "emb.tif")
		res, err := Chips(context.Background(), e, []string{scene}, out, Options{Chip: tc.chip, Stride: tc.stride, MaxNoData: tc.maxND, Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		if res.Cols != tc.cols || res.Rows != tc.rows {
			t.Fatalf("grid %dx%d, want %dx%d", res.Cols, res.Rows, tc.cols, tc.rows)
		}
		ds, bands := readVectors(t, out)
		if len(bands) != 3 {
			t.Fatalf("%d bands, want 3", len(bands))
		}
		gt, _ := ds.GeoTransform()
		off := float64(tc.chip-tc.stride) / 2
		want := [6]float64{500000 + off*30, 30 * float64(tc.stride), 0, 4000000 - off*30, 0, -30 * float64(tc.stride)}
		if gt != want {
			t.Errorf("geotransform %v, want %v", gt, want)
		}
		nodata := 0
		for r := range tc.rows {
			for c := range tc.cols {
				x0, y0 := c*tc.stride, r*tc.stride
				bad := 0
				var sum [3]float64
				for y := y0; y < y0+tc.chip; y++ {
					for x := x0; x < x0+tc.chip; x++ {
						if val(0, x, y) == noData {
							bad++
							continue
						}
						for b := range 3 {
							sum[b] += float64(val(b, x, y))
						}
					}
				}
				isND := float64(bad) > tc.maxND*float64(tc.chip*tc.chip)
				for b := range 3 {
					got := bands[b][r*tc.cols+c]
					if isND {
						if !math.IsNaN(float64(got)) {
							t.Fatalf("chip %d,%d (%d nodata px) band %d = %g, want NaN", c, r, bad, b, got)
						}
						continue
					}
					w := sum[b] / float64(tc.chip*tc.chip)
					if math.Abs(float64(got)-w) > 1e-6*max(1, math.Abs(w)) {
						t.Fatalf("chip %d,%d band %d = %.9g, want %.9g", c, r, b, got, w)
					}
				}
				if isND {
					nodata++
				}
			}
		}
		if res.NoDataChips != nodata || res.Chips+nodata != tc.cols*tc.rows {
			t.Errorf("result %+v, want %d nodata chips", res, nodata)
		}
		raw, err := os.ReadFile(out + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var sc Sidecar
		if err := json.Unmarshal(raw, &sc); err != nil || sc.Encoder != "chipmean" || sc.Dim != 3 || sc.Chip != tc.chip || sc.Stride != tc.stride {
			t.Errorf("sidecar %+v (%v)", sc, err)
		}
	}
}

func TestChipsRefuses(t *testing.T) {
	e := chipmean(t)
	dir := t.TempDir()
	scene := filepath.Join(dir, "s.tif")
	writeScene(t, scene, 20, 20, raster.Geo{}, func(c, x, y int) float32 { return 1 })
	for _, tc := range []struct {
		o   Options
		err string
	}{
		{Options{Chip: 12}, "multiple of"},
		{Options{Chip: 32}, "smaller than one"},
		{Options{Chip: 16, Stride: 17}, "stride"},
		{Options{Chip: 16, Bands: []int{1, 2}}, "2 bands given"},
	} {
		_, err := Chips(context.Background(), e, []string{scene}, filepath.Join(dir, "o.tif"), tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: error %v, want %q", tc.o, err, tc.err)
		}
	}
	if _, err := Load("mobilenetv2-imagenet", ort.Options{Threads: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("omnicloud", ort.Options{Threads: 1}); err == nil || !strings.Contains(err.Error(), "not an embedding encoder") {
		t.Errorf("omnicloud loaded as an encoder: %v", err)
	}
}
