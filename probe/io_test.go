package probe

import (
	"context"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/raster"
)

// TestEmbeddingsRoundTrip embeds a scene whose left and right halves differ
// (chipmean test encoder: per-band chip means), reads the embeddings back,
// takes the majority label per chip from a label raster, and checks that a
// probe fitted on them classifies every chip.
func TestEmbeddingsRoundTrip(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	dir := t.TempDir()
	const W, H = 64, 32
	scene, labels := filepath.Join(dir, "s.tif"), filepath.Join(dir, "l.tif")
	sw, err := gdalio.Create(scene, image.Pt(W, H), raster.Geo{}, gdalio.WriteOptions{Bands: 3, Float32: true, Names: []string{"red", "green", "nir"}})
	if err != nil {
		t.Fatal(err)
	}
	lab := make([]uint8, W*H)
	for c := range 3 {
		buf := make([]float32, W*H)
		for y := range H {
			for x := range W {
				buf[y*W+x] = float32(x/32*5 + c + (x+y)%3)
				lab[y*W+x] = uint8(3 + 4*(x/32))
				if x%16 == 0 && y < 7 { // a minority label in every chip
					lab[y*W+x] = 9
				}
			}
		}
		if err := sw.WriteFloat32(c, image.Rect(0, 0, W, H), buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Commit(); err != nil {
		t.Fatal(err)
	}
	writeLabels(t, labels, image.Pt(W, H), raster.Geo{}, lab)
	enc, err := embed.Load("../testdata/models/chipmean.onnx", ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	out := filepath.Join(dir, "e.tif")
	if _, err := embed.Chips(context.Background(), enc, []string{scene}, out, embed.Options{Chip: 16}); err != nil {
		t.Fatal(err)
	}
	e, err := ReadEmbeddings(out)
	if err != nil {
		t.Fatal(err)
	}
	if e.Cols != 4 || e.Rows != 2 || e.Encoder() != "chipmean 0.0.1" {
		t.Fatalf("%dx%d chips of %q", e.Cols, e.Rows, e.Encoder())
	}
	l, err := ChipLabels(e, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{3, 3, 7, 7, 3, 3, 7, 7}
	for i := range want {
		if l[i] != want[i] {
			t.Fatalf("chip labels %v, want %v", l, want)
		}
	}
	var y []int
	for _, v := range l {
		y = append(y, map[int]int{3: 0, 7: 1}[v])
	}
	p, err := Fit(e.Vectors, y, []string{"3", "7"}, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range e.Vectors {
		if q.Class(v) != y[i] {
			t.Fatalf("chip %d: class %d, want %d", i, q.Class(v), y[i])
		}
	}
}

// TestChipLabelsProcessingResolution: chips cut at 20 m from a 10 m scene
// take their labels from the 2x larger window of a label raster on the
// scene's own grid (mapped through the geotransforms); a label raster
// without georeference is refused, naming the processing resolution.
func TestChipLabelsProcessingResolution(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	crs, err := gdalio.NormalizeCRS("EPSG:32633")
	if err != nil {
		t.Fatal(err)
	}
	geo := raster.Geo{CRS: crs, Transform: raster.GeoTransform{500000, 10, 0, 5000000, 0, -10}}
	dir := t.TempDir()
	const W, H = 64, 48
	scene := filepath.Join(dir, "s.tif")
	sw, err := gdalio.Create(scene, image.Pt(W, H), geo, gdalio.WriteOptions{Bands: 3, Float32: true, Names: []string{"red", "green", "nir"}})
	if err != nil {
		t.Fatal(err)
	}
	lab := make([]uint8, W*H)
	for c := range 3 {
		buf := make([]float32, W*H)
		for y := range H {
			for x := range W {
				buf[y*W+x] = float32(1 + c + x%5)
				lab[y*W+x] = uint8(1 + x/16 + 4*(y/16)) // one label per 16x16 native block
				if x%16 < 3 && y%16 < 5 {               // a minority label in every block
					lab[y*W+x] = 99
				}
			}
		}
		if err := sw.WriteFloat32(c, image.Rect(0, 0, W, H), buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Commit(); err != nil {
		t.Fatal(err)
	}
	labels := func(name string, g raster.Geo) string {
		path := filepath.Join(dir, name)
		writeLabels(t, path, image.Pt(W, H), g, lab)
		return path
	}
	enc, err := embed.Load("../testdata/models/chipmean.onnx", ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	out := filepath.Join(dir, "e.tif")
	// 20 m: a 32x24 grid, chips of 8 px = 16 native px, one per label block.
	if _, err := embed.Chips(context.Background(), enc, []string{scene}, out, embed.Options{Chip: 8, ProcessingResolution: 20}); err != nil {
		t.Fatal(err)
	}
	e, err := ReadEmbeddings(out)
	if err != nil {
		t.Fatal(err)
	}
	if e.Cols != 4 || e.Rows != 3 || e.Sidecar.ProcessingResolution != 20 {
		t.Fatalf("%dx%d chips at %g m", e.Cols, e.Rows, e.Sidecar.ProcessingResolution)
	}
	l, err := ChipLabels(e, labels("l.tif", geo))
	if err != nil {
		t.Fatal(err)
	}
	for r := range e.Rows {
		for c := range e.Cols {
			if want := 1 + c + 4*r; l[r*e.Cols+c] != want {
				t.Fatalf("chip labels %v, want chip (%d,%d) = %d", l, c, r, want)
			}
		}
	}
	if _, err := ChipLabels(e, labels("nogeo.tif", raster.Geo{})); err == nil || !strings.Contains(err.Error(), "processing resolution of 20 m") {
		t.Errorf("labels without georeference: %v", err)
	}
}

// writeLabels writes a one-band Byte label raster.
func writeLabels(t *testing.T, path string, size image.Point, g raster.Geo, pix []uint8) {
	t.Helper()
	w, err := gdalio.Create(path, size, g, gdalio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteUint8(0, image.Rectangle{Max: size}, pix); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}
