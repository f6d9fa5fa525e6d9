package embed

import (
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/raster"
)

func TestStripRows(t *testing.T) {
	for _, tc := range []struct{ w, d, want int }{
		{171, 1280, 19}, // the 5490² benchmark: 19 rows of 0.84 MiB
		{10, 3, maxStripRows},
		{343, 1280, 9},
		{4096, 2048, 1}, // a row over the budget still takes a strip
		{1, 1, maxStripRows},
	} {
		if got := stripRows(tc.w, tc.d); got != tc.want {
			t.Errorf("stripRows(%d, %d) = %d, want %d", tc.w, tc.d, got, tc.want)
		}
	}
}

// TestVectorWriter writes rows through both entry points (pixel-major and
// band-major), across strip boundaries and a short last strip, and reads
// every value back; rows out of order and a commit before the last row
// are refused.
func TestVectorWriter(t *testing.T) {
	for _, tc := range []struct {
		w, h, d int
		dtype   string
	}{
		{7, 75, 3, Float32}, // strips of 32, 32 and 11 rows
		{1, 1, 1, Float32},
		{33, 40, 17, Float16},
		{5, 32, 2, Float32}, // exactly one strip
	} {
		dir := t.TempDir()
		out := filepath.Join(dir, "v.tif")
		w, err := createVectors(out, image.Pt(tc.w, tc.h), tc.d, raster.Geo{}, map[string]string{}, tc.dtype)
		if err != nil {
			t.Fatal(err)
		}
		val := func(x, y, b int) float32 {
			if (x+y+b)%11 == 0 {
				return float32(math.NaN())
			}
			return float32(x*1000+y) + float32(b)/7
		}
		for y := range tc.h {
			row := make([]float32, tc.w*tc.d)
			if y%2 == 0 {
				for x := range tc.w {
					for b := range tc.d {
						row[x*tc.d+b] = val(x, y, b)
					}
				}
				err = w.writePixelRow(y, row)
			} else {
				for x := range tc.w {
					for b := range tc.d {
						row[b*tc.w+x] = val(x, y, b)
					}
				}
				err = w.writeRow(y, row)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := w.commit(); err != nil {
			t.Fatal(err)
		}
		_, bands := readVectors(t, out)
		for b := range tc.d {
			for i, got := range bands[b] {
				want := val(i%tc.w, i/tc.w, b)
				if tc.dtype == Float16 {
					want = RoundHalf(want)
				}
				if math.Float32bits(got) != math.Float32bits(want) && !(math.IsNaN(float64(got)) && math.IsNaN(float64(want))) {
					t.Fatalf("%dx%dx%d: pixel %d,%d band %d = %g, want %g", tc.w, tc.h, tc.d, i%tc.w, i/tc.w, b, got, want)
				}
			}
		}
	}

	dir := t.TempDir()
	w, err := createVectors(filepath.Join(dir, "v.tif"), image.Pt(4, 40), 2, raster.Geo{}, map[string]string{}, Float32)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]float32, 8)
	if err := w.writeRow(1, row); err == nil || !strings.Contains(err.Error(), "row 0 expected") {
		t.Errorf("row 1 first: %v", err)
	}
	for y := range 3 {
		if err := w.writePixelRow(y, row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.writeRow(2, row); err == nil {
		t.Error("row 2 twice accepted")
	}
	if err := w.commit(); err == nil || !strings.Contains(err.Error(), "3 of 40 rows") {
		t.Errorf("commit after 3 of 40 rows: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Errorf("left behind: %v", m)
	}
}
