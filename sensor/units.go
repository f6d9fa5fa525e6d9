package sensor

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Units turn a band's stored values into reflectance 0..1:
// reflectance = value x Scale + Offset.
type Units struct {
	Scale, Offset float64
}

// LandsatReflectance returns the units of Landsat band number n (e.g. "4";
// "B4" and "SR_B4" are accepted) from the keys of its MTL file: Level-1
// top-of-atmosphere reflectance REFLECTANCE_MULT_BAND_n x DN +
// REFLECTANCE_ADD_BAND_n, divided by the sine of SUN_ELEVATION; Level-2
// surface reflectance (PROCESSING_LEVEL L2…) the same factors without the
// sun correction (ParseMTL keeps the first occurrence of a key, and a
// Collection 2 Level-2 MTL lists the surface reflectance factors first).
func LandsatReflectance(mtl map[string]string, band string) (Units, error) {
	n := strings.TrimPrefix(strings.TrimPrefix(strings.ToUpper(band), "SR_"), "B")
	n = strings.TrimLeft(n, "0")
	mult, err1 := strconv.ParseFloat(mtl["REFLECTANCE_MULT_BAND_"+n], 64)
	add, err2 := strconv.ParseFloat(mtl["REFLECTANCE_ADD_BAND_"+n], 64)
	if err1 != nil || err2 != nil || !(mult > 0) || math.IsInf(mult, 0) || math.IsNaN(add) || math.IsInf(add, 0) {
		return Units{}, fmt.Errorf("sensor: no REFLECTANCE_MULT_BAND_%s / REFLECTANCE_ADD_BAND_%s in the MTL", n, n)
	}
	if strings.HasPrefix(strings.ToUpper(mtl["PROCESSING_LEVEL"]), "L2") {
		return Units{mult, add}, nil
	}
	elev, err := strconv.ParseFloat(mtl["SUN_ELEVATION"], 64)
	if err != nil || !(elev > 0 && elev <= 90) {
		return Units{}, fmt.Errorf("sensor: SUN_ELEVATION %q in the MTL is not an elevation above the horizon (top-of-atmosphere reflectance needs it)", mtl["SUN_ELEVATION"])
	}
	s := math.Sin(elev * math.Pi / 180)
	return Units{mult / s, add / s}, nil
}

// Sentinel2Bands are the band names of Sentinel-2 MSI in the order of the
// band_id attribute of its product metadata.
var Sentinel2Bands = []string{"B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"}

var (
	s2Quant  = regexp.MustCompile(`<(BOA_)?QUANTIFICATION_VALUE[^>]*>\s*([-+0-9.eE]+)\s*<`)
	s2Offset = regexp.MustCompile(`<(BOA|RADIO)_ADD_OFFSET\s+band_id="(\d+)"[^>]*>\s*([-+0-9.eE]+)\s*<`)
)

// Sentinel2Reflectance reads the units of a Sentinel-2 product from its
// MTD_MSIL1C.xml or MTD_MSIL2A.xml: reflectance = (DN + offset) /
// QUANTIFICATION_VALUE (L1C; BOA_QUANTIFICATION_VALUE for L2A), with the
// per-band RADIO_ADD_OFFSET (L1C) or BOA_ADD_OFFSET (L2A) of processing
// baseline 04.00 and later (0 before). It returns the units by band name
// (Sentinel2Bands).
func Sentinel2Reflectance(xml string) (map[string]Units, error) {
	q := 0.0
	for _, m := range s2Quant.FindAllStringSubmatch(xml, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sensor: quantification value %q", m[2])
		}
		if q == 0 || m[1] != "" { // BOA_ (L2A) wins
			q = v
		}
	}
	if q == 0 {
		return nil, fmt.Errorf("sensor: no QUANTIFICATION_VALUE in the Sentinel-2 metadata")
	}
	offsets := map[int]float64{}
	for _, m := range s2Offset.FindAllStringSubmatch(xml, -1) {
		id, _ := strconv.Atoi(m[2])
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || id >= len(Sentinel2Bands) {
			return nil, fmt.Errorf("sensor: %s_ADD_OFFSET band_id=%s %q", m[1], m[2], m[3])
		}
		offsets[id] = v
	}
	out := map[string]Units{}
	for id, b := range Sentinel2Bands {
		out[b] = Units{1 / q, offsets[id] / q}
	}
	return out, nil
}

// Sentinel2BandName returns the canonical name (B01…B12, B8A) of a
// Sentinel-2 band as products spell it: B4, B04, B8a, "B4, central
// wavelength 665 nm" (GDAL's SENTINEL2 driver), or "" when s is none.
func Sentinel2BandName(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if i := strings.IndexAny(s, ", "); i > 0 {
		s = s[:i]
	}
	if s == "B8A" {
		return s
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "B"))
	if !strings.HasPrefix(s, "B") || err != nil || n < 1 || n > 12 {
		return ""
	}
	return fmt.Sprintf("B%02d", n)
}
