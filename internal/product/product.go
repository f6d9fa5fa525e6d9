// Package product owns "what are this scene's bands and where do they
// live": it resolves what a user names as one scene (a raster, per-band
// files, a product folder with a Landsat MTL or a Sentinel-2 SAFE, a
// metadata file, a container of sub-datasets) into the rasters to stack and
// the sensor preset that knows their bands, opens them as one scene, and
// returns a plain description of every band (where it lives, its name, type,
// nodata and pixel size) with the band spec that chooses the model's inputs.
// The engine only consumes it.
package product

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/regfile"
	"github.com/omnimask/omnimask/preprocess"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/sensor"
)

// Options say what the caller knows of a scene.
type Options struct {
	Sensor string   // preset name (package sensor); "" or "auto" detects it
	Bands  string   // band spec choosing the model's inputs (preprocess.ParseBands); "" chooses one
	Want   []string // the model's band names, in order
}

// Files is where a scene's bands live, before any raster is opened.
type Files struct {
	Paths  []string // rasters or GDAL dataset names to stack, in order
	Spec   string   // band spec choosing the model's inputs; "" = by band name
	Sensor string   // preset that recognised the product, "" when none
	Notes  []string // what resolving decided, worth telling the user
	// UnitsFrom says where the bands' reflectance units come from (the
	// product metadata read), "" when they are unknown.
	UnitsFrom string

	fallback *sensor.Preset // detected from file names, tried when band names do not match
	// named is the preset whose band names Spec uses; once the rasters are
	// open, Spec names the bands as the scene spells them (B4 or B04).
	named *sensor.Preset
	// s2named: the bands of a Sentinel-2 product's sub-datasets are chosen
	// by the names GDAL gives them, once they are open.
	s2named bool
	// unitsOf returns the reflectance units of a band (its file and name)
	// from the product's metadata; nil when there are none.
	unitsOf func(file, name string) (sensor.Units, bool)
}

// Product is a scene resolved and opened as one stack of bands.
type Product struct {
	Files
	Scene *gdalio.Scene // open for reading; the caller closes it
	Bands []Band        // every band of the stack, in order
}

// Band describes one band of a product.
type Band struct {
	File   string // the raster or GDAL dataset holding it
	Index  int    // 1-based band number in File
	Name   string // band description, or the file's base name for single-band files of a stack
	Type   string // data type, as GDAL names it
	NoData raster.NoData
	// Resolution is the pixel size of File in metres along x and y, 0
	// when not georeferenced (before a stack is put on its finest grid).
	Resolution [2]float64
	// Units turn the band's values into reflectance 0..1, from the
	// product's metadata (Landsat MTL, Sentinel-2 MTD XML); nil when unknown.
	Units *sensor.Units
}

// SubDatasetError is returned for a container file (HDF, NetCDF, a
// Sentinel-2 product…) when none of its sub-datasets, or not the ones the
// model needs, can be chosen: predict one of them, or name the sensor.
type SubDatasetError struct {
	Path        string
	SubDatasets []string // their GDAL names, to predict one of them
	Err         error    // why none was chosen
}

func (e *SubDatasetError) Error() string { return e.Err.Error() }
func (e *SubDatasetError) Unwrap() error { return e.Err }

