package gdalio

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/raster"
)

// WriteOptions describe a raster to write. The zero value is one uint8 band.
type WriteOptions struct {
	Bands     int  // number of bands; 0 means 1
	Float32   bool // float32 samples instead of uint8
	NoData    raster.NoData
	Colors    [][3]uint8 // colour table entries by value (uint8 only)
	Names     []string   // band descriptions, one per band
	Metadata  map[string]string
	Overviews string // overview resampling; "" = MODE
	// Categories names the values of band 1 (GDAL's category names, which
	// gdalinfo lists under "Categories" and desktop GIS show), by value; ""
	// leaves a value unnamed. GeoTIFF has no tag for them: GDAL keeps them
	// in the PATH.aux.xml sidecar, which Commit writes beside the file
	// (unless that name is too long for the file system).
	Categories []string
}

// Writer writes a raster into a temporary file beside its destination and
// only moves it into place on Commit, so an error or an interrupted run
// leaves no partial output. Close without Commit removes everything.
type Writer struct {
	Path string // destination
	tmp  string // tiled GeoTIFF being written
	ds   *godal.Dataset
	opts WriteOptions
	size image.Point
	pyr  *pyramid // overviews built while rows stream (nil: GDAL builds them)
	done bool
}

// Create starts writing a raster of the given size to path.
func Create(path string, size image.Point, geo raster.Geo, opts WriteOptions) (*Writer, error) {
	Register()
	if opts.Bands <= 0 {
		opts.Bands = 1
	}
	dir := filepath.Dir(path)
	if IsMem(path) {
		// In-memory folders exist implicitly.
	} else if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, liberr.Mark(fmt.Errorf("%s: output folder %s does not exist", path, dir), fs.ErrNotExist)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s: output path is a directory", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Absolute, because the COG copy may read it through a VRT.
	w := &Writer{Path: path, opts: opts, size: size, tmp: tempName(abs)}
	dtype := godal.Byte
	if opts.Float32 {
		dtype = godal.Float32
	}
	// The temporary file is read once, by the COG copy. Masks (one byte a
	// pixel) are written uncompressed: compressing them while the model
	// runs and decompressing them again costs more CPU than the disk space
	// is worth. Probabilities (4 bytes x classes a pixel) are compressed.
	compress := "COMPRESS=NONE"
	if opts.Float32 || opts.Bands > 1 {
		compress = "COMPRESS=DEFLATE"
	}
	ds, err := godal.Create(godal.GTiff, w.tmp, opts.Bands, dtype, size.X, size.Y,
		godal.CreationOption("TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", compress, "ZLEVEL=1", "BIGTIFF=IF_SAFER", "INTERLEAVE=BAND"))
	if err != nil {
		removeFile(w.tmp)
		return nil, &liberr.Error{Op: "cannot create output", Path: path, Err: err}
	}
	w.ds = ds
	if err := w.describe(geo); err != nil {
		w.Close()
		return nil, err
	}
	if opts.Bands == 1 && !opts.Float32 && w.resampling() == "MODE" && len(OverviewSizes(size)) > 0 {
		nd := -1
		if v := opts.NoData.Value; opts.NoData.Set && v >= 0 && v <= 255 && v == math.Trunc(v) {
			nd = int(v)
		}
		// Without it GDAL computes the overviews at Commit: slower, same result.
		w.pyr, _ = newPyramid(w.tmp, size, nd)
	}
	return w, nil
}

