package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/raster"
)

// TestCLINoSilentlyWrongResults runs the silently-wrong inputs of issue 19
// through the command line (engine's TestNoSilentlyWrongResults and
// TestUnusableModelOutputs hold the library side): the mask's nodata is
// exactly the input's, and what changed is said on stderr.
func TestCLINoSilentlyWrongResults(t *testing.T) {
	const W, H = 64, 64
	box := func(x, y int) bool { return x >= 10 && x < 30 && y >= 10 && y < 30 }
	other := func(x, y int) bool { return x >= 40 && x < 50 && y >= 40 && y < 50 }
	smooth := func(c, x, y int) float64 {
		return math.Round(1500 + 1000*math.Sin(float64(x)/7+float64(c))*math.Cos(float64(y)/11))
	}
	vrtNoData := func(t *testing.T, src string, names []string, nds []float64) string {
		var b strings.Builder
		fmt.Fprintf(&b, `<VRTDataset rasterXSize="%d" rasterYSize="%d">`, W, H)
		for i, n := range names {
			fmt.Fprintf(&b, `<VRTRasterBand dataType="Float32" band="%d"><Description>%s</Description><NoDataValue>%g</NoDataValue><SimpleSource><SourceFilename relativeToVRT="0">%s</SourceFilename><SourceBand>%d</SourceBand></SimpleSource></VRTRasterBand>`, i+1, n, nds[i], src, i+1)
		}
		b.WriteString(`</VRTDataset>`)
		v := strings.TrimSuffix(src, ".tif") + ".vrt"
		os.WriteFile(v, []byte(b.String()), 0o644)
		return v
	}
	for _, tc := range []struct {
		name  string
		scene func(t *testing.T, dir string) string
		warn  string
	}{
		{"signed bytes", func(t *testing.T, dir string) string {
			return tif{w: W, h: H, dtype: godal.Byte, nodata: f64(-128), co: []string{"PIXELTYPE=SIGNEDBYTE"}, pix: func(c, x, y int) float64 {
				if box(x, y) {
					return float64(uint8(0x80)) // -128
				}
				return float64(uint8(int8(smooth(c, x, y)/20 - 75)))
			}}.write(t, filepath.Join(dir, "s8.tif"))
		}, ""},
		{"nodata of a band not read", func(t *testing.T, dir string) string {
			names := []string{"blue", "red", "green", "nir"}
			src := tif{w: W, h: H, bands: 4, names: names, pix: func(c, x, y int) float64 {
				if box(x, y) && c > 0 {
					return 0
				}
				return smooth(c, x, y)
			}}.write(t, filepath.Join(dir, "s.tif"))
			return vrtNoData(t, src, names, []float64{7, 0, 0, 0})
		}, ""},
		{"per-band nodata", func(t *testing.T, dir string) string {
			names := []string{"red", "green", "nir"}
			src := tif{w: W, h: H, pix: func(c, x, y int) float64 {
				switch {
				case box(x, y):
					return float64(c)
				case other(x, y):
					return 0
				}
				return smooth(c, x, y)
			}}.write(t, filepath.Join(dir, "s.tif"))
			return vrtNoData(t, src, names, []float64{0, 1, 2})
		}, "different nodata values"},
		{"float64 nodata 1e-300", func(t *testing.T, dir string) string {
			return tif{w: W, h: H, dtype: godal.Float64, nodata: f64(1e-300), pix: func(c, x, y int) float64 {
				switch {
				case box(x, y):
					return 1e-300
				case other(x, y):
					return 0
				}
				return smooth(c, x, y)
			}}.write(t, filepath.Join(dir, "s.tif"))
		}, "not a float32 value"},
		{"GCPs only", func(t *testing.T, dir string) string {
			p := tif{w: W, h: H, geo: &raster.Geo{}, pix: func(c, x, y int) float64 {
				if box(x, y) {
					return math.NaN()
				}
				return smooth(c, x, y)
			}}.write(t, filepath.Join(dir, "s.tif"))
			ds, err := godal.Open(p, godal.Update())
			if err != nil {
				t.Fatal(err)
			}
			sr, _ := godal.NewSpatialRefFromEPSG(4326)
			wkt, _ := sr.WKT()
			sr.Close()
			if err := ds.SetGCPs([]godal.GCP{{PszId: "1", DfGCPX: 10, DfGCPY: 50}, {PszId: "2", DfGCPPixel: W, DfGCPX: 10.01, DfGCPY: 50},
				{PszId: "3", DfGCPLine: H, DfGCPX: 10, DfGCPY: 49.99}}, godal.GCPProjection(wkt)); err != nil {
				t.Fatal(err)
			}
			ds.Close()
			return p
		}, "ground control points"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out := t.TempDir(), t.TempDir()
			scene := tc.scene(t, in)
			_, stderr, err := cli(t, "predict", scene, "--model", pointwise, "--output-dir", out, "--threads", "1", "--no-resample", "--patch-size", "32", "--overlap", "8")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr, tc.warn) {
				t.Errorf("stderr lacks %q", tc.warn)
			}
			mask := maskIn(out, scene)
			pix, w, _, _ := readMask(t, mask)
			bad := 0
			for i, v := range pix {
				if (v == 255) != box(i%w, i/w) {
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%d pixels with the wrong nodata state", bad)
			}
			if tc.name == "GCPs only" {
				ds, err := godal.Open(mask)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(ds.GCPs()); n != 3 {
					t.Errorf("mask has %d GCPs, want 3", n)
				}
				ds.Close()
			}
		})
	}
}