// Open resolves paths (see Resolve), opens the rasters as one scene and,
// without an explicit band spec, chooses the model's inputs: by band name,
// else by the names or the preset a sensor gives them.
func Open(paths []string, o Options) (*Product, error) {
	f, err := Resolve(paths, o)
	if err != nil {
		return nil, err
	}
	s, err := gdalio.Open(f.Paths...)
	if ce := (*gdalio.ContainerError)(nil); errors.As(err, &ce) {
		return nil, &SubDatasetError{Path: ce.Path, SubDatasets: ce.SubDatasets, Err: err}
	}
	if err != nil {
		return nil, err
	}
	pr := &Product{Files: *f, Scene: s}
	var names []string
	for _, b := range s.Bands {
		names = append(names, b.Name)
		band := Band{File: s.Paths[b.File], Index: b.Index, Name: b.Name, Type: b.Type, NoData: b.NoData, Resolution: b.Resolution}
		if f.unitsOf != nil {
			if u, ok := f.unitsOf(band.File, band.Name); ok {
				band.Units = &u
			}
		}
		pr.Bands = append(pr.Bands, band)
	}
	if f.s2named {
		spec, err := s2Spec(o.Want, names)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: %w", f.Paths[0], err)
		}
		pr.Spec = spec
	}
	if f.named != nil {
		if spec, err := f.named.SpecFor(o.Want, names); err == nil {
			pr.Spec = spec
		}
	}
	if pr.Spec == "" {
		// Bands not named like the model's: a product whose band names a
		// preset knows (B04, B4…)?
		if _, note, err := preprocess.ResolveBands(nil, o.Want, names); err != nil || note != "" {
			if f.fallback != nil {
				if spec, err := f.fallback.SpecFor(o.Want, names); err == nil {
					pr.Spec, pr.Sensor = spec, f.fallback.Name
				}
			} else if ps, ok := sensor.MatchNames(names, o.Want); ok {
				pr.Spec, _ = ps.SpecFor(o.Want, names)
				pr.Sensor = ps.Name
			}
		}
	}
	return pr, nil
}

// Resolve turns the paths of one scene (a file, per-band files, a product
// folder, a Landsat MTL file, a Sentinel-2 SAFE folder or MTD XML, a MODIS
// HDF) into the rasters to stack and a band spec, opening nothing but
// containers to list their sub-datasets. An explicit o.Bands always wins.
func Resolve(paths []string, o Options) (*Files, error) {
	if len(paths) == 0 {
		return nil, errors.New("product: no input")
	}
	in := &Files{Paths: paths, Spec: o.Bands}
	var preset *sensor.Preset
	if o.Sensor != "" && !strings.EqualFold(o.Sensor, "auto") {
		p, err := sensor.Lookup(o.Sensor)
		if err != nil {
			return nil, err
		}
		preset = &p
	}
	want := o.Want
	if len(paths) == 1 {
		p := paths[0]
		st, statErr := os.Stat(p)
		base := strings.ToUpper(filepath.Base(p))
		switch {
		case statErr == nil && st.IsDir():
			return resolveFolder(p, preset, want, in)
		case strings.HasSuffix(base, "_MTL.TXT"):
			return resolveFolder(filepath.Dir(p), preset, want, in)
		case strings.HasPrefix(base, "MTD_MSIL") && strings.HasSuffix(base, ".XML"):
			return resolveSafe(p, want, in)
		case statErr == nil && !strings.HasSuffix(base, ".TIF") && !strings.HasSuffix(base, ".TIFF"):
			if subs, err := gdalio.SubDatasets(p); err == nil && len(subs) > 0 {
				return resolveSubDatasets(p, subs, preset, want, in)
			}
		}
	}
	explicit := preset != nil
	if preset == nil {
		if p, ok := sensor.Detect(nil, paths); ok {
			preset = &p
		}
	}
	if preset != nil {
		in.Sensor = preset.Name
		if len(paths) > 1 && in.Spec == "" {
			// Per-band files named like the preset's: take them by role.
			// An explicit band spec refers to the files as given.
			if ordered, ok := matchFiles(paths, *preset, want); ok {
				in.Paths = ordered
				if in.Spec == "" {
					in.Spec = indexSpec(len(want))
				}
			}
		} else if in.Spec == "" && explicit {
			spec, err := preset.Spec(want)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", paths[0], err)
			}
			in.Spec, in.named = spec, preset
		} else if in.Spec == "" {
			in.fallback = preset
			in.Sensor = ""
		}
	}
	return in, nil
}

