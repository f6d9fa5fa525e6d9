// Package sensor knows how common Earth-observation products lay out their
// bands: presets that map band roles (red, green, nir, blue) to band names,
// indices, per-band file suffixes or sub-datasets, and detection of the
// sensor from metadata and file names. It is pure Go (no I/O).
package sensor

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Band says how to find one band role in a product.
type Band struct {
	Index      int    // 1-based band index in a multi-band file (0 = not used)
	Name       string // GDAL band description in a multi-band file
	File       string // per-band file suffix, e.g. "B4" matches *_B4.TIF / B04.jp2
	SubDataset string // sub-dataset field name, e.g. "sur_refl_b01"
}

// Preset describes a sensor product.
type Preset struct {
	Name        string
	Description string
	Resolution  float64 // nominal native resolution of the red band (m)
	Bands       map[string]Band
}

var presets = []Preset{
	{"sentinel2", "Sentinel-2 MSI L1C/L2A (per-band files B04/B03/B08, .SAFE folders, MTD_MSIL*.xml, or 13-band stacks B01..B12)", 10, map[string]Band{
		"red": {Name: "B04", File: "B04"}, "green": {Name: "B03", File: "B03"}, "nir": {Name: "B08", File: "B08"}, "blue": {Name: "B02", File: "B02"}}},
	{"landsat8", "Landsat 8/9 OLI (per-band GeoTIFFs with an MTL file, or stacks)", 30, map[string]Band{
		"red": {Name: "B4", File: "B4"}, "green": {Name: "B3", File: "B3"}, "nir": {Name: "B5", File: "B5"}, "blue": {Name: "B2", File: "B2"}}},
	{"landsat7", "Landsat 7 ETM+ (per-band GeoTIFFs with an MTL file)", 30, map[string]Band{
		"red": {Name: "B3", File: "B3"}, "green": {Name: "B2", File: "B2"}, "nir": {Name: "B4", File: "B4"}, "blue": {Name: "B1", File: "B1"}}},
	{"landsat5", "Landsat 4/5 TM (per-band GeoTIFFs with an MTL file)", 30, map[string]Band{
		"red": {Name: "B3", File: "B3"}, "green": {Name: "B2", File: "B2"}, "nir": {Name: "B4", File: "B4"}, "blue": {Name: "B1", File: "B1"}}},
	{"planetscope4", "PlanetScope 4-band analytic (blue, green, red, nir)", 3, map[string]Band{
		"red": {Index: 3}, "green": {Index: 2}, "nir": {Index: 4}, "blue": {Index: 1}}},
	{"planetscope8", "PlanetScope 8-band SuperDove (coastal, blue, green I, green, yellow, red, red edge, nir)", 3, map[string]Band{
		"red": {Index: 6}, "green": {Index: 4}, "nir": {Index: 8}, "blue": {Index: 2}}},
	{"naip", "NAIP aerial 4-band (red, green, blue, nir)", 0.6, map[string]Band{
		"red": {Index: 1}, "green": {Index: 2}, "nir": {Index: 4}, "blue": {Index: 3}}},
	{"modis", "MODIS Terra/Aqua surface reflectance MOD09GA/MYD09GA (HDF4 sub-datasets, 500 m)", 463.3, map[string]Band{
		"red": {SubDataset: "sur_refl_b01"}, "green": {SubDataset: "sur_refl_b04"}, "nir": {SubDataset: "sur_refl_b02"}, "blue": {SubDataset: "sur_refl_b03"}}},
}

