package embed

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/airbusgeo/godal"
	"github.com/parquet-go/parquet-go"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// geoMeta is GeoParquet's "geo" metadata as the tests read it.
type geoMeta struct {
	Version       string `json:"version"`
	PrimaryColumn string `json:"primary_column"`
	Columns       map[string]struct {
		Encoding      string          `json:"encoding"`
		GeometryTypes []string        `json:"geometry_types"`
		CRS           json.RawMessage `json:"crs"`
		Orientation   string          `json:"orientation"`
		BBox          []float64       `json:"bbox"`
	} `json:"columns"`
}

// readParquet reads every row of a GeoParquet output with parquet-go, and
// its key-value metadata.
func readParquet(t *testing.T, path string) ([]chipRecord, map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	for _, k := range pf.Metadata().KeyValueMetadata {
		kv[k.Key] = k.Value
	}
	r := parquet.NewGenericReader[chipRecord](pf)
	defer r.Close()
	rows := make([]chipRecord, r.NumRows())
	if n, err := r.Read(rows); n != len(rows) || (err != nil && !errors.Is(err, io.EOF)) {
		t.Fatalf("%s: %d of %d rows read: %v", path, n, len(rows), err)
	}
	return rows, kv
}

// decodePolygon decodes a little-endian WKB Polygon of one ring.
func decodePolygon(t *testing.T, b []byte) [][2]float64 {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 13 || b[0] != 1 || le.Uint32(b[1:]) != 3 || le.Uint32(b[5:]) != 1 {
		t.Fatalf("not a one-ring WKB polygon: % x", b[:min(len(b), 13)])
	}
	n := int(le.Uint32(b[9:]))
	if len(b) != 13+16*n {
		t.Fatalf("WKB polygon of %d points in %d bytes", n, len(b))
	}
	ring := make([][2]float64, n)
	for k := range ring {
		ring[k] = [2]float64{math.Float64frombits(le.Uint64(b[13+16*k:])), math.Float64frombits(le.Uint64(b[21+16*k:]))}
	}
	return ring
}