func (w *Writer) describe(geo raster.Geo) error {
	if !geo.Transform.IsIdentity() {
		if err := w.ds.SetGeoTransform(geo.Transform); err != nil {
			return &liberr.Error{Path: w.Path, Op: "set geotransform", Err: err}
		}
	}
	if geo.Transform.IsIdentity() && len(geo.GCPs) > 0 {
		if err := setGCPs(w.ds, geo); err != nil {
			return &liberr.Error{Path: w.Path, Op: "set GCPs", Err: err}
		}
	}
	if geo.CRS != "" {
		if err := w.ds.SetProjection(geo.CRS); err != nil {
			return &liberr.Error{Path: w.Path, Op: "set CRS", Err: err}
		}
	}
	for k, v := range w.opts.Metadata {
		if err := w.ds.SetMetadata(k, v); err != nil {
			return &liberr.Error{Path: w.Path, Op: fmt.Sprintf("set metadata %s", k), Err: err}
		}
	}
	for i, b := range w.ds.Bands() {
		if w.opts.NoData.Set {
			if err := b.SetNoData(w.opts.NoData.Value); err != nil {
				return &liberr.Error{Path: w.Path, Op: "set nodata", Err: err}
			}
		}
		if i < len(w.opts.Names) {
			if err := b.SetDescription(w.opts.Names[i]); err != nil {
				return &liberr.Error{Path: w.Path, Op: "set band description", Err: err}
			}
		}
	}
	if len(w.opts.Colors) > 0 && !w.opts.Float32 {
		ct := godal.ColorTable{PaletteInterp: godal.RGBPalette, Entries: make([][4]int16, 256)}
		for i, c := range w.opts.Colors {
			ct.Entries[i] = [4]int16{int16(c[0]), int16(c[1]), int16(c[2]), 255}
		}
		if w.opts.NoData.Set && w.opts.NoData.Value >= 0 && w.opts.NoData.Value < 256 {
			ct.Entries[int(w.opts.NoData.Value)] = [4]int16{0, 0, 0, 0}
		}
		if err := w.ds.Bands()[0].SetColorTable(ct); err != nil {
			return &liberr.Error{Path: w.Path, Op: "set colour table", Err: err}
		}
		if err := w.ds.Bands()[0].SetColorInterp(godal.CIPalette); err != nil {
			return &liberr.Error{Path: w.Path, Op: "set colour interpretation", Err: err}
		}
	}
	return nil
}

// WriteUint8 writes rows of band (0-based) covering r, row-major r.Dx() wide.
func (w *Writer) WriteUint8(band int, r image.Rectangle, data []uint8) error {
	return w.write(band, r, data)
}

// WriteFloat32 writes rows of band (0-based) covering r, row-major r.Dx() wide.
func (w *Writer) WriteFloat32(band int, r image.Rectangle, data []float32) error {
	return w.write(band, r, data)
}

func (w *Writer) write(band int, r image.Rectangle, data any) error {
	if w.ds == nil {
		return fmt.Errorf("%s: write after close", w.Path)
	}
	if err := w.ds.Bands()[band].Write(r.Min.X, r.Min.Y, data, r.Dx(), r.Dy()); err != nil {
		return &liberr.Error{Op: fmt.Sprintf("writing rows %d-%d", r.Min.Y, r.Max.Y-1), Path: w.Path, Err: err}
	}
	if w.pyr != nil {
		pix, ok := data.([]uint8)
		if ok && r.Min.X == 0 && r.Dx() == w.size.X {
			ok, err := w.pyr.add(r.Min.Y, r.Dx(), pix[:r.Dx()*r.Dy()])
			if err != nil {
				return fmt.Errorf("%s: %w", w.Path, err)
			}
			if ok {
				return nil
			}
		}
		// Not full rows top to bottom: leave the overviews to GDAL.
		w.pyr.remove()
		w.pyr = nil
	}
	return nil
}