// resolveFolder handles a product folder: Landsat (MTL), Sentinel-2 (SAFE or
// MTD XML), or plain per-band files named like a preset's.
func resolveFolder(dir string, preset *sensor.Preset, want []string, in *Files) (*Files, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var files []string
	var mtl map[string]string
	mtlName := ""
	for _, en := range entries {
		name := en.Name()
		up := strings.ToUpper(name)
		switch {
		case strings.HasPrefix(up, "MTD_MSIL") && strings.HasSuffix(up, ".XML"):
			return resolveSafe(filepath.Join(dir, name), want, in)
		case strings.HasSuffix(up, "_MTL.TXT") && mtl == nil:
			text, err := regfile.Read(filepath.Join(dir, name), regfile.MetadataLimit)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
			}
			mtl, mtlName = sensor.ParseMTL(string(text)), name
			if preset == nil {
				p, err := sensor.FromLandsatMTL(mtl)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
				}
				preset = &p
				in.Notes = append(in.Notes, fmt.Sprintf("%s: %s", name, p.Description))
			}
		}
		if !en.IsDir() && isRasterName(up) {
			files = append(files, filepath.Join(dir, name))
		}
	}
	sort.Strings(files)
	candidates := []sensor.Preset{}
	if preset != nil {
		candidates = append(candidates, *preset)
	} else {
		for _, n := range []string{"sentinel2", "landsat8"} {
			p, _ := sensor.Lookup(n)
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		if ordered, ok := matchFiles(files, p, want); ok {
			in.Paths, in.Sensor = ordered, p.Name
			if in.Spec == "" {
				in.Spec = indexSpec(len(want))
			}
			if mtl != nil {
				landsatUnits(in, mtl, mtlName, p, want)
			}
			return in, nil
		}
	}
	return nil, fmt.Errorf("%s: a folder, but no per-band files for %s found (name the files, or the sensor)", dir, strings.Join(want, ", "))
}

func isRasterName(up string) bool {
	for _, ext := range []string{".TIF", ".TIFF", ".JP2", ".IMG", ".VRT"} {
		if strings.HasSuffix(up, ext) {
			return true
		}
	}
	return false
}

// matchFiles picks, for each wanted role, the one file matching the preset.
func matchFiles(files []string, p sensor.Preset, want []string) ([]string, bool) {
	var out []string
	for _, w := range want {
		b, ok := p.Role(w)
		if !ok {
			return nil, false
		}
		found := ""
		for _, f := range files {
			if b.MatchFile(f) {
				if found != "" {
					return nil, false // ambiguous
				}
				found = f
			}
		}
		if found == "" {
			return nil, false
		}
		out = append(out, found)
	}
	return out, true
}

func indexSpec(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(i + 1)
	}
	return strings.Join(parts, ",")
}

// landsatUnits gives the per-band files of a Landsat product (in.Paths, one
// per wanted role of preset p) the reflectance units of its MTL file. A band
// the MTL has no factors for stays of unknown units.
func landsatUnits(in *Files, mtl map[string]string, mtlName string, p sensor.Preset, want []string) {
	units := map[string]sensor.Units{}
	for i, w := range want {
		if u, err := sensor.LandsatReflectance(mtl, role(p, w).File); err == nil && i < len(in.Paths) {
			units[in.Paths[i]] = u
		}
	}
	if len(units) == 0 {
		return
	}
	in.UnitsFrom = mtlName + ": REFLECTANCE_MULT/ADD_BAND_n"
	if !strings.HasPrefix(strings.ToUpper(mtl["PROCESSING_LEVEL"]), "L2") {
		in.UnitsFrom += ", SUN_ELEVATION " + mtl["SUN_ELEVATION"]
	}
	in.unitsOf = func(file, _ string) (sensor.Units, bool) {
		u, ok := units[file]
		return u, ok
	}
}