// TestGeoParquet embeds synthetic scenes with the chipmean encoder as a
// GeoTIFF and as GeoParquet and checks that the GeoParquet file has one row
// per embedded chip, in grid order, whose values equal the GeoTIFF's bit
// for bit; that each row's centre and WKB footprint are the chip's, from
// the scene's geotransform (north-up, rotated, none), its ring closed and
// counterclockwise; that the "geo" metadata is GeoParquet's (crs PROJJSON
// of the scene's CRS, or null when it has none, bbox of the footprints)
// and "omnimask" holds the sidecar and chip grid; that ReadGeoParquet reads
// the same; that converting the GeoTIFF afterwards (WriteGeoParquet) gives
// the same bytes; and that no temporary file is left.
func TestGeoParquet(t *testing.T) {
	e := chipmean(t)
	utm := utm33(t)
	val := func(c, x, y int) float32 {
		if x < 12 && y < 12 { // top-left: 144 nodata pixels
			return noData
		}
		return float32(c*1000+x*7+y*13) * 0.001
	}
	for _, tc := range []struct {
		name         string
		geo          raster.Geo
		W, H         int
		chip, stride int
		val          func(c, x, y int) float32
		epsg         int // 0: crs null
	}{
		{"utm", raster.Geo{Transform: raster.GeoTransform{500000, 30, 0, 4000000, 0, -30}, CRS: utm}, 50, 40, 16, 16, val, 32633},
		{"utm overlap", raster.Geo{Transform: raster.GeoTransform{500000, 30, 0, 4000000, 0, -30}, CRS: utm}, 50, 40, 16, 8, val, 32633},
		{"rotated", raster.Geo{Transform: raster.GeoTransform{500000, 8, 6, 4000000, 6, -8}, CRS: utm}, 50, 40, 16, 8, val, 32633},
		{"no crs", raster.Geo{Transform: raster.GeoTransform{100, 2, 0, 50, 0, -2}}, 50, 40, 16, 16, val, 0},
		{"no georeference", raster.Geo{}, 50, 40, 16, 8, val, 0},
		// 38x37 chips: two strips of rows, six batches of records
		{"many chips", raster.Geo{Transform: raster.GeoTransform{500000, 30, 0, 4000000, 0, -30}, CRS: utm}, 304, 296, 8, 8, val, 32633},
		{"all nodata", raster.Geo{Transform: raster.GeoTransform{500000, 30, 0, 4000000, 0, -30}, CRS: utm}, 50, 40, 16, 16,
			func(c, x, y int) float32 { return noData }, 32633},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			scene := filepath.Join(dir, "scene.tif")
			writeScene(t, scene, tc.W, tc.H, tc.geo, tc.val)
			o := Options{Chip: tc.chip, Stride: tc.stride, Batch: 3}
			tif, pq := filepath.Join(dir, "emb.tif"), filepath.Join(dir, "emb.parquet")
			rt, err := Chips(context.Background(), e, []string{scene}, tif, o)
			if err != nil {
				t.Fatal(err)
			}
			o.Format = GeoParquet
			rp, err := Chips(context.Background(), e, []string{scene}, pq, o)
			if err != nil {
				t.Fatal(err)
			}
			if rp.Chips != rt.Chips || rp.Cols != rt.Cols || rp.Rows != rt.Rows {
				t.Fatalf("GeoParquet run %+v, GeoTIFF run %+v", rp, rt)
			}
			_, bands := readVectors(t, tif)
			rows, kv := readParquet(t, pq)
			if h := min(stripRows(rt.Cols, 3), rt.Rows); tc.name == "many chips" && (rt.Rows <= h || rt.Chips <= 5*writeBatch) {
				t.Fatalf("%d chips, %d rows of %d per strip: want several strips and batches", rt.Chips, rt.Rows, h)
			}
			if len(rows) != rt.Chips {
				t.Fatalf("%d rows, %d chips embedded", len(rows), rt.Chips)
			}

			// Rows: the GeoTIFF's non-NaN pixels in order, same values.
			T := tc.geo.Transform
			if T == (raster.GeoTransform{}) {
				T = raster.Identity
			}
			S, C := float64(tc.stride), float64(tc.chip)
			k := 0
			bbox := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
			near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(b)) }
			for j := range rt.Cols * rt.Rows {
				if math.IsNaN(float64(bands[0][j])) {
					continue
				}
				if k == len(rows) {
					t.Fatalf("chip %d and more not in the GeoParquet file", j)
				}
				r := rows[k]
				k++
				if int(r.Row) != j/rt.Cols || int(r.Col) != j%rt.Cols {
					t.Fatalf("row %d is chip %d,%d, want %d,%d", k-1, r.Col, r.Row, j%rt.Cols, j/rt.Cols)
				}
				for b := range bands {
					if math.Float32bits(r.Embedding[b]) != math.Float32bits(bands[b][j]) {
						t.Fatalf("chip %d,%d value %d: %g, GeoTIFF %g", r.Col, r.Row, b, r.Embedding[b], bands[b][j])
					}
				}
				if len(r.Embedding) != len(bands) {
					t.Fatalf("chip %d,%d: %d values, want %d", r.Col, r.Row, len(r.Embedding), len(bands))
				}
				px, py := float64(r.Col)*S, float64(r.Row)*S // the chip's first scene pixel
				cx, cy := T.Apply(px+C/2, py+C/2)
				if !near(r.X, cx) || !near(r.Y, cy) {
					t.Errorf("chip %d,%d centre %g,%g, want %g,%g", r.Col, r.Row, r.X, r.Y, cx, cy)
				}
				ring := decodePolygon(t, r.Geometry)
				var want [][2]float64
				for _, p := range [][2]float64{{px, py}, {px + C, py}, {px + C, py + C}, {px, py + C}} {
					x, y := T.Apply(p[0], p[1])
					want = append(want, [2]float64{x, y})
					bbox = [4]float64{min(bbox[0], x), min(bbox[1], y), max(bbox[2], x), max(bbox[3], y)}
				}
				if len(ring) != 5 || ring[0] != ring[4] {
					t.Fatalf("chip %d,%d: ring %v not closed", r.Col, r.Row, ring)
				}
				area := 0.0
				for i := range 4 {
					area += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
				}
				if area <= 0 {
					t.Errorf("chip %d,%d: ring %v is clockwise", r.Col, r.Row, ring)
				}
				for _, w := range want {
					if !slices.ContainsFunc(ring[:4], func(p [2]float64) bool { return near(p[0], w[0]) && near(p[1], w[1]) }) {
						t.Fatalf("chip %d,%d: ring %v lacks corner %v", r.Col, r.Row, ring, w)
					}
				}
			}
			if k != len(rows) {
				t.Fatalf("%d rows, %d chips in the GeoTIFF", len(rows), k)
			}

			// "geo" metadata.
			var g geoMeta
			if err := json.Unmarshal([]byte(kv["geo"]), &g); err != nil {
				t.Fatalf("geo metadata %q: %v", kv["geo"], err)
			}
			col, ok := g.Columns["geometry"]
			if g.Version != "1.1.0" || g.PrimaryColumn != "geometry" || !ok || col.Encoding != "WKB" ||
				!slices.Equal(col.GeometryTypes, []string{"Polygon"}) || col.Orientation != "counterclockwise" {
				t.Errorf("geo metadata %s", kv["geo"])
			}
			if tc.epsg == 0 {
				if string(col.CRS) != "null" {
					t.Errorf("crs %s, want null (unknown)", col.CRS)
				}
			} else {
				var p struct {
					Type string `json:"type"`
					ID   struct {
						Authority string `json:"authority"`
						Code      int    `json:"code"`
					} `json:"id"`
				}
				if err := json.Unmarshal(col.CRS, &p); err != nil || p.Type != "ProjectedCRS" || p.ID.Authority != "EPSG" || p.ID.Code != tc.epsg {
					t.Errorf("crs %.200s: %+v (%v), want PROJJSON of EPSG:%d", col.CRS, p, err, tc.epsg)
				}
			}
			switch {
			case len(rows) == 0 && col.BBox != nil:
				t.Errorf("bbox %v of no rows", col.BBox)
			case len(rows) > 0 && (len(col.BBox) != 4 || !near(col.BBox[0], bbox[0]) || !near(col.BBox[1], bbox[1]) || !near(col.BBox[2], bbox[2]) || !near(col.BBox[3], bbox[3])):
				t.Errorf("bbox %v, want %v", col.BBox, bbox)
			}

			// "omnimask" metadata: the sidecar and the chip grid.
			var m GeoParquetMeta
			if err := json.Unmarshal([]byte(kv["omnimask"]), &m); err != nil {
				t.Fatalf("omnimask metadata %q: %v", kv["omnimask"], err)
			}
			raw, err := os.ReadFile(tif + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var sc Sidecar
			if err := json.Unmarshal(raw, &sc); err != nil {
				t.Fatal(err)
			}
			sc.Scene, m.Scene = nil, nil // the scene is the same file, named alike
			if js, _ := json.Marshal(m.Sidecar); !bytes.Equal(js, mustJSON(t, sc)) {
				t.Errorf("omnimask sidecar %s, GeoTIFF's %s", js, mustJSON(t, sc))
			}
			if m.Grid.Cols != rt.Cols || m.Grid.Rows != rt.Rows {
				t.Errorf("grid %+v, want %dx%d", m.Grid, rt.Cols, rt.Rows)
			}
			gt, gtErr := readGeoTransform(tif)
			switch {
			case gtErr != nil && m.Grid.GeoTransform != nil:
				t.Errorf("grid geotransform %v, the GeoTIFF has none", *m.Grid.GeoTransform)
			case gtErr == nil && (m.Grid.GeoTransform == nil || *m.Grid.GeoTransform != gt):
				t.Errorf("grid geotransform %v, GeoTIFF's %v", m.Grid.GeoTransform, gt)
			case (m.Grid.CRS != "") != (tc.epsg != 0):
				t.Errorf("grid crs_wkt %.60q", m.Grid.CRS)
			}

			// OpenGeoParquet reads the same rows and metadata.
			pr, err := OpenGeoParquet(pq)
			if err != nil {
				t.Fatal(err)
			}
			got := pr.Meta
			got.Scene = nil // as m's
			if !bytes.Equal(mustJSON(t, got), mustJSON(t, m)) {
				t.Errorf("OpenGeoParquet metadata %s, want %s", mustJSON(t, got), mustJSON(t, m))
			}
			for k = 0; ; k++ {
				row, col, v, err := pr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil || k >= len(rows) {
					t.Fatalf("row %d: %v", k, err)
				}
				if r := rows[k]; row != int(r.Row) || col != int(r.Col) || !slices.Equal(v, r.Embedding) {
					t.Fatalf("row %d: chip %d,%d %v, want %d,%d %v", k, col, row, v, r.Col, r.Row, r.Embedding)
				}
			}
			pr.Close()
			if k != len(rows) {
				t.Errorf("OpenGeoParquet: %d of %d rows", k, len(rows))
			}

			// The GeoTIFF converted afterwards: the same file.
			pq2 := filepath.Join(dir, "converted.parquet")
			if n, err := WriteGeoParquet(context.Background(), tif, pq2); err != nil || n != len(rows) {
				t.Fatalf("WriteGeoParquet: %d rows, %v", n, err)
			}
			a, _ := os.ReadFile(pq)
			b, _ := os.ReadFile(pq2)
			if !bytes.Equal(a, b) || len(a) == 0 {
				t.Errorf("GeoTIFF converted: %d bytes, differ from the GeoParquet run's %d", len(b), len(a))
			}
			ents, _ := os.ReadDir(dir)
			var names []string
			for _, en := range ents {
				names = append(names, en.Name())
			}
			if want := []string{"converted.parquet", "emb.parquet", "emb.tif", "emb.tif.json", "scene.tif"}; !slices.Equal(names, want) {
				t.Errorf("files %v, want %v", names, want)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// readGeoTransform returns the geotransform of a raster, an error when it
// has none.
func readGeoTransform(path string) (raster.GeoTransform, error) {
	ds, err := godal.Open(path)
	if err != nil {
		return raster.GeoTransform{}, err
	}
	defer ds.Close()
	gt, err := ds.GeoTransform()
	return raster.GeoTransform(gt), err
}

// TestGeoParquetFails checks that a cancelled GeoParquet run, one whose
// output folder does not exist and the conversion of a dense-mode file
// leave no output and no temporary file, and that an unknown format is
// refused.
func TestGeoParquetFails(t *testing.T) {
	e := chipmean(t)
	dir := t.TempDir()
	scene := filepath.Join(dir, "scene.tif")
	writeScene(t, scene, 48, 32, raster.Geo{}, func(c, x, y int) float32 { return float32(c + x + y) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		out  string
		o    Options
	}{
		{"cancelled", ctx, filepath.Join(dir, "cancelled.parquet"), Options{Chip: 16, Format: GeoParquet}},
		{"no folder", context.Background(), filepath.Join(dir, "none", "emb.parquet"), Options{Chip: 16, Format: GeoParquet}},
		{"format", context.Background(), filepath.Join(dir, "emb.parquet"), Options{Chip: 16, Format: "parquet"}},
	} {
		if _, err := Chips(tc.ctx, e, []string{scene}, tc.out, tc.o); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	dense := filepath.Join(dir, "dense.tif")
	if _, err := Dense(context.Background(), e, []string{scene}, dense, DenseOptions{Tile: 16}); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteGeoParquet(context.Background(), dense, filepath.Join(dir, "dense.parquet")); err == nil {
		t.Error("dense embeddings converted")
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, en := range ents {
		names = append(names, en.Name())
	}
	if want := []string{"dense.tif", "dense.tif.json", "scene.tif"}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
}

// TestGeoParquetToMemory writes GeoParquet into GDAL's in-memory file
// system, as GeoTIFF outputs can be, and leaves no temporary there.
func TestGeoParquetToMemory(t *testing.T) {
	e := chipmean(t)
	scene := filepath.Join(t.TempDir(), "scene.tif")
	writeScene(t, scene, 48, 32, raster.Geo{}, func(c, x, y int) float32 { return float32(c + x + y) })
	dir := fmt.Sprintf("/vsimem/embed-parquet-test-%d", os.Getpid())
	out := dir + "/emb.parquet"
	defer gdalio.RemoveMem(out)
	if _, err := Chips(context.Background(), e, []string{scene}, out, Options{Chip: 16, Format: GeoParquet}); err != nil {
		t.Fatal(err)
	}
	b, err := gdalio.ReadMem(out)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil || pf.NumRows() != 6 {
		t.Fatalf("%d bytes: %v", len(b), err)
	}
	if left := memFiles(t, dir); len(left) != 1 {
		t.Errorf("in %s: %v, want the output alone", dir, left)
	}
}
