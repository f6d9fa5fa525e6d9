package embed

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// FuzzGeoParquetReader: a hostile .parquet (probe reads any file whose
// bytes look like Parquet) makes OpenGeoParquet or Next fail with an
// error naming the file, never panic.
func FuzzGeoParquetReader(f *testing.F) {
	f.Add(smallGeoParquet(f))
	f.Add([]byte("PAR1PAR1"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		readAllGeoParquet(t, filepath.Join(dir, "f.parquet"), data)
	})
}

// smallGeoParquet is a valid two-row GeoParquet file of 3-D embeddings.
func smallGeoParquet(tb testing.TB) []byte {
	meta, _ := json.Marshal(GeoParquetMeta{Sidecar: Sidecar{Encoder: "e", Version: "1", Dim: 3, Chip: 4, Stride: 4}, Grid: ChipGrid{Cols: 2, Rows: 2}})
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[chipRecord](&buf, parquet.KeyValueMetadata("omnimask", string(meta)))
	rows := []chipRecord{
		{Row: 0, Col: 0, X: 2, Y: 2, Geometry: make([]byte, polygonWKBSize), Embedding: []float32{1, 2, 3}},
		{Row: 1, Col: 1, X: 6, Y: 6, Geometry: make([]byte, polygonWKBSize), Embedding: []float32{4, 5, 6}},
	}
	if _, err := w.Write(rows); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// readAllGeoParquet writes data to path and reads it as GeoParquet to the
// end; it returns the rows read and the error that ended (nil at io.EOF),
// and fails t when an error does not name the file.
func readAllGeoParquet(t *testing.T, path string, data []byte) (int, error) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenGeoParquet(path)
	if err == nil {
		defer r.Close()
		for n := 0; n < 1<<16; n++ {
			if _, _, _, err = r.Next(); err != nil {
				if errors.Is(err, io.EOF) {
					return n, nil
				}
				break
			}
		}
	}
	if err != nil && !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
	return 0, err
}

// Every byte of a small GeoParquet file set to 0x7f or 0xff (page headers
// whose sizes then overrun their pages made the Parquet reader panic; a
// footer length over the file size made it allocate 4 GiB), and the file
// cut short: OpenGeoParquet and Next return an error naming the file, or
// read the rows, and never panic.
func TestGeoParquetCorrupt(t *testing.T) {
	good := smallGeoParquet(t)
	path := filepath.Join(t.TempDir(), "f.parquet")
	if n, err := readAllGeoParquet(t, path, good); n != 2 || err != nil {
		t.Fatalf("the valid file: %d rows, %v", n, err)
	}
	failed := 0
	for i := range good {
		for _, v := range []byte{0x7f, 0xff} {
			data := bytes.Clone(good)
			data[i] = v
			if _, err := readAllGeoParquet(t, path, data); err != nil {
				failed++
			}
		}
	}
	for _, n := range []int{0, 4, 12, len(good) / 2, len(good) - 1} {
		if _, err := readAllGeoParquet(t, path, good[:n]); err == nil {
			t.Errorf("cut to %d bytes: no error", n)
		}
	}
	if failed == 0 {
		t.Error("no corrupt variant failed: the corruption reaches nothing")
	}
	_, err := readAllGeoParquet(t, path, append(bytes.Clone(good[:len(good)-8]), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'))
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("footer length over the file size: %v, want ErrCorrupt", err)
	}
}