// Commit finishes the file: it closes the temporary GeoTIFF, copies it into a
// cloud-optimised GeoTIFF (DEFLATE, overviews) and renames that onto the
// destination.
func (w *Writer) Commit() error {
	if w.done {
		return fmt.Errorf("%s: commit after close", w.Path)
	}
	ds := w.ds
	w.ds = nil
	if err := ds.Close(); err != nil {
		w.Close()
		return &liberr.Error{Path: w.Path, Err: err}
	}
	cog := w.tmp + ".cog"
	pyr := w.pyr
	w.pyr = nil
	if pyr != nil && !pyr.complete() {
		pyr.remove()
		pyr = nil
	}
	var err error
	if pyr != nil {
		err = pyr.close()
	}
	if err == nil {
		err = translateCOG(w.tmp, cog, w.resampling(), pyr)
	}
	if pyr != nil {
		pyr.remove()
	}
	removeFile(w.tmp)
	if err == nil {
		// The sidecar lands first, so the file never appears without it.
		err = w.commitCategories()
	}
	if err != nil {
		removeFile(cog)
		w.done = true
		return fmt.Errorf("%s: %w", w.Path, err)
	}
	if err := renameFile(cog, w.Path); err != nil {
		removeFile(cog)
		if len(w.opts.Categories) > 0 {
			removeFile(w.Path + ".aux.xml")
		}
		w.done = true
		return fmt.Errorf("%s: %w", w.Path, err)
	}
	w.done = true
	return nil
}

// commitCategories writes the category names of band 1 into the
// destination's .aux.xml sidecar (GDAL's PAM format), atomically.
func (w *Writer) commitCategories() error {
	if len(w.opts.Categories) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("<PAMDataset>\n  <PAMRasterBand band=\"1\">\n    <CategoryNames>\n")
	for _, c := range w.opts.Categories {
		fmt.Fprintf(&b, "      <Category>%s</Category>\n", xmlEscape(c))
	}
	b.WriteString("    </CategoryNames>\n  </PAMRasterBand>\n</PAMDataset>\n")
	aux, tmp := w.Path+".aux.xml", w.tmp+".aux.xml"
	if err := writeFile(tmp, []byte(b.String())); err != nil {
		removeFile(tmp)
		return fmt.Errorf("write category names: %w", err)
	}
	if err := renameFile(tmp, aux); err != nil {
		removeFile(tmp)
		if errors.Is(err, syscall.ENAMETOOLONG) {
			// A file name of 248 bytes or more leaves no room for
			// ".aux.xml": the names stay in the file's metadata only.
			return nil
		}
		return fmt.Errorf("write category names: %w", err)
	}
	return nil
}

// resampling is the overview resampling method.
func (w *Writer) resampling() string {
	switch {
	case w.opts.Overviews != "":
		return strings.ToUpper(w.opts.Overviews)
	case w.opts.Float32:
		return "AVERAGE"
	}
	return "MODE"
}

// translateCOG copies the GeoTIFF src into the COG dst, with the overviews
// of pyr when it is not nil, else computed by GDAL with resampling ovr.
func translateCOG(src, dst, ovr string, pyr *pyramid) error {
	ds, err := godal.Open(src)
	if err != nil {
		return &liberr.Error{Op: "reopen", Err: err}
	}
	if pyr != nil {
		vrt, err := pyr.withOverviews(ds)
		if cerr := ds.Close(); err == nil && cerr != nil {
			err = &liberr.Error{Op: "reopen", Err: cerr}
		}
		if err != nil {
			return err
		}
		if ds, err = godal.Open(vrt); err != nil {
			return &liberr.Error{Op: "reopen with overviews", Err: err}
		}
	}
	out, err := ds.Translate(dst, []string{"-of", "COG",
		"-co", "COMPRESS=DEFLATE", "-co", "BLOCKSIZE=" + strconv.Itoa(OverviewBlock), "-co", "BIGTIFF=IF_SAFER", "-co", "NUM_THREADS=ALL_CPUS",
		"-co", "OVERVIEW_RESAMPLING=" + ovr})
	cerr := ds.Close()
	if err != nil {
		return &liberr.Error{Op: "write COG", Err: err}
	}
	if err := out.Close(); err != nil {
		return &liberr.Error{Op: "write COG", Err: err}
	}
	return cerr
}

// Close abandons an uncommitted file, removing the temporary files. It is
// safe to call more than once and after Commit.
func (w *Writer) Close() error {
	var err error
	if w.ds != nil {
		err = w.ds.Close()
		w.ds = nil
	}
	if w.pyr != nil {
		w.pyr.remove()
		w.pyr = nil
	}
	if !w.done {
		w.done = true
		if rerr := removeFile(w.tmp); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
	}
	return err
}
