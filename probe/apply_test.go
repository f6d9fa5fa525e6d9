package probe

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// TestWriteProbabilities: the probabilities file has one float32 band per
// class named by it, the chip grid's georeference, each chip's
// probabilities as Predict gives them (summing to 1), NaN at nodata chips.
func TestWriteProbabilities(t *testing.T) {
	utm, err := gdalio.NormalizeCRS("EPSG:32633")
	if err != nil {
		t.Fatal(err)
	}
	x, y, _ := blobs(150, 7)
	classes := []string{"water", "land", "cloud"}
	p, err := Fit(x, y, classes, 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	geo := raster.Geo{Transform: raster.GeoTransform{500120, 240, 0, 4000000, 0, -240}, CRS: utm}
	e := grid("e.tif", 4, 3, 16, 8, geo, 2, 7)
	e.Sidecar.Dim = 4
	tx, ty, _ := blobs(12, 8)
	for i := range e.Vectors {
		if e.Vectors[i] != nil {
			e.Vectors[i] = tx[i]
		}
	}
	class, prob, err := p.Apply(e)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for j := range class {
		if (class[j] < 0) != (e.Vectors[j] == nil) || (class[j] >= 0 && class[j] != p.Class(e.Vectors[j])) {
			t.Fatalf("chip %d: class %d", j, class[j])
		}
		if class[j] == ty[j] {
			right++
		}
	}
	if right < 9 {
		t.Errorf("%d of 10 chips right", right)
	}
	path := filepath.Join(t.TempDir(), "probs.tif")
	if err := WriteProbabilities(path, e, classes, prob); err != nil {
		t.Fatal(err)
	}
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	st := ds.Structure()
	if st.NBands != 3 || st.DataType != godal.Float32 || st.SizeX != 4 || st.SizeY != 3 {
		t.Fatalf("%d bands of %s, %dx%d", st.NBands, st.DataType, st.SizeX, st.SizeY)
	}
	if gt, _ := ds.GeoTransform(); gt != [6]float64(geo.Transform) {
		t.Errorf("geotransform %v", gt)
	}
	if !strings.Contains(ds.Projection(), "32633") {
		t.Errorf("CRS %.80s", ds.Projection())
	}
	bands := make([][]float32, 3)
	for k, b := range ds.Bands() {
		if d := b.Description(); d != classes[k] {
			t.Errorf("band %d described %q, want %q", k+1, d, classes[k])
		}
		if nd, ok := b.NoData(); !ok || !math.IsNaN(nd) {
			t.Errorf("band %d nodata %v %v, want NaN", k+1, nd, ok)
		}
		bands[k] = make([]float32, 12)
		if err := b.Read(0, 0, bands[k], 4, 3); err != nil {
			t.Fatal(err)
		}
	}
	for j := range 12 {
		var sum float64
		for k := range 3 {
			v := bands[k][j]
			if e.Vectors[j] == nil {
				if !math.IsNaN(float64(v)) {
					t.Errorf("nodata chip %d band %d = %g, want NaN", j, k, v)
				}
				continue
			}
			if v != float32(prob[j][k]) || v < 0 || v > 1 {
				t.Errorf("chip %d band %d = %g, want %g", j, k, v, prob[j][k])
			}
			sum += float64(v)
		}
		if e.Vectors[j] != nil && math.Abs(sum-1) > 1e-6 {
			t.Errorf("chip %d: probabilities sum to %.9f", j, sum)
		}
	}
	// refusals
	e.Sidecar.Dim = 5
	if _, _, err := p.Apply(e); err == nil || !strings.Contains(err.Error(), "5-D embeddings, the probe takes 4-D") {
		t.Errorf("wrong width: %v", err)
	}
	if err := WriteProbabilities(path, e, classes, prob[:5]); err == nil || !strings.Contains(err.Error(), "5 chips of probabilities for a 4x3 chip grid") {
		t.Errorf("short probabilities: %v", err)
	}
	prob[0] = prob[0][:2]
	if err := WriteProbabilities(path, e, classes, prob); err == nil || !strings.Contains(err.Error(), "chip 0 has 2 probabilities for 3 classes") {
		t.Errorf("short chip: %v", err)
	}
}
