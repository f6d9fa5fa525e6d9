package main

// --preview for every input form predict accepts: the quick look is drawn
// from the rasters the engine actually read (per-band files of a product
// folder, a SAFE's 10 m sub-dataset, a container's sub-datasets…), not from
// the argument as typed, which may be a folder or a metadata file.

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/testutil"
)

// landsatFolder writes a Landsat 8 product folder: per-band GeoTIFFs named
// like USGS's and an MTL file.
func landsatFolder(t *testing.T, parent string) string {
	t.Helper()
	const id = "LC08_L1TP_193027_20200101_20200113_01_T1"
	dir := filepath.Join(parent, id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, b := range []string{"B2", "B3", "B4", "B5"} {
		tif{w: 96, h: 80, bands: 1, seed: uint64(i)}.write(t, filepath.Join(dir, id+"_"+b+".TIF"))
	}
	writeFile(t, filepath.Join(dir, id+"_MTL.txt"), []byte("GROUP = L1_METADATA_FILE\n  GROUP = PRODUCT_METADATA\n"+
		"    SPACECRAFT_ID = \"LANDSAT_8\"\n    SENSOR_ID = \"OLI_TIRS\"\n  END_GROUP = PRODUCT_METADATA\nEND_GROUP = L1_METADATA_FILE\nEND\n"))
	return dir
}

// safeFolder writes a Sentinel-2 L1C product in the compact SAFE layout
// that GDAL's SENTINEL2 driver reads: the product and tile metadata and the
// 10 m band files of one granule (GeoTIFFs named .jp2: GDAL opens files by
// their content).
func safeFolder(t *testing.T, parent string) string {
	t.Helper()
	dir := filepath.Join(parent, "S2A_MSIL1C_20200101T100000_N0208_R022_T33UUP_20200101T110000.SAFE")
	const granule = "GRANULE/L1C_T33UUP_A023000_20200101T100000"
	img := filepath.Join(dir, filepath.FromSlash(granule), "IMG_DATA")
	if err := os.MkdirAll(img, 0o755); err != nil {
		t.Fatal(err)
	}
	var files strings.Builder
	for i, b := range []string{"B02", "B03", "B04", "B08"} {
		tif{w: 96, h: 80, bands: 1, dtype: godal.UInt16, seed: uint64(i)}.write(t, filepath.Join(img, "T33UUP_20200101T100000_"+b+".jp2"))
		files.WriteString("<IMAGE_FILE>" + granule + "/IMG_DATA/T33UUP_20200101T100000_" + b + "</IMAGE_FILE>\n")
	}
	writeFile(t, filepath.Join(dir, "MTD_MSIL1C.xml"), []byte(`<n1:Level-1C_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-1C.xsd">
<n1:General_Info><Product_Info><PROCESSING_LEVEL>Level-1C</PROCESSING_LEVEL><PRODUCT_TYPE>S2MSI1C</PRODUCT_TYPE>
<Query_Options completeSingleTile="true"><PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT></Query_Options>
<Product_Organisation><Granule_List><Granule granuleIdentifier="L1C_T33UUP_A023000_20200101T100000" imageFormat="JPEG2000">
`+files.String()+`</Granule></Granule_List></Product_Organisation></Product_Info></n1:General_Info></n1:Level-1C_User_Product>
`))
	writeFile(t, filepath.Join(dir, filepath.FromSlash(granule), "MTD_TL.xml"), []byte(`<n1:Level-1C_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-1C_Tile_Metadata.xsd">
<n1:Geometric_Info><Tile_Geocoding><HORIZONTAL_CS_CODE>EPSG:32633</HORIZONTAL_CS_CODE>
<Size resolution="10"><NROWS>80</NROWS><NCOLS>96</NCOLS></Size>
<Geoposition resolution="10"><ULX>500000</ULX><ULY>5000000</ULY><XDIM>10</XDIM><YDIM>-10</YDIM></Geoposition>
</Tile_Geocoding></n1:Geometric_Info></n1:Level-1C_Tile_ID>
`))
	return dir
}

// netCDFContainer writes a classic (CDF-1) netCDF file holding one float32
// variable per named field, w x h, no georeference: a container whose
// sub-datasets GDAL lists, as a MODIS HDF's. GDAL 3.6 cannot name the
// variables it writes, so the few bytes of the format are written here.
func netCDFContainer(t *testing.T, path string, w, h int, fields []string) string {
	t.Helper()
	var b bytes.Buffer
	put := func(v ...any) {
		for _, x := range v {
			binary.Write(&b, binary.BigEndian, x)
		}
	}
	name := func(s string) {
		put(int32(len(s)))
		b.WriteString(s)
		b.Write(make([]byte, (4-len(s)%4)%4))
	}
	const ncDimension, ncVariable, ncFloat = 10, 11, 5
	b.WriteString("CDF\x01")
	put(int32(0))                     // records
	put(int32(ncDimension), int32(2)) // dimensions
	name("y")
	put(int32(h))
	name("x")
	put(int32(w))
	put(int32(0), int32(0)) // no global attributes
	put(int32(ncVariable), int32(len(fields)))
	header := b.Len()
	for _, f := range fields {
		header += 4 + len(f) + (4-len(f)%4)%4 + 4 + 8 + 8 + 4 + 4 + 4
	}
	vsize := 4 * w * h
	for i, f := range fields {
		name(f)
		put(int32(2), int32(0), int32(1)) // dims y, x
		put(int32(0), int32(0))           // no attributes
		put(int32(ncFloat), int32(vsize), int32(header+i*vsize))
	}
	if b.Len() != header {
		t.Fatalf("netCDF header is %d bytes, computed %d", b.Len(), header)
	}
	for c := range fields {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				put(float32(1500 + 1000*math.Sin(float64(x)/7+float64(c))*math.Cos(float64(y)/(11+float64(c)))))
			}
		}
	}
	return writeFile(t, path, b.Bytes())
}

