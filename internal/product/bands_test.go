package product

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/sensor"
)

// writeTifSize writes an n x n one-band UInt16 GeoTIFF at res metres (UTM
// 33N, upper left 500000, 4000000).
func writeTifSize(t *testing.T, path string, res float64, n int) {
	t.Helper()
	gdalio.Register()
	ds, err := godal.Create(godal.GTiff, path, 1, godal.UInt16, n, n)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.SetGeoTransform([6]float64{500000, res, 0, 4000000, 0, -res}); err != nil {
		t.Fatal(err)
	}
	sr, err := godal.NewSpatialRefFromEPSG(32633)
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	if err := ds.SetSpatialRef(sr); err != nil {
		t.Fatal(err)
	}
	pix := make([]uint16, n*n)
	for i := range pix {
		pix[i] = uint16(1000 + i%50)
	}
	if err := ds.Bands()[0].Write(0, 0, pix, n, n); err != nil {
		t.Fatal(err)
	}
}

var six = []string{"blue", "green", "red", "nir", "swir1", "swir2"}

// A Landsat Level-1 product folder gives a six-band model its bands by
// role (B2..B7, the 30 m SWIR included) and their reflectance units from
// the MTL; before issue 16 it failed with "landsat8 has no swir1 band".
func TestLandsatFolderAllBands(t *testing.T) {
	dir := t.TempDir()
	for _, b := range []string{"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B10", "BQA"} {
		writeTif(t, filepath.Join(dir, "LC08_L1TP_044034_20220101_20220101_02_T1_"+b+".TIF"), 30, "")
	}
	mtl := "GROUP = L1_METADATA_FILE\n  SPACECRAFT_ID = \"LANDSAT_8\"\n  SUN_ELEVATION = 30.0\n"
	for n := 1; n <= 9; n++ {
		mtl += "  REFLECTANCE_MULT_BAND_" + string(rune('0'+n)) + " = 2.0E-05\n  REFLECTANCE_ADD_BAND_" + string(rune('0'+n)) + " = -0.1\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "LC08_L1TP_044034_20220101_20220101_02_T1_MTL.txt"), []byte(mtl+"END_GROUP = L1_METADATA_FILE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pr, err := Open([]string{dir}, Options{Want: six})
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Scene.Close()
	var got []string
	for _, p := range pr.Paths {
		got = append(got, p[strings.LastIndexByte(p, '_')+1:])
	}
	if strings.Join(got, " ") != "B2.TIF B3.TIF B4.TIF B5.TIF B6.TIF B7.TIF" || pr.Sensor != "landsat8" {
		t.Fatalf("files %v (%s)", got, pr.Sensor)
	}
	for _, b := range pr.Bands {
		if b.Units == nil || math.Abs(b.Units.Scale-4e-5) > 1e-12 || math.Abs(b.Units.Offset+0.2) > 1e-12 {
			t.Fatalf("%s: units %+v, want x4e-05-0.2 (sun elevation 30°)", b.File, b.Units)
		}
	}
	if !strings.Contains(pr.UnitsFrom, "SUN_ELEVATION 30.0") {
		t.Fatalf("units from %q", pr.UnitsFrom)
	}
}

// Band descriptions spelled as products do: a Sentinel-2 stack described
// B2, B3, B4, B8, B8a, B11, B12 with --sensor sentinel2.
func TestStackSpellings(t *testing.T) {
	dir := t.TempDir()
	path := writeTif(t, filepath.Join(dir, "s2.tif"), 10, "B2", "B3", "B4", "B8", "B8a", "B11", "B12")
	pr, err := Open([]string{path}, Options{Sensor: "sentinel2", Want: append(six, "nir08")})
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Scene.Close()
	if want := "blue=B2,green=B3,red=B4,nir=B8,swir1=B11,swir2=B12,nir08=B8a"; pr.Spec != want {
		t.Fatalf("spec %q, want %q", pr.Spec, want)
	}
}

// GDAL's SENTINEL2 driver names its bands "B4, central wavelength 665 nm";
// a stack of the 10 m and 20 m sub-datasets gives a six-band model B2-B4,
// B8 from the first and B11, B12 from the second (before issue 16 a SAFE
// product always gave red=1,green=2,nir=4).
func TestS2Spec(t *testing.T) {
	names := []string{"B4, central wavelength 665 nm", "B3, central wavelength 560 nm", "B2, central wavelength 490 nm", "B8, central wavelength 842 nm",
		"B5, central wavelength 705 nm", "B6, central wavelength 740 nm", "B7, central wavelength 783 nm", "B8A, central wavelength 865 nm",
		"B11, central wavelength 1610 nm", "B12, central wavelength 2190 nm", "B2, central wavelength 490 nm"}
	spec, err := s2Spec(append(six, "nir08"), names)
	if err != nil || spec != "blue=3,green=2,red=1,nir=4,swir1=9,swir2=10,nir08=8" {
		t.Fatalf("spec %q (%v)", spec, err)
	}
	if spec, _ := s2Spec(want, names[:4]); spec != "red=1,green=2,nir=4" {
		t.Fatalf("10 m only: spec %q, want the former red=1,green=2,nir=4", spec)
	}
	if _, err := s2Spec([]string{"cirrus"}, names); err == nil || !strings.Contains(err.Error(), "no band B10 (cirrus)") {
		t.Fatalf("err = %v", err)
	}
	for b, r := range map[string]string{"B04": "10m", "B8A": "20m", "B11": "20m", "B01": "60m", "B10": "60m"} {
		if got := s2Resolution(b); got != r {
			t.Errorf("s2Resolution(%s) = %s, want %s", b, got, r)
		}
	}
}

// safeProduct writes a Sentinel-2 L1C product (compact SAFE, baseline 04.00
// offsets) with its 10 m and 20 m band files (GeoTIFFs named .jp2: GDAL
// opens files by their content), as GDAL's SENTINEL2 driver reads it.
func safeProduct(t *testing.T, parent string) string {
	t.Helper()
	dir := filepath.Join(parent, "S2A_MSIL1C_20230101T100000_N0509_R022_T33UUP_20230101T110000.SAFE")
	const granule = "GRANULE/L1C_T33UUP_A023000_20230101T100000"
	img := filepath.Join(dir, filepath.FromSlash(granule), "IMG_DATA")
	if err := os.MkdirAll(img, 0o755); err != nil {
		t.Fatal(err)
	}
	var files strings.Builder
	for _, b := range []string{"B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12"} {
		res := 20.0
		if s2Resolution(b) == "10m" {
			res = 10
		}
		writeTifSize(t, filepath.Join(img, "T33UUP_20230101T100000_"+b+".jp2"), res, int(320/res))
		files.WriteString("<IMAGE_FILE>" + granule + "/IMG_DATA/T33UUP_20230101T100000_" + b + "</IMAGE_FILE>\n")
	}
	var offsets strings.Builder
	for id := range 13 {
		fmt.Fprintf(&offsets, `<RADIO_ADD_OFFSET band_id="%d">-1000</RADIO_ADD_OFFSET>`, id)
	}
	mtd := `<n1:Level-1C_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-1C.xsd">
<n1:General_Info><Product_Info><PROCESSING_LEVEL>Level-1C</PROCESSING_LEVEL><PRODUCT_TYPE>S2MSI1C</PRODUCT_TYPE>
<Query_Options completeSingleTile="true"><PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT></Query_Options>
<Product_Organisation><Granule_List><Granule granuleIdentifier="L1C_T33UUP_A023000_20230101T100000" imageFormat="JPEG2000">
` + files.String() + `</Granule></Granule_List></Product_Organisation></Product_Info>
<Product_Image_Characteristics><QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE>
<Radiometric_Offset_List>` + offsets.String() + `</Radiometric_Offset_List></Product_Image_Characteristics></n1:General_Info></n1:Level-1C_User_Product>
`
	if err := os.WriteFile(filepath.Join(dir, "MTD_MSIL1C.xml"), []byte(mtd), 0o644); err != nil {
		t.Fatal(err)
	}
	tl := `<n1:Level-1C_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-1C_Tile_Metadata.xsd">
<n1:Geometric_Info><Tile_Geocoding><HORIZONTAL_CS_CODE>EPSG:32633</HORIZONTAL_CS_CODE>
<Size resolution="10"><NROWS>32</NROWS><NCOLS>32</NCOLS></Size>
<Size resolution="20"><NROWS>16</NROWS><NCOLS>16</NCOLS></Size>
<Geoposition resolution="10"><ULX>500000</ULX><ULY>4000000</ULY><XDIM>10</XDIM><YDIM>-10</YDIM></Geoposition>
<Geoposition resolution="20"><ULX>500000</ULX><ULY>4000000</ULY><XDIM>20</XDIM><YDIM>-20</YDIM></Geoposition>
</Tile_Geocoding></n1:Geometric_Info></n1:Level-1C_Tile_ID>
`
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(granule), "MTD_TL.xml"), []byte(tl), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A six-band model on a Sentinel-2 SAFE product: blue, green, red, nir from
// the 10 m sub-dataset, swir1 and swir2 from the 20 m one (resampled onto
// the 10 m grid), reflectance units from QUANTIFICATION_VALUE and
// RADIO_ADD_OFFSET.
func TestSafeSixBands(t *testing.T) {
	dir := safeProduct(t, t.TempDir())
	pr, err := Open([]string{dir}, Options{Want: six})
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Scene.Close()
	if len(pr.Paths) != 2 || !strings.Contains(pr.Paths[0], ":10m:") || !strings.Contains(pr.Paths[1], ":20m:") {
		t.Fatalf("paths %v", pr.Paths)
	}
	refs, err := preprocess.ParseBands(pr.Spec, six)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range refs {
		b := pr.Bands[r.Index-1]
		wantName := []string{"B02", "B03", "B04", "B08", "B11", "B12"}[i]
		if sensor.Sentinel2BandName(b.Name) != wantName {
			t.Errorf("%s is band %q, want %s", six[i], b.Name, wantName)
		}
		if b.Units == nil || b.Units.Scale != 1e-4 || math.Abs(b.Units.Offset+0.1) > 1e-12 {
			t.Errorf("%s units %+v", six[i], b.Units)
		}
	}
	if pr.Scene.Size.X != 32 {
		t.Fatalf("stack %v, want the 10 m grid (32 px)", pr.Scene.Size)
	}
	// The three 10 m bands alone: the 10 m sub-dataset only, as before.
	pr3, err := Open([]string{dir}, Options{Want: want})
	if err != nil {
		t.Fatal(err)
	}
	defer pr3.Scene.Close()
	if len(pr3.Paths) != 1 || pr3.Spec != "red=1,green=2,nir=4" {
		t.Fatalf("paths %v spec %q", pr3.Paths, pr3.Spec)
	}
}
