package gdalio

import (
	"archive/zip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/regfile"
)

func smallTIF(t testing.TB, path string) string {
	t.Helper()
	Register()
	ds, err := godal.Create(godal.GTiff, path, 1, godal.Byte, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func vrtWith(t testing.TB, path, band string) string {
	t.Helper()
	xml := `<VRTDataset rasterXSize="8" rasterYSize="8">
  <VRTRasterBand dataType="Byte" band="1">` + band + `
  </VRTRasterBand>
</VRTDataset>`
	if err := os.WriteFile(path, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func simple(src string, rel bool) string {
	r := "0"
	if rel {
		r = "1"
	}
	return fmt.Sprintf(`<SimpleSource><SourceFilename relativeToVRT="%s">%s</SourceFilename><SourceBand>1</SourceBand></SimpleSource>`, r, src)
}

func zipOf(t testing.TB, path string, members map[string][]byte) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, data := range members {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func fifo(t testing.TB, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSourcesRefuseAndAllow enumerates dataset names that must never reach
// GDAL (raw pointers, network, standard input, code, named pipes anywhere a
// file is read) and the ones users need (archives, sub-datasets, VRTs of
// local files, files with colons in their names). Each refused name is
// refused by Sources and by Open, without blocking; each allowed one lists
// the files it reads.
func TestSourcesRefuseAndAllow(t *testing.T) {
	dir := t.TempDir()
	tif := smallTIF(t, filepath.Join(dir, "a.tif"))
	tifBytes, err := os.ReadFile(tif)
	if err != nil {
		t.Fatal(err)
	}
	colon := smallTIF(t, filepath.Join(dir, "b:c.tif"))
	pipe := fifo(t, filepath.Join(dir, "pipe.tif"))
	memVRT := vrtWith(t, filepath.Join(dir, "mem.vrt"), simple("MEM:::DATAPOINTER=0x1000,PIXELS=8,LINES=8", false))
	pipeVRT := vrtWith(t, filepath.Join(dir, "pipesrc.vrt"), simple("pipe.tif", true))
	nestedVRT := vrtWith(t, filepath.Join(dir, "nested.vrt"), simple("mem.vrt", true))
	curlVRT := vrtWith(t, filepath.Join(dir, "curl.vrt"), simple("/vsicurl/http://example.com/a.tif", false))
	pyVRT := vrtWith(t, filepath.Join(dir, "py.vrt"), `<PixelFunctionType>numpy.add</PixelFunctionType><PixelFunctionLanguage>Python</PixelFunctionLanguage>`+simple("a.tif", true))
	codeVRT := vrtWith(t, filepath.Join(dir, "code.vrt"), `<PixelFunctionType>f</PixelFunctionType><PixelFunctionCode><![CDATA[def f(): pass]]></PixelFunctionCode>`+simple("a.tif", true))
	ovrVRT := vrtWith(t, filepath.Join(dir, "ovr.vrt"), simple("a.tif", true)+`<Overview><SourceFilename relativeToVRT="1">pipe.tif</SourceFilename><SourceBand>1</SourceBand></Overview>`)
	warped := filepath.Join(dir, "warped.vrt")
	os.WriteFile(warped, []byte(`<VRTDataset rasterXSize="8" rasterYSize="8" subClass="VRTWarpedDataset"><GDALWarpOptions><SourceDataset relativeToVRT="0">MEM:::DATAPOINTER=0x1</SourceDataset></GDALWarpOptions></VRTDataset>`), 0o644)
	xmlNoExt := vrtWith(t, filepath.Join(dir, "looks-like.tif"), simple("MEM:::DATAPOINTER=0x1", false))
	okVRT := vrtWith(t, filepath.Join(dir, "ok.vrt"), simple("a.tif", true))
	sumVRT := vrtWith(t, filepath.Join(dir, "sum.vrt"), `<PixelFunctionType>sum</PixelFunctionType>`+simple("a.tif", true))
	cycle := vrtWith(t, filepath.Join(dir, "cycle.vrt"), simple("cycle.vrt", true))
	okZip := zipOf(t, filepath.Join(dir, "ok.zip"), map[string][]byte{"in/a.tif": tifBytes})
	badZip := zipOf(t, filepath.Join(dir, "bad.zip"), map[string][]byte{"x.vrt": []byte(`<VRTDataset rasterXSize="8" rasterYSize="8"><VRTRasterBand dataType="Byte" band="1">` + simple("MEM:::DATAPOINTER=0x1", false) + `</VRTRasterBand></VRTDataset>`)})
	pipeZip := fifo(t, filepath.Join(dir, "pipe.zip"))
	sideDir := filepath.Join(dir, "side")
	os.Mkdir(sideDir, 0o755)
	sideTif := smallTIF(t, filepath.Join(sideDir, "s.tif"))
	fifo(t, sideTif+".aux.xml")
	sideDir2 := filepath.Join(dir, "side2")
	os.Mkdir(sideDir2, 0o755)
	sideTif2 := smallTIF(t, filepath.Join(sideDir2, "s.tif"))
	fifo(t, filepath.Join(sideDir2, "s.tfw"))
	hdf := filepath.Join(dir, "f.hdf")
	os.WriteFile(hdf, []byte("not really"), 0o644)
	safe := filepath.Join(dir, "S2.SAFE")
	os.MkdirAll(filepath.Join(safe, "GRANULE", "IMG_DATA"), 0o755)
	mtd := filepath.Join(safe, "MTD_MSIL2A.xml")
	os.WriteFile(mtd, []byte("<x/>"), 0o644)
	badSafe := filepath.Join(dir, "bad.SAFE")
	os.MkdirAll(filepath.Join(badSafe, "GRANULE", "IMG_DATA"), 0o755)
	badMtd := filepath.Join(badSafe, "MTD_MSIL2A.xml")
	os.WriteFile(badMtd, []byte("<x/>"), 0o644)
	fifo(t, filepath.Join(badSafe, "GRANULE", "IMG_DATA", "B04.jp2"))

	for _, tc := range []struct {
		name string
		want error    // nil: allowed
		read []string // allowed: files it reads (subset)
	}{
		{"MEM:::DATAPOINTER=0x1000,PIXELS=8,LINES=8", ErrRefused, nil},
		{"mem:::datapointer=0", ErrRefused, nil},
		{"PG:dbname=x", ErrRefused, nil},
		{"WMS:http://example.com/wms", ErrRefused, nil},
		{"EEDAI:projects/x", ErrRefused, nil},
		{"vrt://" + tif + "?bands=1", ErrRefused, nil},
		{"http://example.com/a.tif", ErrRefused, nil},
		{"/vsicurl/http://example.com/a.tif", ErrRefused, nil},
		{"/vsicurl_streaming/http://example.com/a.tif", ErrRefused, nil},
		{"/vsis3/bucket/a.tif", ErrRefused, nil},
		{"/vsigs/bucket/a.tif", ErrRefused, nil},
		{"/vsiaz/c/a.tif", ErrRefused, nil},
		{"/vsistdin/", ErrRefused, nil},
		{"/vsisubfile/0_10," + tif, ErrRefused, nil},
		{"/vsicrypt/key=x,file=" + tif, ErrRefused, nil},
		{"/vsizip//vsicurl/http://example.com/a.zip/a.tif", ErrRefused, nil},
		{`<VRTDataset rasterXSize="1" rasterYSize="1"></VRTDataset>`, ErrRefused, nil},
		{memVRT, ErrRefused, nil},
		{nestedVRT, ErrRefused, nil},
		{warped, ErrRefused, nil},
		{xmlNoExt, ErrRefused, nil},
		{curlVRT, ErrRefused, nil},
		{pyVRT, ErrRefused, nil},
		{codeVRT, ErrRefused, nil},
		{"/vsizip/" + badZip + "/x.vrt", ErrRefused, nil},
		{"FOO:bar", ErrRefused, nil},
		{pipe, regfile.ErrNotRegular, nil},
		{pipeVRT, regfile.ErrNotRegular, nil},
		{ovrVRT, regfile.ErrNotRegular, nil},
		{"/vsizip/" + pipeZip + "/a.tif", regfile.ErrNotRegular, nil},
		{"/vsigzip/" + pipeZip, regfile.ErrNotRegular, nil},
		{`HDF4_EOS:EOS_GRID:"` + pipe + `":grid:field`, regfile.ErrNotRegular, nil},
		{sideTif, regfile.ErrNotRegular, nil},
		{sideTif2, regfile.ErrNotRegular, nil},
		{"SENTINEL2_L2A:" + badMtd + ":10m:EPSG_32633", regfile.ErrNotRegular, nil},
		// allowed
		{tif, nil, []string{tif}},
		{colon, nil, []string{colon}},
		{okVRT, nil, []string{okVRT, tif}},
		{sumVRT, nil, []string{tif}},
		{cycle, nil, []string{cycle}},
		{"/vsizip/" + okZip + "/in/a.tif", nil, []string{okZip}},
		{"/vsizip/{" + okZip + "}/in/a.tif", nil, []string{okZip}},
		{"/vsitar/" + okZip + "/in/a.tif", nil, []string{okZip}},
		{"/vsigzip/" + okZip, nil, []string{okZip}},
		{`HDF4_EOS:EOS_GRID:"` + hdf + `":grid:field`, nil, []string{hdf}},
		{`NETCDF:"` + hdf + `":var`, nil, []string{hdf}},
		{"GTIFF_DIR:1:" + tif, nil, []string{tif}},
		{"SENTINEL2_L2A:" + mtd + ":10m:EPSG_32633", nil, []string{mtd}},
		{"/vsimem/none.tif", nil, nil},
	} {
		t.Run(strings.ReplaceAll(strings.TrimPrefix(tc.name, dir+"/"), "/", "|"), func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				files, err := Sources(tc.name)
				if tc.want == nil {
					if err != nil {
						t.Errorf("Sources: %v", err)
					}
					for _, f := range tc.read {
						found := false
						for _, g := range files {
							found = found || g == f
						}
						if !found {
							t.Errorf("Sources = %v, want %s among them", files, f)
						}
					}
					return
				}
				if !errors.Is(err, tc.want) {
					t.Errorf("Sources: %v, want %v", err, tc.want)
				}
				s, err := Open(tc.name)
				if err == nil {
					s.Close()
					t.Error("Open: no error")
					return
				}
				if !errors.Is(err, tc.want) || strings.ContainsAny(err.Error(), "\n\r") {
					t.Errorf("Open: %q, want one line wrapping %v", err, tc.want)
				}
				if _, err := SubDatasets(tc.name); !errors.Is(err, tc.want) {
					t.Errorf("SubDatasets: %v, want %v", err, tc.want)
				}
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("blocked")
			}
		})
	}
}