// zipped writes a zip archive holding a GeoTIFF and returns its /vsizip path.
func zipped(t *testing.T, dir string) string {
	t.Helper()
	src := tif{w: 96, h: 80}.write(t, filepath.Join(dir, "inner.tif"))
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	f, err := zw.Create("scene.tif")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return "/vsizip/" + writeFile(t, filepath.Join(dir, "scene.zip"), b.Bytes()) + "/scene.tif"
}

func TestPreviewEveryInputForm(t *testing.T) {
	modis := []string{"sur_refl_b01", "sur_refl_b04", "sur_refl_b02"}
	for _, tc := range []struct {
		name string
		args func(t *testing.T, in string) []string // scene arguments and flags
	}{
		{"file", func(t *testing.T, in string) []string {
			return []string{tif{w: 96, h: 80}.write(t, filepath.Join(in, "scene.tif"))}
		}},
		{"landsat-folder", func(t *testing.T, in string) []string { return []string{landsatFolder(t, in)} }},
		{"landsat-mtl", func(t *testing.T, in string) []string {
			m, _ := filepath.Glob(filepath.Join(landsatFolder(t, in), "*_MTL.txt"))
			return m
		}},
		{"safe-folder", func(t *testing.T, in string) []string { return []string{safeFolder(t, in)} }},
		{"safe-mtd-xml", func(t *testing.T, in string) []string {
			return []string{filepath.Join(safeFolder(t, in), "MTD_MSIL1C.xml")}
		}},
		{"stack", func(t *testing.T, in string) []string {
			var files []string
			for _, b := range []string{"red", "green", "nir"} {
				files = append(files, tif{w: 96, h: 80, bands: 1, names: []string{b}}.write(t, filepath.Join(in, "B_"+b+".tif")))
			}
			return append([]string{"--stack"}, files...)
		}},
		{"container", func(t *testing.T, in string) []string {
			return []string{netCDFContainer(t, filepath.Join(in, "MOD09GA.A2020001.h18v04.061.nc"), 96, 80, modis), "--resolution", "10"}
		}},
		{"sub-datasets-stacked", func(t *testing.T, in string) []string {
			nc := netCDFContainer(t, filepath.Join(in, "fields.nc"), 96, 80, []string{"red", "green", "nir"})
			args := []string{"--stack", "--resolution", "10"}
			for _, f := range []string{"red", "green", "nir"} {
				args = append(args, `NETCDF:"`+nc+`":`+f)
			}
			return args
		}},
		{"vsizip", func(t *testing.T, in string) []string { return []string{zipped(t, in)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out, look := t.TempDir(), t.TempDir(), t.TempDir()
			args := append([]string{"predict", "--model", pointwise, "--threads", "1", "--output-dir", out, "--preview", look}, tc.args(t, in)...)
			if _, stderr, err := cli(t, args...); err != nil {
				t.Fatalf("exit %d: %v\n%s", exitCode(err), err, stderr)
			}
			masks, _ := filepath.Glob(filepath.Join(out, "*_omnimask.tif"))
			if len(masks) != 1 {
				t.Fatalf("masks written: %v", masks)
			}
			png := filepath.Join(look, strings.TrimSuffix(filepath.Base(masks[0]), ".tif")+".png")
			wantPNG(t, png)
			if n := testutil.DirNames(t, look); len(n) != 1 {
				t.Errorf("preview folder holds %v", n)
			}
		})
	}
}
