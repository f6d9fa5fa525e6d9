package engine

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// rawTIF writes a GeoTIFF band by band: names, a data type, per-band nodata
// (nil: none), values from pix, creation options, and GCPs instead of a
// geotransform when gcps is set.
type rawTIF struct {
	w, h   int
	names  []string
	dtype  godal.DataType
	nodata []*float64
	pix    func(c, x, y int) float64
	co     []string
	gcps   []godal.GCP
}

func (r rawTIF) write(t testing.TB, path string) string {
	t.Helper()
	gdalio.Register()
	ds, err := godal.Create(godal.GTiff, path, len(r.names), r.dtype, r.w, r.h, godal.CreationOption(r.co...))
	if err != nil {
		t.Fatal(err)
	}
	if r.gcps != nil {
		sr, err := godal.NewSpatialRefFromEPSG(4326)
		if err != nil {
			t.Fatal(err)
		}
		wkt, _ := sr.WKT()
		sr.Close()
		if err := ds.SetGCPs(r.gcps, godal.GCPProjection(wkt)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]float64, r.w*r.h)
	for c, b := range ds.Bands() {
		b.SetDescription(r.names[c])
		if c < len(r.nodata) && r.nodata[c] != nil {
			if err := b.SetNoData(*r.nodata[c]); err != nil {
				t.Fatal(err)
			}
		}
		for y := 0; y < r.h; y++ {
			for x := 0; x < r.w; x++ {
				buf[y*r.w+x] = r.pix(c, x, y)
			}
		}
		if err := b.Write(0, 0, buf, r.w, r.h); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func nd(v float64) *float64 { return &v }

// perBandVRT wraps a GeoTIFF (written without nodata) in a VRT giving each
// band its own nodata value, as GeoTIFF cannot.
func perBandVRT(t testing.TB, tif string, names []string, nodata []float64) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<VRTDataset rasterXSize="64" rasterYSize="64">`)
	for i, n := range names {
		fmt.Fprintf(&b, `<VRTRasterBand dataType="Float32" band="%d"><Description>%s</Description><NoDataValue>%g</NoDataValue><SimpleSource><SourceFilename relativeToVRT="0">%s</SourceFilename><SourceBand>%d</SourceBand></SimpleSource></VRTRasterBand>`, i+1, n, nodata[i], tif, i+1)
	}
	b.WriteString(`</VRTDataset>`)
	vrt := strings.TrimSuffix(tif, ".tif") + ".vrt"
	if err := os.WriteFile(vrt, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return vrt
}

// pattern is a smooth test pattern in [lo, lo+span).
func pattern(lo, span float64) func(c, x, y int) float64 {
	return func(c, x, y int) float64 {
		return math.Round(lo + span*(0.5+0.5*math.Sin(float64(x)/5+float64(c))*math.Cos(float64(y)/7)))
	}
}

// TestNoSilentlyWrongResults enumerates inputs that used to give a wrong
// mask without a word: signed bytes read as unsigned, band 1's nodata used
// for other bands, per-band nodata, nodata values float32 cannot hold, and
// a georeference of ground control points only.
func TestNoSilentlyWrongResults(t *testing.T) {
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	predict := func(t *testing.T, path string) *Result {
		t.Helper()
		res, err := e.PredictFile(context.Background(), []string{path}, Request{NoResample: true, PatchSize: 32, Overlap: 8})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	rgbn := []string{"red", "green", "nir"}
	inBox := func(x, y int) bool { return x >= 10 && x < 30 && y >= 10 && y < 30 }
	const W, H = 64, 64
	// wantNoData checks that exactly the pixels of box are nodata.
	wantNoData := func(t *testing.T, res *Result, box func(x, y int) bool) {
		t.Helper()
		bad := 0
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				if (res.Mask.Pix[y*W+x] == 255) != box(x, y) {
					bad++
				}
			}
		}
		if bad > 0 {
			t.Errorf("%d pixels with the wrong nodata state", bad)
		}
	}

	t.Run("signed bytes match the same data as float32", func(t *testing.T) {
		dir := t.TempDir()
		pix := func(c, x, y int) float64 {
			if inBox(x, y) {
				return -128
			}
			return pattern(-100, 200)(c, x, y)
		}
		nds := []*float64{nd(-128), nd(-128), nd(-128)}
		s8 := rawTIF{w: W, h: H, names: rgbn, dtype: godal.Byte, nodata: nds, co: []string{"PIXELTYPE=SIGNEDBYTE"},
			pix: func(c, x, y int) float64 { return float64(uint8(int8(pix(c, x, y)))) }}.write(t, filepath.Join(dir, "s8.tif"))
		f32 := rawTIF{w: W, h: H, names: rgbn, dtype: godal.Float32, nodata: nds, pix: pix}.write(t, filepath.Join(dir, "f32.tif"))
		a, b := predict(t, s8), predict(t, f32)
		diff := 0
		for i := range a.Mask.Pix {
			if a.Mask.Pix[i] != b.Mask.Pix[i] {
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("signed-byte mask differs from float32 on %d pixels", diff)
		}
		wantNoData(t, a, inBox)
	})
	t.Run("nodata of a band the model does not read", func(t *testing.T) {
		names := []string{"blue", "red", "green", "nir"}
		tif := rawTIF{w: W, h: H, names: names, dtype: godal.Float32,
			pix: func(c, x, y int) float64 {
				if inBox(x, y) && c > 0 {
					return 0
				}
				return pattern(500, 2000)(c, x, y)
			}}.write(t, filepath.Join(t.TempDir(), "s.tif"))
		path := perBandVRT(t, tif, names, []float64{7, 0, 0, 0})
		wantNoData(t, predict(t, path), inBox)
	})
	t.Run("per-band nodata values", func(t *testing.T) {
		other := func(x, y int) bool { return x >= 40 && x < 50 && y >= 40 && y < 50 }
		tif := rawTIF{w: W, h: H, names: rgbn, dtype: godal.Float32,
			pix: func(c, x, y int) float64 {
				switch {
				case inBox(x, y):
					return float64(c) // each band's own nodata: nodata
				case other(x, y):
					return 0 // band 1's nodata in every band: data
				}
				return pattern(500, 2000)(c, x, y)
			}}.write(t, filepath.Join(t.TempDir(), "s.tif"))
		path := perBandVRT(t, tif, rgbn, []float64{0, 1, 2})
		res := predict(t, path)
		wantNoData(t, res, inBox)
		if !strings.Contains(strings.Join(res.Warnings, ";"), "different nodata values") {
			t.Errorf("warnings %q", res.Warnings)
		}
	})
	t.Run("float64 nodata float32 cannot hold", func(t *testing.T) {
		zeros := func(x, y int) bool { return x >= 40 && x < 50 && y >= 40 && y < 50 }
		path := rawTIF{w: W, h: H, names: rgbn, dtype: godal.Float64, nodata: []*float64{nd(1e-300), nd(1e-300), nd(1e-300)},
			pix: func(c, x, y int) float64 {
				switch {
				case inBox(x, y):
					return 1e-300
				case zeros(x, y):
					return 0 // genuine zeros: data
				}
				return pattern(500, 2000)(c, x, y)
			}}.write(t, filepath.Join(t.TempDir(), "s.tif"))
		wantNoData(t, predict(t, path), inBox)
	})
	t.Run("--nodata float32 cannot hold", func(t *testing.T) {
		zeros := func(x, y int) bool { return x >= 40 && x < 50 && y >= 40 && y < 50 }
		path := rawTIF{w: W, h: H, names: rgbn, dtype: godal.Float64,
			pix: func(c, x, y int) float64 {
				switch {
				case inBox(x, y):
					return 1e-300
				case zeros(x, y):
					return 0
				}
				return pattern(500, 2000)(c, x, y)
			}}.write(t, filepath.Join(t.TempDir(), "s.tif"))
		res, err := e.PredictFile(context.Background(), []string{path}, Request{NoResample: true, PatchSize: 32, Overlap: 8, NoData: raster.NoDataValue(1e-300)})
		if err != nil {
			t.Fatal(err)
		}
		wantNoData(t, res, inBox)
	})
	t.Run("uint32 nodata next to its neighbour", func(t *testing.T) {
		near := func(x, y int) bool { return x >= 40 && x < 50 && y >= 40 && y < 50 }
		path := rawTIF{w: W, h: H, names: rgbn, dtype: godal.UInt32, nodata: []*float64{nd(4294967295), nd(4294967295), nd(4294967295)},
			pix: func(c, x, y int) float64 {
				switch {
				case inBox(x, y):
					return 4294967295
				case near(x, y):
					return 4294967294 // the same float32: data
				}
				return pattern(500, 2000)(c, x, y)
			}}.write(t, filepath.Join(t.TempDir(), "s.tif"))
		wantNoData(t, predict(t, path), inBox)
	})
	t.Run("GCP-only georeference kept", func(t *testing.T) {
		dir := t.TempDir()
		gcps := []godal.GCP{
			{PszId: "1", DfGCPPixel: 0, DfGCPLine: 0, DfGCPX: 10, DfGCPY: 50},
			{PszId: "2", DfGCPPixel: W, DfGCPLine: 0, DfGCPX: 10.01, DfGCPY: 50},
			{PszId: "3", DfGCPPixel: 0, DfGCPLine: H, DfGCPX: 10, DfGCPY: 49.99},
			{PszId: "4", DfGCPPixel: W, DfGCPLine: H, DfGCPX: 10.01, DfGCPY: 49.99},
		}
		path := rawTIF{w: W, h: H, names: rgbn, dtype: godal.Float32, pix: pattern(500, 2000), gcps: gcps}.write(t, filepath.Join(dir, "s.tif"))
		out := filepath.Join(dir, "m.tif")
		res, err := e.PredictFile(context.Background(), []string{path}, Request{NoResample: true, PatchSize: 32, Overlap: 8, Output: out})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(res.Warnings, ";"), "ground control points") {
			t.Errorf("no warning: %q", res.Warnings)
		}
		ds, err := godal.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer ds.Close()
		got := ds.GCPs()
		if len(got) != len(gcps) {
			t.Fatalf("mask has %d GCPs, want %d", len(got), len(gcps))
		}
		for i := range got {
			if got[i].DfGCPX != gcps[i].DfGCPX || got[i].DfGCPY != gcps[i].DfGCPY || got[i].DfGCPPixel != gcps[i].DfGCPPixel || got[i].DfGCPLine != gcps[i].DfGCPLine {
				t.Errorf("GCP %d = %+v, want %+v", i, got[i], gcps[i])
			}
		}
		if !strings.Contains(ds.GCPProjection(), "WGS") {
			t.Errorf("GCP projection %.80q", ds.GCPProjection())
		}
	})
}
