package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/regfile"
	"github.com/omnimask/omnimask/sensor"
)

// input is what the user named, resolved into files to stack and the band
// specification that picks the model's inputs from them.
type input struct {
	files    []string
	bands    string
	sensor   string
	fallback *sensor.Preset // detected preset, used when band names do not match
	notes    []string
}

// resolveInputs turns the paths of one scene (a file, per-band files, a
// product folder, a Landsat MTL file, a Sentinel-2 SAFE folder or MTD XML, a
// MODIS HDF) into files and a band spec. An explicit req.Bands always wins.
func (e *Engine) resolveInputs(paths []string, req Request) (*input, error) {
	in := &input{files: paths, bands: req.Bands}
	var preset *sensor.Preset
	if req.Sensor != "" && !strings.EqualFold(req.Sensor, "auto") {
		p, err := sensor.Lookup(req.Sensor)
		if err != nil {
			return nil, err
		}
		preset = &p
	}
	want := e.manifest.Bands
	if len(paths) == 1 {
		p := paths[0]
		st, statErr := os.Stat(p)
		base := strings.ToUpper(filepath.Base(p))
		switch {
		case statErr == nil && st.IsDir():
			return e.resolveFolder(p, preset, in)
		case strings.HasSuffix(base, "_MTL.TXT"):
			return e.resolveFolder(filepath.Dir(p), preset, in)
		case strings.HasPrefix(base, "MTD_MSIL") && strings.HasSuffix(base, ".XML"):
			return resolveSafe(p, in)
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
		in.sensor = preset.Name
		if len(paths) > 1 && in.bands == "" {
			// Per-band files named like the preset's: take them by role.
			// An explicit band spec refers to the files as given.
			if ordered, ok := matchFiles(paths, *preset, want); ok {
				in.files = ordered
				if in.bands == "" {
					in.bands = indexSpec(len(want))
				}
			}
		} else if in.bands == "" && explicit {
			spec, err := preset.Spec(want)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", paths[0], err)
			}
			in.bands = spec
		} else if in.bands == "" {
			in.fallback = preset
			in.sensor = ""
		}
	}
	return in, nil
}

// resolveFolder handles a product folder: Landsat (MTL), Sentinel-2 (SAFE or
// MTD XML), or plain per-band files named like a preset's.
func (e *Engine) resolveFolder(dir string, preset *sensor.Preset, in *input) (*input, error) {
	want := e.manifest.Bands
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var files []string
	for _, en := range entries {
		name := en.Name()
		up := strings.ToUpper(name)
		switch {
		case strings.HasPrefix(up, "MTD_MSIL") && strings.HasSuffix(up, ".XML"):
			return resolveSafe(filepath.Join(dir, name), in)
		case strings.HasSuffix(up, "_MTL.TXT") && preset == nil:
			text, err := regfile.Read(filepath.Join(dir, name), maxMetadataBytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
			}
			p, err := sensor.FromLandsatMTL(sensor.ParseMTL(string(text)))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
			}
			preset = &p
			in.notes = append(in.notes, fmt.Sprintf("%s: %s", name, p.Description))
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
			in.files, in.sensor = ordered, p.Name
			if in.bands == "" {
				in.bands = indexSpec(len(want))
			}
			return in, nil
		}
	}
	return nil, fmt.Errorf("%s: a folder, but no per-band files for %s found (name the files, or pass --sensor)", dir, strings.Join(want, ", "))
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
		b, ok := p.Bands[w]
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

// resolveSafe opens a Sentinel-2 product through GDAL's SENTINEL2 driver and
// picks its 10 m sub-dataset (bands B4, B3, B2, B8).
func resolveSafe(mtd string, in *input) (*input, error) {
	subs, err := gdalio.SubDatasets(mtd)
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		if strings.Contains(s, ":10m:") {
			in.files, in.sensor = []string{s}, "sentinel2"
			if in.bands == "" {
				in.bands = "red=1,green=2,nir=4"
			}
			return in, nil
		}
	}
	return nil, &SubDatasetError{Path: mtd, SubDatasets: subs, Err: fmt.Errorf("%s: no 10 m sub-dataset in this Sentinel-2 product", mtd)}
}

// resolveSubDatasets picks the preset's sub-datasets from a container.
func resolveSubDatasets(path string, subs []string, preset *sensor.Preset, want []string, in *input) (*input, error) {
	fail := func(format string, a ...any) error {
		return &SubDatasetError{Path: path, SubDatasets: subs, Err: fmt.Errorf("%s: "+format, append([]any{path}, a...)...)}
	}
	if preset == nil {
		p, ok := sensor.Detect(nil, []string{path})
		if !ok {
			return nil, fail("holds %d sub-datasets; predict one of them (see omnimask info) or pass --sensor", len(subs))
		}
		preset = &p
	}
	var files []string
	for _, w := range want {
		b := preset.Bands[w]
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
	in.files, in.sensor = files, preset.Name
	if in.bands == "" {
		in.bands = indexSpec(len(want))
	}
	return in, nil
}
