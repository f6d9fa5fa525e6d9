package gdalio

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/testutil"
	"github.com/omnimask/omnimask/raster"
)

// Category names reach GDAL (gdalinfo's "Categories"), through the .aux.xml
// sidecar GDAL keeps them in for GeoTIFFs; the colour table stays in the
// file, and the file's bytes do not depend on the names.
func TestWriterCategoryNames(t *testing.T) {
	colors := [][3]uint8{{0, 0, 0}, {255, 255, 255}, {9, 9, 9}, {80, 40, 0}}
	names := []string{"clear", "thick <cloud> & co", "", "cloud_shadow"}
	for _, size := range []image.Point{{64, 48}, {700, 600}} { // without and with streamed overviews
		dir := t.TempDir()
		write := func(name string, cats []string) string {
			path := filepath.Join(dir, name)
			w, err := Create(path, size, raster.Geo{}, WriteOptions{NoData: raster.NoDataValue(255), Colors: colors, Categories: cats})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			pix := make([]uint8, size.X*size.Y)
			for i := range pix {
				pix[i] = uint8(i / 7 % 5)
				if pix[i] == 4 {
					pix[i] = 255
				}
			}
			if err := w.WriteUint8(0, image.Rectangle{Max: size}, pix); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			return path
		}
		named := write("named.tif", names)
		plain := write("plain.tif", nil)
		if got, err := Categories(named); err != nil || !reflect.DeepEqual(got, names) {
			t.Errorf("%v: categories %q (%v), want %q", size, got, err, names)
		}
		if got, err := Categories(plain); err != nil || len(got) != 0 {
			t.Errorf("%v: categories %q (%v) written without names", size, got, err)
		}
		ds, err := godal.Open(named)
		if err != nil {
			t.Fatal(err)
		}
		ct := ds.Bands()[0].ColorTable()
		ds.Close()
		if len(ct.Entries) < 256 || ct.Entries[3] != [4]int16{80, 40, 0, 255} || ct.Entries[255] != [4]int16{0, 0, 0, 0} {
			t.Errorf("%v: colour table %v", size, ct.Entries[:4])
		}
		a, _ := os.ReadFile(named)
		b, _ := os.ReadFile(plain)
		if !bytes.Equal(a, b) {
			t.Errorf("%v: the GeoTIFF's bytes depend on the category names", size)
		}
		if got := testutil.DirNames(t, dir); !reflect.DeepEqual(got, []string{"named.tif", "named.tif.aux.xml", "plain.tif"}) {
			t.Errorf("%v: folder holds %v", size, got)
		}
	}
}

// commitBlank writes a blank 40x40 mask with category names to path and
// returns Commit's error.
func commitBlank(t *testing.T, path string, cats []string) error {
	t.Helper()
	w, err := Create(path, image.Pt(40, 40), raster.Geo{}, WriteOptions{Categories: cats})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.WriteUint8(0, image.Rect(0, 0, 40, 40), make([]uint8, 1600)); err != nil {
		t.Fatal(err)
	}
	return w.Commit()
}

// A sidecar that cannot be written fails the commit and leaves neither file.
func TestWriterCategoryNamesUnwritable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.tif")
	// A folder where the sidecar goes: the rename onto it fails.
	if err := os.MkdirAll(filepath.Join(path+".aux.xml", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := commitBlank(t, path, []string{"a"}); err == nil {
		t.Fatal("commit succeeded")
	}
	if got := testutil.DirNames(t, dir); !reflect.DeepEqual(got, []string{"m.tif.aux.xml"}) {
		t.Errorf("folder holds %v", got)
	}
}

// A mask name too long for its sidecar (".aux.xml" would pass the file
// system's 255 bytes) still commits; the names stay in the metadata.
func TestWriterCategoryNamesLongName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, strings.Repeat("m", 250)+".tif")
	if err := commitBlank(t, path, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.DirNames(t, dir); !reflect.DeepEqual(got, []string{filepath.Base(path)}) {
		t.Errorf("folder holds %v", got)
	}
}
