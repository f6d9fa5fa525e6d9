package main

// Fixtures shared by this package's tests: test models, GeoTIFFs written
// to order, raw files, and reading a written mask back.

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/synth"
	"github.com/omnimask/omnimask/raster"
)

func testModel(name string) string { return filepath.Join("..", "..", "testdata", "models", name) }

var pointwise = testModel("pointwise.onnx")

// tif describes a GeoTIFF to write for a test.
type tif struct {
	w, h   int
	bands  int            // default 3
	names  []string       // band descriptions; default red, green, nir for 3 bands
	dtype  godal.DataType // default Float32
	nodata *float64
	geo    *raster.Geo               // nil: synthetic UTM 33N at 10 m; &raster.Geo{}: none
	pix    func(c, x, y int) float64 // default a cheap smooth pattern in 500..2500 (all classes of pointwise.onnx)
	co     []string                  // creation options; default tiled, DEFLATE
	seed   uint64
}

func f64(v float64) *float64 { return &v }

// write writes the GeoTIFF and returns its path.
func (s tif) write(t testing.TB, path string) string {
	t.Helper()
	gdalio.Register()
	if s.bands == 0 {
		s.bands = 3
	}
	if s.names == nil && s.bands == 3 {
		s.names = []string{"red", "green", "nir"}
	}
	if s.dtype == godal.Unknown {
		s.dtype = godal.Float32
	}
	if s.co == nil {
		s.co = []string{"TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128", "COMPRESS=DEFLATE"}
	}
	g := synth.New(synth.Options{Width: s.w, Height: s.h})
	if s.pix == nil {
		k := float64(s.seed)
		s.pix = func(c, x, y int) float64 {
			return 1500 + 1000*math.Sin(float64(x)/(7+k)+float64(c))*math.Cos(float64(y)/(11+float64(c)))
		}
	}
	ds, err := godal.Create(godal.GTiff, path, s.bands, s.dtype, s.w, s.h, godal.CreationOption(s.co...))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := ds.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	geo := g.Geo()
	if s.geo != nil {
		geo = *s.geo
	}
	if geo.Transform != (raster.GeoTransform{}) && !geo.Transform.IsIdentity() {
		if err := ds.SetGeoTransform(geo.Transform); err != nil {
			t.Fatal(err)
		}
	}
	if geo.CRS != "" {
		if err := ds.SetProjection(geo.CRS); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]float64, s.w*s.h)
	for c, b := range ds.Bands() {
		if c < len(s.names) {
			if err := b.SetDescription(s.names[c]); err != nil {
				t.Fatal(err)
			}
		}
		if s.nodata != nil {
			if err := b.SetNoData(*s.nodata); err != nil {
				t.Fatal(err)
			}
		}
		for y := 0; y < s.h; y++ {
			for x := 0; x < s.w; x++ {
				buf[y*s.w+x] = s.pix(c, x, y)
			}
		}
		if err := b.Write(0, 0, buf, s.w, s.h); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// writeFile writes raw bytes and returns the path.
func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func wgs84(t testing.TB) string {
	t.Helper()
	gdalio.Register()
	sr, err := godal.NewSpatialRefFromEPSG(4326)
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	wkt, err := sr.WKT()
	if err != nil {
		t.Fatal(err)
	}
	return wkt
}

// readMask reads band 1 of a written mask and its geotransform.
func readMask(t testing.TB, path string) (pix []uint8, w, h int, gt [6]float64) {
	t.Helper()
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	st := ds.Structure()
	w, h = st.SizeX, st.SizeY
	pix = make([]uint8, w*h)
	if err := ds.Bands()[0].Read(0, 0, pix, w, h); err != nil {
		t.Fatal(err)
	}
	gt, _ = ds.GeoTransform()
	return pix, w, h, gt
}
