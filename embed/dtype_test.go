package embed

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/raster"
)

// TestDTypeFloat16 embeds one scene with the chipmean encoder as float32
// and as float16, in chips and dense mode: every float16 value must be the
// float32 value rounded to half precision (bit for bit), nodata chips stay
// NaN, the file is Float32 and the sidecar and metadata say float16.
func TestDTypeFloat16(t *testing.T) {
	e := chipmean(t)
	dir := t.TempDir()
	scene := filepath.Join(dir, "scene.tif")
	writeScene(t, scene, 48, 40, raster.Geo{}, func(c, x, y int) float32 {
		if x < 16 && y < 16 {
			return noData
		}
		return float32(c*1000+x*37+y*113)*0.0137 + 2000*float32(c) // values beyond half's 11 bits
	})
	run := func(mode, dtype string) string {
		out := filepath.Join(dir, mode+"-"+dtype+".tif")
		var err error
		if mode == "chips" {
			_, err = Chips(context.Background(), e, []string{scene}, out, Options{Chip: 16, Stride: 8, DType: dtype})
		} else {
			_, err = Dense(context.Background(), e, []string{scene}, out, DenseOptions{Tile: 24, Overlap: 8, DType: dtype})
		}
		if err != nil {
			t.Fatalf("%s %s: %v", mode, dtype, err)
		}
		return out
	}
	for _, tc := range []struct {
		mode, dtype string // dtype as given ("" is float32)
		wantDType   string
		half        bool
	}{
		{"chips", "", "float32", false},
		{"chips", "float32", "float32", false},
		{"chips", "float16", "float16", true},
		{"dense", "float16", "float16", true},
		{"dense", "", "float32", false},
	} {
		ref := run(tc.mode, "float32")
		out := run(tc.mode, tc.dtype)
		_, want := readVectors(t, ref)
		ds, got := readVectors(t, out)
		if dt := ds.Bands()[0].Structure().DataType; dt != godal.Float32 {
			t.Errorf("%s %q: data type %v, want Float32", tc.mode, tc.dtype, dt)
		}
		differ, nan := 0, 0
		for b := range want {
			for i, w := range want[b] {
				x := w
				if tc.half {
					x = RoundHalf(w)
				}
				g := got[b][i]
				if math.IsNaN(float64(w)) {
					nan++
					if !math.IsNaN(float64(g)) {
						t.Fatalf("%s %q: band %d cell %d = %g, want NaN", tc.mode, tc.dtype, b, i, g)
					}
					continue
				}
				if math.Float32bits(g) != math.Float32bits(x) {
					t.Fatalf("%s %q: band %d cell %d = %g, want %g", tc.mode, tc.dtype, b, i, g, x)
				}
				if g != w {
					differ++
				}
			}
		}
		if nan == 0 || (tc.half && differ == 0) || (!tc.half && differ != 0) {
			t.Errorf("%s %q: %d values differ from float32, %d NaN", tc.mode, tc.dtype, differ, nan)
		}
		var sc Sidecar
		raw, err := os.ReadFile(out + ".json")
		if err == nil {
			err = json.Unmarshal(raw, &sc)
		}
		if err != nil {
			t.Fatal(err)
		}
		meta := ds.Metadata("OMNIMASK_DTYPE")
		if sc.DType != tc.wantDType || (tc.half != strings.Contains(sc.DTypeNote, "stored as Float32")) || (tc.half != strings.HasPrefix(meta, "float16")) {
			t.Errorf("%s %q: sidecar dtype %q note %q, metadata %q", tc.mode, tc.dtype, sc.DType, sc.DTypeNote, meta)
		}
	}
	if _, err := Chips(context.Background(), e, []string{scene}, filepath.Join(dir, "x.tif"), Options{DType: "float64"}); err == nil || !strings.Contains(err.Error(), "float64") {
		t.Errorf("dtype float64: %v", err)
	}
	if _, err := Dense(context.Background(), e, []string{scene}, filepath.Join(dir, "x.tif"), DenseOptions{DType: "half"}); err == nil || !strings.Contains(err.Error(), "half") {
		t.Errorf("dtype half: %v", err)
	}
}
