package gdalio

import (
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/raster"
)

// TestReopen reopens a scene of three files with two bands selected: the
// second handle reads the same values with the same selection, each handle
// closes on its own (the other still reads), and a file changed in between
// is refused with its name.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	a := typedTIF(t, filepath.Join(dir, "a.tif"), godal.UInt16, func(x, y int) float64 { return float64(x*100 + y) })
	b := typedTIF(t, filepath.Join(dir, "b.tif"), godal.Byte, func(x, y int) float64 { return float64((x + 3*y) % 256) })
	c := typedTIF(t, filepath.Join(dir, "c.tif"), godal.Float32, func(x, y int) float64 { return float64(x) - 0.5*float64(y) })
	s, err := Open(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Select([]int{2, 0}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !slices.Equal(r.Selected(), s.Selected()) || r.Size != s.Size || r.Geo.CRS != s.Geo.CRS || r.Geo.Transform != s.Geo.Transform {
		t.Fatalf("reopened: %v %v %v, want %v %v %v", r.Selected(), r.Size, r.Geo, s.Selected(), s.Size, s.Geo)
	}
	win := image.Rect(3, 5, 37, 29)
	read := func(sc *Scene) []float32 {
		dst := raster.NewFloat32(2, win)
		if err := sc.Read(dst); err != nil {
			t.Fatal(err)
		}
		return dst.Pix
	}
	want := read(s)
	if got := read(r); !slices.Equal(got, want) {
		t.Fatal("the reopened scene reads other values")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := read(r); !slices.Equal(got, want) {
		t.Fatal("the reopened scene reads other values once the first is closed")
	}

	// A file replaced by one of another type is refused.
	s2, err := Open(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	typedTIF(t, b, godal.Int16, func(x, y int) float64 { return 1 })
	if _, err := s2.Reopen(); err == nil || !strings.Contains(err.Error(), b+": changed since it was opened") {
		t.Fatalf("reopening a changed scene: %v", err)
	}
}