// resolveSafe opens a Sentinel-2 product through GDAL's SENTINEL2 driver:
// its 10 m sub-dataset (B4, B3, B2, B8), and the 20 m (B5-B7, B8A, B11,
// B12) and 60 m (B1, B9, B10) ones when the model wants bands from them;
// stacked, they are resampled onto the 10 m grid. The bands are chosen by
// the names the driver gives them ("B4, central wavelength 665 nm") once
// opened, and their reflectance units come from the product metadata.
func resolveSafe(mtd string, want []string, in *Files) (*Files, error) {
	subs, err := gdalio.SubDatasets(mtd)
	if err != nil {
		return nil, err
	}
	byRes := map[string]string{}
	for _, s := range subs {
		for _, r := range []string{"10m", "20m", "60m"} {
			if strings.Contains(s, ":"+r+":") && byRes[r] == "" {
				byRes[r] = s
			}
		}
	}
	if byRes["10m"] == "" {
		return nil, &SubDatasetError{Path: mtd, SubDatasets: subs, Err: fmt.Errorf("%s: no 10 m sub-dataset in this Sentinel-2 product", mtd)}
	}
	s2, _ := sensor.Lookup("sentinel2")
	paths := []string{byRes["10m"]}
	for _, r := range []string{"20m", "60m"} {
		needed := false
		for _, w := range want {
			if b, ok := s2.Role(w); ok && s2Resolution(b.Name) == r {
				needed = true
			}
		}
		if needed {
			if byRes[r] == "" {
				return nil, &SubDatasetError{Path: mtd, SubDatasets: subs, Err: fmt.Errorf("%s: no %s sub-dataset for the bands %s", mtd, r, strings.Join(want, ", "))}
			}
			paths = append(paths, byRes[r])
		}
	}
	in.Paths, in.Sensor = paths, "sentinel2"
	if in.Spec == "" {
		in.s2named = true
	}
	if text, err := regfile.Read(mtd, regfile.MetadataLimit); err == nil {
		if units, err := sensor.Sentinel2Reflectance(string(text)); err == nil {
			in.UnitsFrom = filepath.Base(mtd) + ": QUANTIFICATION_VALUE and ADD_OFFSET"
			in.unitsOf = func(_, name string) (sensor.Units, bool) {
				u, ok := units[sensor.Sentinel2BandName(name)]
				return u, ok
			}
		} else {
			in.Notes = append(in.Notes, fmt.Sprintf("%s: reflectance units unknown: %v", filepath.Base(mtd), err))
		}
	}
	return in, nil
}

// s2Resolution is the sub-dataset of GDAL's SENTINEL2 driver holding a
// Sentinel-2 band (B01…B12, B8A) at its native resolution.
func s2Resolution(band string) string {
	switch band {
	case "B02", "B03", "B04", "B08":
		return "10m"
	case "B01", "B09", "B10":
		return "60m"
	}
	return "20m"
}

// s2Spec chooses the model's bands in a stack of Sentinel-2 sub-datasets by
// the names GDAL gives them, taking the first (finest) band of each name.
func s2Spec(want, names []string) (string, error) {
	s2, _ := sensor.Lookup("sentinel2")
	var parts []string
	for _, w := range want {
		b, ok := s2.Role(w)
		if !ok {
			return "", fmt.Errorf("sensor: sentinel2 has no %s band (it has %s)", w, strings.Join(s2.Roles(), ", "))
		}
		j := slices.IndexFunc(names, func(n string) bool { return sensor.Sentinel2BandName(n) == b.Name })
		if j < 0 {
			return "", fmt.Errorf("no band %s (%s) among the product's bands", b.Name, w)
		}
		parts = append(parts, fmt.Sprintf("%s=%d", w, j+1))
	}
	return strings.Join(parts, ","), nil
}

// resolveSubDatasets picks the preset's sub-datasets from a container.
func resolveSubDatasets(path string, subs []string, preset *sensor.Preset, want []string, in *Files) (*Files, error) {
	fail := func(format string, a ...any) error {
		return &SubDatasetError{Path: path, SubDatasets: subs, Err: fmt.Errorf("%s: "+format, append([]any{path}, a...)...)}
	}
	if preset == nil {
		p, ok := sensor.Detect(nil, []string{path})
		if !ok {
			return nil, fail("holds %d sub-datasets; predict one of them, or name the sensor", len(subs))
		}
		preset = &p
	}
	var files []string
	for _, w := range want {
		b := role(*preset, w)
		if b.SubDataset == "" {
			return nil, fail("sensor %s does not name sub-datasets", preset.Name)
		}
		found := ""
		for _, s := range subs {
			if sensor.SubDatasetField(s, b.SubDataset) {
				found = s
				break
			}
		}
		if found == "" {
			return nil, fail("no sub-dataset %s for %s", b.SubDataset, w)
		}
		files = append(files, found)
	}
	in.Paths, in.Sensor = files, preset.Name
	if in.Spec == "" {
		in.Spec = indexSpec(len(want))
	}
	return in, nil
}

// role returns the band of a role in preset p, the zero Band when it has none.
func role(p sensor.Preset, w string) sensor.Band {
	b, _ := p.Role(w)
	return b
}
