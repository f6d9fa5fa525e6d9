package gdalio

import (
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/raster"
)

func TestOverviewSizes(t *testing.T) {
	for _, tc := range []struct {
		size image.Point
		want []image.Point
	}{
		{image.Pt(512, 512), nil},
		{image.Pt(10, 10), nil},
		{image.Pt(513, 100), []image.Point{{257, 50}}},
		{image.Pt(1, 2000), []image.Point{{1, 1000}, {1, 500}}},
		{image.Pt(5490, 5490), []image.Point{{2745, 2745}, {1373, 1373}, {687, 687}, {344, 344}}},
	} {
		if got := OverviewSizes(tc.size); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("OverviewSizes(%v) = %v, want %v", tc.size, got, tc.want)
		}
	}
}

func TestModeRow(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []uint8
		nd   int
		want []uint8
	}{
		{"uniform", []uint8{1, 1, 2, 2}, []uint8{1, 1, 2, 2}, 255, []uint8{1, 2}},
		{"majority", []uint8{1, 3, 3, 0}, []uint8{3, 1, 0, 0}, 255, []uint8{3, 0}},
		{"nodata ignored", []uint8{255, 255, 255, 2}, []uint8{255, 1, 255, 255}, 255, []uint8{1, 2}},
		{"all nodata", []uint8{255, 255}, []uint8{255, 255}, 255, []uint8{255}},
		{"tie: first to reach the count", []uint8{2, 1, 0, 3}, []uint8{1, 2, 3, 0}, 255, []uint8{1, 3}},
		{"tie of singles: first", []uint8{2, 1}, []uint8{0, 3}, 255, []uint8{2}},
		{"tie after nodata", []uint8{255, 1}, []uint8{3, 255}, 255, []uint8{1}},
		{"no nodata value", []uint8{255, 255, 1}, []uint8{255, 1, 1}, -1, []uint8{255, 1}},
		{"odd width", []uint8{1, 1, 2}, []uint8{1, 1, 255}, 255, []uint8{1, 2}},
		{"last unpaired row", []uint8{4, 5, 5}, nil, 255, []uint8{4, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]uint8, len(tc.want))
			ModeRow(got, tc.a, tc.b, tc.nd)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ModeRow(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// naiveMode reduces a w x h raster by 2 with the block mode, nodata
// ignored: the value whose running count first exceeds every other's in
// reading order.
func naiveMode(pix []uint8, w, h, nd int) ([]uint8, int, int) {
	ow, oh := (w+1)/2, (h+1)/2
	out := make([]uint8, ow*oh)
	for y := range oh {
		for x := range ow {
			count := map[uint8]int{}
			best, most := uint8(nd), 0
			for yy := 2 * y; yy < min(2*y+2, h); yy++ {
				for xx := 2 * x; xx < min(2*x+2, w); xx++ {
					v := pix[yy*w+xx]
					if int(v) == nd {
						continue
					}
					count[v]++
					if count[v] > most {
						best, most = v, count[v]
					}
				}
			}
			out[y*ow+x] = best
		}
	}
	return out, ow, oh
}

// blobs is a class raster with patches of classes 0-3 and nodata.
func blobs(w, h int, seed uint64) []uint8 {
	rng := rand.New(rand.NewPCG(seed, 1))
	pix := make([]uint8, w*h)
	for i := range pix {
		x, y := i%w, i/w
		switch {
		case x+y < 150: // nodata corner
			pix[i] = 255
		case rng.IntN(10) == 0: // speckle: ties and mixed blocks
			pix[i] = uint8(rng.IntN(4))
		default:
			pix[i] = uint8((x/37 + y/23) % 4)
		}
	}
	return pix
}

func readOverviews(t *testing.T, path string) [][]uint8 {
	t.Helper()
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if md := ds.Metadatas(godal.Domain("IMAGE_STRUCTURE")); md["LAYOUT"] != "COG" {
		t.Errorf("%s: layout %q, want COG", path, md["LAYOUT"])
	}
	var out [][]uint8
	for _, o := range ds.Bands()[0].Overviews() {
		st := o.Structure()
		pix := make([]uint8, st.SizeX*st.SizeY)
		if err := o.Read(0, 0, pix, st.SizeX, st.SizeY); err != nil {
			t.Fatal(err)
		}
		out = append(out, pix)
	}
	return out
}

// TestWriterOverviews: overviews built while rows stream equal the 2x2 mode
// of the level below, whatever the row blocks, and equal what GDAL makes
// (when rows are not written top to bottom) at the levels it sizes alike.
func TestWriterOverviews(t *testing.T) {
	const w, h = 1100, 2100 // 3 levels: 550x1050, 275x525, 138x263
	pix := blobs(w, h, 7)
	var want [][]uint8
	cur, cw, ch := pix, w, h
	for range OverviewSizes(image.Pt(w, h)) {
		cur, cw, ch = naiveMode(cur, cw, ch, 255)
		want = append(want, cur)
	}
	dir := t.TempDir()
	write := func(name string, order []int, rows int) string {
		path := filepath.Join(dir, name)
		wr, err := Create(path, image.Pt(w, h), raster.Geo{}, WriteOptions{NoData: raster.NoDataValue(255)})
		if err != nil {
			t.Fatal(err)
		}
		defer wr.Close()
		for _, y0 := range order {
			y1 := min(y0+rows, h)
			if err := wr.WriteUint8(0, image.Rect(0, y0, w, y1), pix[y0*w:y1*w]); err != nil {
				t.Fatal(err)
			}
		}
		if err := wr.Commit(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var down, up []int
	for y := 0; y < h; y += 128 {
		down = append(down, y)
		up = append([]int{y}, up...)
	}
	var ones []int
	for y := range h {
		ones = append(ones, y)
	}
	streamed := readOverviews(t, write("streamed.tif", down, 128))
	single := readOverviews(t, write("rows.tif", ones, 1))
	gdal := readOverviews(t, write("gdal.tif", up, 128)) // bottom up: GDAL builds them
	for name, got := range map[string][][]uint8{"128-row blocks": streamed, "single rows": single, "GDAL": gdal} {
		if len(got) != len(want) {
			t.Fatalf("%s: %d overview levels, want %d", name, len(got), len(want))
		}
		for i := range want {
			if name == "GDAL" && i >= 2 {
				// GDAL's COG driver sizes its third level 137x262 here
				// (we round every level up: 138x263).
				continue
			}
			if len(got[i]) != len(want[i]) {
				t.Errorf("%s: level %d has %d pixels, want %d", name, i+1, len(got[i]), len(want[i]))
				continue
			}
			n := 0
			for j := range want[i] {
				if got[i][j] != want[i][j] {
					n++
				}
			}
			if n > 0 {
				t.Errorf("%s: level %d differs from the 2x2 mode at %d of %d pixels", name, i+1, n, len(want[i]))
			}
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestWriterOverviewsAbandoned: Close without Commit removes the overview
// files too.
func TestWriterOverviewsAbandoned(t *testing.T) {
	dir := t.TempDir()
	wr, err := Create(filepath.Join(dir, "m.tif"), image.Pt(1200, 700), raster.Geo{}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := wr.WriteUint8(0, image.Rect(0, 0, 1200, 300), make([]uint8, 1200*300)); err != nil {
		t.Fatal(err)
	}
	if err := wr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("files left after Close: %v", left)
	}
}
