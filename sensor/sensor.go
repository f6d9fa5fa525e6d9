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
	Index      int      // 1-based band index in a multi-band file (0 = not used)
	Name       string   // GDAL band description in a multi-band file
	Aliases    []string // other descriptions products give the band (B4 for B04…)
	File       string   // per-band file suffix, e.g. "B4" matches *_B4.TIF / B04.jp2 / *_SR_B4.TIF
	SubDataset string   // sub-dataset field name, e.g. "sur_refl_b01"
}

// Preset describes a sensor product. Bands holds every band of the sensor
// by its standard role name (STAC eo:common_name where it has one: coastal,
// blue, green, red, rededge1-3, nir, nir08, nir09, swir1 (swir16), swir2
// (swir22), cirrus, tir1 (lwir11), tir2 (lwir12), pan…).
type Preset struct {
	Name        string
	Description string
	Resolution  float64 // nominal native resolution of the red band (m)
	Bands       map[string]Band
}

// roleSynonyms maps other names of a band role to the presets' names.
var roleSynonyms = map[string]string{
	"swir16": "swir1", "swir22": "swir2", "lwir11": "tir1", "lwir12": "tir2", "lwir": "tir1",
	"rededge": "rededge1", "coastal_aerosol": "coastal", "panchromatic": "pan",
}

// Role returns the band of a role (case-insensitive; swir16, swir22,
// lwir11… are accepted for swir1, swir2, tir1…).
func (p Preset) Role(role string) (Band, bool) {
	r := strings.ToLower(strings.TrimSpace(role))
	if b, ok := p.Bands[r]; ok {
		return b, true
	}
	b, ok := p.Bands[roleSynonyms[r]]
	return b, ok
}

// Roles returns the preset's role names, sorted.
func (p Preset) Roles() []string {
	var out []string
	for r := range p.Bands {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// s2 is a Sentinel-2 band: described B04 (and B4) in stacks, files *_B04.jp2.
func s2(name string) Band {
	b := Band{Name: name, File: name}
	if name[1] == '0' {
		b.Aliases = []string{"B" + name[2:]}
	} else if name == "B8A" {
		b.Aliases = []string{"B8a", "B08A"}
	}
	return b
}

// ls is a Landsat band number n: described B4 (and B04, SR_B4) in stacks.
func ls(n int) Band {
	num := strconv.Itoa(n)
	b := Band{Name: "B" + num, File: "B" + num, Aliases: []string{fmt.Sprintf("B%02d", n), "SR_B" + num, "ST_B" + num}}
	return b
}

func idx(i int) Band { return Band{Index: i} }

func modis(n int) Band { return Band{SubDataset: fmt.Sprintf("sur_refl_b%02d", n)} }

var presets = []Preset{
	{"sentinel2", "Sentinel-2 MSI L1C/L2A (per-band files B01..B12/B8A, .SAFE folders, MTD_MSIL*.xml, or 13-band stacks B01..B12)", 10, map[string]Band{
		"coastal": s2("B01"), "blue": s2("B02"), "green": s2("B03"), "red": s2("B04"),
		"rededge1": s2("B05"), "rededge2": s2("B06"), "rededge3": s2("B07"), "nir": s2("B08"),
		"nir08": s2("B8A"), "nir09": s2("B09"), "cirrus": s2("B10"), "swir1": s2("B11"), "swir2": s2("B12")}},
	{"landsat8", "Landsat 8/9 OLI/TIRS (per-band GeoTIFFs with an MTL file, Level-1 or Level-2 SR_B*, or stacks)", 30, map[string]Band{
		"coastal": ls(1), "blue": ls(2), "green": ls(3), "red": ls(4), "nir": ls(5), "nir08": ls(5),
		"swir1": ls(6), "swir2": ls(7), "pan": ls(8), "cirrus": ls(9), "tir1": ls(10), "tir2": ls(11)}},
	{"landsat7", "Landsat 7 ETM+ (per-band GeoTIFFs with an MTL file)", 30, map[string]Band{
		"blue": ls(1), "green": ls(2), "red": ls(3), "nir": ls(4), "swir1": ls(5),
		"tir1": {Name: "B6_VCID_1", File: "B6_VCID_1", Aliases: []string{"B6", "ST_B6"}}, "swir2": ls(7), "pan": ls(8)}},
	{"landsat5", "Landsat 4/5 TM (per-band GeoTIFFs with an MTL file)", 30, map[string]Band{
		"blue": ls(1), "green": ls(2), "red": ls(3), "nir": ls(4), "swir1": ls(5), "tir1": ls(6), "swir2": ls(7)}},
	{"planetscope4", "PlanetScope 4-band analytic (blue, green, red, nir)", 3, map[string]Band{
		"blue": idx(1), "green": idx(2), "red": idx(3), "nir": idx(4)}},
	{"planetscope8", "PlanetScope 8-band SuperDove (coastal, blue, green I, green, yellow, red, red edge, nir)", 3, map[string]Band{
		"coastal": idx(1), "blue": idx(2), "green1": idx(3), "green": idx(4), "yellow": idx(5), "red": idx(6), "rededge1": idx(7), "nir": idx(8)}},
	{"naip", "NAIP aerial 4-band (red, green, blue, nir)", 0.6, map[string]Band{
		"red": idx(1), "green": idx(2), "blue": idx(3), "nir": idx(4)}},
	{"modis", "MODIS Terra/Aqua surface reflectance MOD09GA/MYD09GA (HDF4 sub-datasets sur_refl_b01..b07, 500 m)", 463.3, map[string]Band{
		"red": modis(1), "nir": modis(2), "blue": modis(3), "green": modis(4), "nir12": modis(5), "swir1": modis(6), "swir2": modis(7)}},
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
func (p Preset) Spec(want []string) (string, error) { return p.SpecFor(want, nil) }

// SpecFor is Spec for a scene whose band names are known: a band is named
// as the scene spells it (B4 or B04, B8A or B8a…).
func (p Preset) SpecFor(want, names []string) (string, error) {
	var parts []string
	for _, w := range want {
		b, ok := p.Role(w)
		if !ok {
			return "", fmt.Errorf("sensor: %s has no %s band (it has %s)", p.Name, w, strings.Join(p.Roles(), ", "))
		}
		switch {
		case b.Index > 0:
			parts = append(parts, w+"="+strconv.Itoa(b.Index))
		case b.Name != "":
			parts = append(parts, w+"="+b.nameIn(names))
		default:
			return "", fmt.Errorf("sensor: %s bands come as sub-datasets, not band names", p.Name)
		}
	}
	return strings.Join(parts, ","), nil
}

// nameIn returns the spelling of b's name found among names, else b.Name.
func (b Band) nameIn(names []string) string {
	for _, c := range append([]string{b.Name}, b.Aliases...) {
		for _, n := range names {
			if strings.EqualFold(n, c) {
				return n
			}
		}
	}
	return b.Name
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
// bands described B01..B12. Presets' own names are tried before the other
// spellings, so that a Landsat stack B2..B8 is Landsat, not Sentinel-2 by
// the aliases B2..B8.
func MatchNames(names, want []string) (Preset, bool) {
	has := map[string]bool{}
	for _, n := range names {
		has[strings.ToUpper(n)] = true
	}
	for _, aliases := range []bool{false, true} {
		for _, p := range presets {
			ok := true
			for _, w := range want {
				b, _ := p.Role(w)
				name := b.Name
				if aliases {
					name = b.nameIn(names)
				}
				if name == "" || !has[strings.ToUpper(name)] {
					ok = false
					break
				}
			}
			if ok {
				return p, true
			}
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