// Presets returns all presets, sorted by name.
func Presets() []Preset {
	out := append([]Preset(nil), presets...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the preset called name (case-insensitive; "s2", "l8",
// "landsat9" and a few other aliases are accepted).
func Lookup(name string) (Preset, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[n]; ok {
		n = a
	}
	for _, p := range presets {
		if p.Name == n {
			return p, nil
		}
	}
	var names []string
	for _, p := range Presets() {
		names = append(names, p.Name)
	}
	return Preset{}, fmt.Errorf("sensor: unknown sensor %q (known: %s)", name, strings.Join(names, ", "))
}

var aliases = map[string]string{
	"s2": "sentinel2", "sentinel-2": "sentinel2", "s2-l1c": "sentinel2", "s2-l2a": "sentinel2", "sentinel2-l1c": "sentinel2", "sentinel2-l2a": "sentinel2",
	"l8": "landsat8", "l9": "landsat8", "landsat9": "landsat8", "oli": "landsat8", "landsat-8": "landsat8", "landsat-9": "landsat8",
	"l7": "landsat7", "etm": "landsat7", "l5": "landsat5", "l4": "landsat5", "tm": "landsat5", "landsat4": "landsat5",
	"planetscope": "planetscope4", "ps4": "planetscope4", "ps8": "planetscope8", "superdove": "planetscope8",
	"mod09ga": "modis", "myd09ga": "modis", "mod09": "modis",
}

// Spec returns a band specification (for preprocess.ParseBands) selecting
// the wanted roles by index or band name. It fails for a role the preset
// lacks or a preset that only works with per-band files or sub-datasets.
func (p Preset) Spec(want []string) (string, error) {
	var parts []string
	for _, w := range want {
		b, ok := p.Bands[strings.ToLower(w)]
		if !ok {
			return "", fmt.Errorf("sensor: %s has no %s band", p.Name, w)
		}
		switch {
		case b.Index > 0:
			parts = append(parts, w+"="+strconv.Itoa(b.Index))
		case b.Name != "":
			parts = append(parts, w+"="+b.Name)
		default:
			return "", fmt.Errorf("sensor: %s bands come as sub-datasets, not band names", p.Name)
		}
	}
	return strings.Join(parts, ","), nil
}

// MatchFile reports whether a per-band file belongs to band b: its base
// name without extension ends in B4, _B4, -B04, _SR_B4 or _B04_10m (for b.File
// "B4" or "B04"), case-insensitively, not preceded by a letter or digit.
func (b Band) MatchFile(base string) bool {
	if b.File == "" {
		return false
	}
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	num := strings.TrimLeft(strings.TrimPrefix(strings.ToUpper(b.File), "B"), "0")
	re, err := regexp.Compile(`(?i)(^|[_\-])B0*` + regexp.QuoteMeta(num) + `(_\d+M)?$`)
	return err == nil && re.MatchString(base)
}

var mtlLine = regexp.MustCompile(`^\s*([A-Z0-9_]+)\s*=\s*"?([^"]*)"?\s*$`)

// ParseMTL reads the KEY = VALUE lines of a Landsat MTL metadata file.
func ParseMTL(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if m := mtlLine.FindStringSubmatch(strings.TrimRight(line, "\r")); m != nil {
			if _, dup := out[m[1]]; !dup {
				out[m[1]] = m[2]
			}
		}
	}
	return out
}

// FromLandsatMTL returns the preset of a Landsat product from its MTL keys.
func FromLandsatMTL(mtl map[string]string) (Preset, error) {
	id := strings.ToUpper(mtl["SPACECRAFT_ID"])
	switch {
	case strings.Contains(id, "8"), strings.Contains(id, "9"):
		return Lookup("landsat8")
	case strings.Contains(id, "7"):
		return Lookup("landsat7")
	case strings.Contains(id, "5"), strings.Contains(id, "4"):
		return Lookup("landsat5")
	}
	return Preset{}, fmt.Errorf("sensor: MTL file names spacecraft %q, not a Landsat 4-9", mtl["SPACECRAFT_ID"])
}

// Detect guesses the preset from dataset metadata and the input file names.
// It returns false when nothing is recognised.
func Detect(metadata map[string]string, files []string) (Preset, bool) {
	for _, k := range []string{"SPACECRAFT_NAME", "SPACECRAFT_ID", "SATELLITE", "PLATFORM", "MISSION", "SHORTNAME", "ShortName"} {
		v := strings.ToUpper(metadata[k])
		switch {
		case v == "":
		case strings.Contains(v, "SENTINEL-2") || strings.Contains(v, "SENTINEL2"):
			p, _ := Lookup("sentinel2")
			return p, true
		case strings.Contains(v, "LANDSAT"):
			if p, err := FromLandsatMTL(map[string]string{"SPACECRAFT_ID": v}); err == nil {
				return p, true
			}
		case strings.HasPrefix(v, "MOD09") || strings.HasPrefix(v, "MYD09"):
			p, _ := Lookup("modis")
			return p, true
		}
	}
	for _, f := range files {
		b := strings.ToUpper(f[strings.LastIndexAny(f, `/\`)+1:])
		switch {
		case strings.HasPrefix(b, "LC08") || strings.HasPrefix(b, "LC09") || strings.HasPrefix(b, "LC8") || strings.HasPrefix(b, "LO8"):
			p, _ := Lookup("landsat8")
			return p, true
		case strings.HasPrefix(b, "LE07") || strings.HasPrefix(b, "LE7"):
			p, _ := Lookup("landsat7")
			return p, true
		case strings.HasPrefix(b, "LT05") || strings.HasPrefix(b, "LT5") || strings.HasPrefix(b, "LT04"):
			p, _ := Lookup("landsat5")
			return p, true
		case strings.HasPrefix(b, "S2A_") || strings.HasPrefix(b, "S2B_") || strings.HasPrefix(b, "S2C_") || strings.Contains(b, "MTD_MSIL"):
			p, _ := Lookup("sentinel2")
			return p, true
		case strings.HasPrefix(b, "MOD09") || strings.HasPrefix(b, "MYD09") || strings.Contains(b, "HDF4_EOS:") && strings.Contains(b, "MOD09"):
			p, _ := Lookup("modis")
			return p, true
		}
	}
	return Preset{}, false
}

// MatchNames returns the first preset whose band names for all wanted roles
// are among names (case-insensitive), e.g. a 13-band Sentinel-2 stack with
// bands described B01..B12.
func MatchNames(names, want []string) (Preset, bool) {
	has := map[string]bool{}
	for _, n := range names {
		has[strings.ToUpper(n)] = true
	}
	for _, p := range presets {
		ok := true
		for _, w := range want {
			b := p.Bands[strings.ToLower(w)]
			if b.Name == "" || !has[strings.ToUpper(b.Name)] {
				ok = false
				break
			}
		}
		if ok {
			return p, true
		}
	}
	return Preset{}, false
}

// SubDatasetField reports whether a GDAL sub-dataset name refers to field
// (e.g. "...:MODIS_Grid_500m_2D:sur_refl_b01_1" for "sur_refl_b01").
func SubDatasetField(name, field string) bool {
	i := strings.LastIndexByte(name, ':')
	if i < 0 || field == "" {
		return false
	}
	f := strings.Trim(name[i+1:], `"`)
	if f == field {
		return true
	}
	rest, ok := strings.CutPrefix(f, field+"_")
	if !ok || rest == "" {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil
}
