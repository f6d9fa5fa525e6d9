package embed

import (
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/gdalio"
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

// TestVectorWriter writes rows across strip boundaries and a short last
// strip and reads every value back; rows out of order and a commit before
// the last row are refused.
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
			for x := range tc.w {
				for b := range tc.d {
					row[b*tc.w+x] = val(x, y, b)
				}
			}
			if err := w.writeRow(y, row); err != nil {
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
		if err := w.writeRow(y, row); err != nil {
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

// TestPoolBands checks the pooled, transposed vectors against poolInto for
// 1x1 and 2x3 feature maps, widths that are and are not multiples of the
// tile, and chips spread over two output rows with gaps.
func TestPoolBands(t *testing.T) {
	const cols = 23
	for _, tc := range []struct{ n, d, h, w int }{
		{40, 37, 1, 1},
		{40, 32, 2, 3},
		{1, 1, 1, 1},
		{17, 16, 1, 1},
	} {
		shape := [4]int64{int64(tc.n), int64(tc.d), int64(tc.h), int64(tc.w)}
		fm := make([]float32, tc.n*tc.d*tc.h*tc.w)
		for i := range fm {
			fm[i] = float32(i%97)/13 - 3
		}
		var pos []int
		for k := range tc.n {
			pos = append(pos, 5*cols+k*(2*cols-1)/tc.n) // row 5 from column 0, then row 6, with gaps
		}
		var ring [2][]float32
		for i := range ring {
			ring[i] = make([]float32, tc.d*cols)
			fillNaN(ring[i])
		}
		poolBands(&ring, cols, fm, shape, pos)
		want := make([]float32, tc.d)
		seen := map[int]bool{}
		for k, p := range pos {
			poolInto(want, fm, shape, k)
			r, c := p/cols, p%cols
			seen[p] = true
			for b, w := range want {
				if got := ring[r%2][b*cols+c]; math.Float32bits(got) != math.Float32bits(w) {
					t.Fatalf("%+v: chip %d (row %d column %d) band %d = %g, want %g", tc, k, r, c, b, got, w)
				}
			}
		}
		for r := 5; r <= 6; r++ {
			for c := range cols {
				if !seen[r*cols+c] && !math.IsNaN(float64(ring[r%2][c])) {
					t.Fatalf("%+v: row %d column %d written without a chip", tc, r, c)
				}
			}
		}
	}
}

// TestChipsToMemory writes embeddings and their sidecar to GDAL's in-memory
// file system, as the writers of masks can, and leaves no temporary there;
// a failed run removes its temporary there too.
func TestChipsToMemory(t *testing.T) {
	e := chipmean(t)
	scene := filepath.Join(t.TempDir(), "scene.tif")
	writeScene(t, scene, 48, 32, raster.Geo{}, func(c, x, y int) float32 { return float32(c + x + y) })
	dir := fmt.Sprintf("/vsimem/embed-test-%d", os.Getpid())
	out := dir + "/emb.tif"
	defer gdalio.RemoveMem(out)
	defer gdalio.RemoveMem(out + ".json")
	res, err := Chips(context.Background(), e, []string{scene}, out, Options{Chip: 16})
	if err != nil {
		t.Fatal(err)
	}
	if res.Cols != 3 || res.Rows != 2 {
		t.Fatalf("%+v", res)
	}
	_, bands := readVectors(t, out)
	if got, want := bands[2][4], float32(2+23.5+23.5); got != want { // chip (1, 1): 2 + mean x + mean y
		t.Errorf("chip 1,1 band 2 = %g, want %g", got, want)
	}
	js, err := gdalio.ReadMem(out + ".json")
	if err != nil || !strings.Contains(string(js), `"encoder": "chipmean"`) {
		t.Errorf("sidecar %q (%v)", js, err)
	}
	if left := memFiles(t, dir); len(left) != 2 {
		t.Errorf("in %s: %v, want the output and its sidecar", dir, left)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Chips(ctx, e, []string{scene}, dir+"/cancelled.tif", Options{Chip: 16}); err == nil {
		t.Fatal("cancelled run succeeded")
	}
	if left := memFiles(t, dir); len(left) != 2 {
		t.Errorf("after a cancelled run, in %s: %v", dir, left)
	}
}

// memFiles lists an in-memory folder.
func memFiles(t *testing.T, dir string) []string {
	t.Helper()
	return gdalio.MemFiles(dir)
}
