package probe

import (
	"context"
	"image"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/raster"
)

// TestReadGeoParquet embeds scenes (georeferenced, at a processing
// resolution, not georeferenced; with nodata chips) as a GeoTIFF and as
// GeoParquet (named .parquet, or anything: the file's first bytes say) and
// checks that ReadEmbeddings reads the same embeddings from both: grid,
// georeference, sidecar and every vector, nil for nodata chips. A Parquet
// file without omnimask's metadata is refused.
func TestReadGeoParquet(t *testing.T) {
	if _, err := ort.Setup(""); err != nil {
		t.Skipf("no ONNX Runtime: %v", err)
	}
	enc, err := embed.Load("../testdata/models/chipmean.onnx", ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	utm, err := gdalio.NormalizeCRS("EPSG:32633")
	if err != nil {
		t.Fatal(err)
	}
	const W, H = 64, 48
	for _, tc := range []struct {
		name, ext string
		geo       raster.Geo
		o         embed.Options
	}{
		{"utm", ".parquet", raster.Geo{CRS: utm, Transform: raster.GeoTransform{500000, 10, 0, 5000000, 0, -10}}, embed.Options{Chip: 16, Stride: 8}},
		{"processing resolution", ".emb", raster.Geo{CRS: utm, Transform: raster.GeoTransform{500000, 10, 0, 5000000, 0, -10}}, embed.Options{Chip: 8, ProcessingResolution: 20}},
		{"no georeference", ".parquet", raster.Geo{}, embed.Options{Chip: 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			scene := filepath.Join(dir, "s.tif")
			nd := -1.0
			sw, err := gdalio.Create(scene, image.Pt(W, H), tc.geo, gdalio.WriteOptions{Bands: 3, Float32: true, NoData: raster.NoDataValue(nd), Names: []string{"red", "green", "nir"}})
			if err != nil {
				t.Fatal(err)
			}
			for c := range 3 {
				buf := make([]float32, W*H)
				for y := range H {
					for x := range W {
						buf[y*W+x] = float32(1 + c + (x*3+y)%7)
						if x >= 40 && y < 20 {
							buf[y*W+x] = float32(nd)
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
			tif, pq := filepath.Join(dir, "e.tif"), filepath.Join(dir, "e"+tc.ext)
			if _, err := embed.Chips(context.Background(), enc, []string{scene}, tif, tc.o); err != nil {
				t.Fatal(err)
			}
			tc.o.Format = embed.GeoParquet
			res, err := embed.Chips(context.Background(), enc, []string{scene}, pq, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			a, err := ReadEmbeddings(tif)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ReadEmbeddings(pq)
			if err != nil {
				t.Fatal(err)
			}
			if res.NoDataChips == 0 || res.Chips == 0 {
				t.Fatalf("%+v: want chips with and without data", res)
			}
			a.Path = b.Path
			if !reflect.DeepEqual(a, b) {
				t.Errorf("GeoParquet read as %dx%d %+v %+v,\nGeoTIFF as %dx%d %+v %+v", b.Cols, b.Rows, b.Geo, b.Sidecar, a.Cols, a.Rows, a.Geo, a.Sidecar)
			}
		})
	}
	other := filepath.Join(t.TempDir(), "other.parquet")
	type rec struct {
		Row int32 `parquet:"row"`
	}
	if err := parquet.WriteFile(other, []rec{{1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEmbeddings(other); err == nil || !strings.Contains(err.Error(), `no "omnimask" metadata`) {
		t.Errorf("a Parquet file not from omnimask: %v", err)
	}
}
