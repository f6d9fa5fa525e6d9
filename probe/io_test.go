package probe

import (
	"context"
	"image"
	"path/filepath"
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
	lw, err := gdalio.Create(labels, image.Pt(W, H), raster.Geo{}, gdalio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := lw.WriteUint8(0, image.Rect(0, 0, W, H), lab); err != nil {
		t.Fatal(err)
	}
	if err := lw.Commit(); err != nil {
		t.Fatal(err)
	}
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
