// Package gdalio is omnimask's only user of GDAL (through godal): it opens
// scenes of any format GDAL reads, reads windows of selected bands as
// float32, and writes georeferenced masks atomically as cloud-optimised
// GeoTIFFs.
package gdalio

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/raster"
)

var registerOnce sync.Once

// Register registers GDAL's drivers. It is called by Open and Create; it is
// exported so that programs can do it explicitly. Process-wide settings,
// such as GDAL's block cache size (GDAL_CACHEMAX), are left to the program.
func Register() {
	registerOnce.Do(godal.RegisterAll)
}

// ErrNotRaster is wrapped when a file is not something GDAL reads as a raster.
var ErrNotRaster = errors.New("not a raster GDAL can read")

// ErrDataType is reported (errors.Is) for bands of a data type omnimask does
// not read (complex numbers).
var ErrDataType = errors.New("unsupported data type")

// ContainerError is returned by Open for a file that holds sub-datasets
// (HDF, NetCDF…) instead of pixels of its own.
type ContainerError struct {
	Path        string
	SubDatasets []string // their GDAL names
}

func (e *ContainerError) Error() string {
	return fmt.Sprintf("%s: the file holds sub-datasets; open one of them (see `omnimask info %s`)", e.Path, e.Path)
}

// Band describes one band available in a scene.
type Band struct {
	File   int    // index into Scene.Paths
	Index  int    // 1-based band number in that file
	Name   string // GDAL band description, or the file's base name for single-band files
	Type   string // GDAL data type
	NoData raster.NoData
	// Resolution is the pixel size of its file in metres along x and y
	// (see ResolutionM), 0 when the file is not georeferenced.
	Resolution [2]float64

	wide   bool    // nodata float32 cannot hold: read via float64 (see wideNoData)
	wideND float64 // that nodata value
}

// Scene is one or more raster files on the same pixel grid, seen as a single
// stack of bands. Reads are serialised: a Scene may be used from one
// goroutine at a time.
type Scene struct {
	Paths    []string
	Bands    []Band // every band of every file, in order
	Size     image.Point
	Geo      raster.Geo
	Metadata map[string]string // metadata of the first file (default domain)
	Notes    []string          // what was done to put the files on one grid
	Driver   string

	f64 []float64 // read buffer for bands whose nodata float32 cannot hold
	ds  []*godal.Dataset
	src []*godal.Dataset // files the resampling VRTs in ds read: closed after them
	vsi []string         // in-memory VRTs to remove on Close
	sel []int            // selected indices into Bands
}

// alignGrids puts every file on the grid of the finest one. Files on
// another grid must be georeferenced in the same CRS and cover the same
// extent; they are read through a VRT that resamples them (bilinear) to the
// finest grid, as Sentinel-2's 20 m bands onto its 10 m ones.
func (s *Scene) alignGrids(sizes []image.Point) error {
	ref := -1
	for i, sz := range sizes {
		if sz == s.Size {
			ref = i
			break
		}
	}
	s.Geo.CRS = s.ds[ref].Projection()
	if gt, err := s.ds[ref].GeoTransform(); err == nil {
		s.Geo.Transform = raster.GeoTransform(gt)
	} else {
		s.Geo.Transform = raster.Identity
	}
	for i, sz := range sizes {
		if sz == s.Size {
			continue
		}
		p := s.Paths[i]
		gt, err := s.ds[i].GeoTransform()
		if err != nil || !s.Geo.Georeferenced() {
			return fmt.Errorf("%s: %dx%d pixels, but %s has %dx%d, and without georeference they cannot be aligned", p, sz.X, sz.Y, s.Paths[ref], s.Size.X, s.Size.Y)
		}
		if !sameCRS(s.ds[i].Projection(), s.Geo.CRS) {
			return fmt.Errorf("%s: CRS differs from %s; reproject the files onto one grid first", p, s.Paths[ref])
		}
		a := raster.GeoTransform(gt)
		x0, y0 := a.Apply(0, 0)
		x1, y1 := a.Apply(float64(sz.X), float64(sz.Y))
		r0, q0 := s.Geo.Transform.Apply(0, 0)
		r1, q1 := s.Geo.Transform.Apply(float64(s.Size.X), float64(s.Size.Y))
		fine := s.Geo.Transform
		tol := 0.5 * math.Max(math.Abs(fine[1]), math.Abs(fine[5])) // half a fine pixel
		if math.Abs(x0-r0) > tol || math.Abs(y0-q0) > tol || math.Abs(x1-r1) > tol || math.Abs(y1-q1) > tol {
			return fmt.Errorf("%s: covers another extent than %s; stack only bands of one product", p, s.Paths[ref])
		}
		name := fmt.Sprintf("/vsimem/omnimask-%d-%x.vrt", i, rand.Uint64())
		vrt, err := s.ds[i].Translate(name, []string{"-of", "VRT", "-outsize", fmt.Sprint(s.Size.X), fmt.Sprint(s.Size.Y), "-r", "bilinear"})
		if err != nil {
			return &liberr.Error{Op: fmt.Sprintf("cannot resample onto the %dx%d grid", s.Size.X, s.Size.Y), Path: p, Err: err}
		}
		s.vsi = append(s.vsi, name)
		s.Notes = append(s.Notes, fmt.Sprintf("%s resampled (bilinear) from %dx%d onto the %dx%d grid of %s", p, sz.X, sz.Y, s.Size.X, s.Size.Y, s.Paths[ref]))
		// The VRT reads the dataset it was made from through pointers: that
		// dataset stays open until the VRT is closed (Close), or closing or
		// reading the VRT touches freed memory.
		s.src = append(s.src, s.ds[i])
		s.ds[i] = vrt
	}
	return nil
}

func sameCRS(a, b string) bool {
	if a == b {
		return true
	}
	sa, err := godal.NewSpatialRef(a)
	if err != nil {
		return false
	}
	defer sa.Close()
	sb, err := godal.NewSpatialRef(b)
	if err != nil {
		return false
	}
	defer sb.Close()
	return sa.IsSame(sb)
}

// Open opens the files as one scene. Every file must have the same size.
// The error names the file and the problem.
func Open(paths ...string) (*Scene, error) {
	Register()
	if len(paths) == 0 {
		return nil, errors.New("gdalio: no input file")
	}
	s := &Scene{Paths: paths}
	var sizes []image.Point
	for i, p := range paths {
		if err := checkName(p); err != nil {
			s.Close()
			return nil, err
		}
		ds, err := godal.Open(p, godal.RasterOnly())
		if err != nil {
			s.Close()
			return nil, &liberr.Error{Path: p, Err: fmt.Errorf("%w: %w", ErrNotRaster, err)}
		}
		s.ds = append(s.ds, ds)
		st := ds.Structure()
		if st.SizeX <= 0 || st.SizeY <= 0 || st.NBands == 0 {
			s.Close()
			if subs := subDatasets(ds); len(subs) > 0 {
				return nil, &ContainerError{Path: p, SubDatasets: subs}
			}
			return nil, fmt.Errorf("%s: %w (%dx%d pixels, %d bands)", p, ErrNotRaster, st.SizeX, st.SizeY, st.NBands)
		}
		size := image.Pt(st.SizeX, st.SizeY)
		sizes = append(sizes, size)
		if i == 0 || size.X*size.Y > s.Size.X*s.Size.Y {
			s.Size = size
		}
		if i == 0 {
			s.Driver = ds.Driver().ShortName()
			s.Metadata = ds.Metadatas()
		}
		var res [2]float64
		if gt, err := ds.GeoTransform(); err == nil {
			if dx, dy, ok := ResolutionM(raster.Geo{CRS: ds.Projection(), Transform: raster.GeoTransform(gt)}, size); ok {
				res = [2]float64{dx, dy}
			}
		}
		for j, b := range ds.Bands() {
			name := b.Description()
			if name == "" && st.NBands == 1 && len(paths) > 1 {
				name = baseName(p)
			}
			var nd raster.NoData
			if v, ok := b.NoData(); ok {
				nd = raster.NoDataValue(v)
			}
			bd := Band{File: i, Index: j + 1, Name: name, Type: bandType(b), NoData: nd, Resolution: res}
			if wideNoData(bd.Type, nd) {
				// Its pixels are read as NaN, so NaN is the nodata value.
				bd.wide, bd.wideND, bd.NoData = true, nd.Value, raster.NoDataValue(math.NaN())
				s.Notes = append(s.Notes, fmt.Sprintf("%s: band %d's nodata value %g is not a float32 value; its pixels are read as NaN (nodata), other pixels keep their values", p, j+1, nd.Value))
			}
			s.Bands = append(s.Bands, bd)
		}
	}
	if err := s.alignGrids(sizes); err != nil {
		s.Close()
		return nil, err
	}
	if len(s.ds) == 1 {
		s.gcpGeo(s.ds[0], paths[0])
	}
	for i := range s.Bands {
		switch s.Bands[i].Type {
		case "CInt16", "CInt32", "CFloat32", "CFloat64":
			s.Close()
			return nil, liberr.Mark(fmt.Errorf("%s: band %d has complex data type %s, which omnimask does not read", paths[s.Bands[i].File], s.Bands[i].Index, s.Bands[i].Type), ErrDataType)
		}
	}
	return s, nil
}

// SubDatasets lists the sub-dataset names of a container file (HDF, NetCDF,
// SAFE…), or nil when it has none.
func SubDatasets(path string) ([]string, error) {
	Register()
	if err := checkName(path); err != nil {
		return nil, err
	}
	ds, err := godal.Open(path, godal.RasterOnly())
	if err != nil {
		return nil, &liberr.Error{Path: path, Err: fmt.Errorf("%w: %w", ErrNotRaster, err)}
	}
	defer ds.Close()
	return subDatasets(ds), nil
}

// subDatasets lists the sub-dataset names of an open dataset.
func subDatasets(ds *godal.Dataset) []string {
	md := ds.Metadatas(godal.Domain("SUBDATASETS"))
	var out []string
	for i := 1; ; i++ {
		v, ok := md[fmt.Sprintf("SUBDATASET_%d_NAME", i)]
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// checkName refuses dataset names GDAL must never see (see Sources), then
// checks plain files (checkPath).
func checkName(p string) error {
	if _, err := Sources(p); err != nil {
		return err
	}
	return checkPath(p)
}

// checkPath gives clear errors for plain files that cannot be rasters,
// before GDAL gives a vaguer one. GDAL paths (/vsi…, DRIVER:…) are left to
// GDAL; a file that exists is a file even with a colon in its name.
func checkPath(p string) error {
	if _, err := os.Lstat(p); err != nil && (strings.HasPrefix(p, "/vsi") || (strings.Contains(p, ":") && !strings.HasPrefix(p, "/"))) {
		return nil
	}
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return liberr.Mark(fmt.Errorf("%s: no such file", p), fs.ErrNotExist)
	case err != nil:
		return fmt.Errorf("%s: %w", p, err)
	case st.IsDir():
		return fmt.Errorf("%s: is a directory, not a raster file", p)
	case !st.Mode().IsRegular():
		// A pipe, socket or device: GDAL needs to seek, and opening a FIFO
		// blocks until someone writes to it.
		kind := "a device"
		switch {
		case st.Mode()&os.ModeNamedPipe != 0:
			kind = "a named pipe"
		case st.Mode()&os.ModeSocket != 0:
			kind = "a socket"
		}
		return fmt.Errorf("%s: not a regular file but %s", p, kind)
	case st.Size() == 0:
		return fmt.Errorf("%s: empty file", p)
	}
	return nil
}

// Select chooses the bands Read returns, by index into Bands.
func (s *Scene) Select(idx []int) error {
	for _, i := range idx {
		if i < 0 || i >= len(s.Bands) {
			return fmt.Errorf("%s: band %d out of range 1..%d", s.Paths[0], i+1, len(s.Bands))
		}
	}
	s.sel = append([]int(nil), idx...)
	return nil
}

// Selected returns the selected bands.
func (s *Scene) Selected() []Band {
	out := make([]Band, len(s.sel))
	for i, j := range s.sel {
		out[i] = s.Bands[j]
	}
	return out
}

// Read reads the selected bands over dst.Rect (scene pixel coordinates) into
// dst as float32, one channel per selected band.
func (s *Scene) Read(dst *raster.Float32) error { return s.ReadParallel(dst, 1) }

// ReadParallel is Read with GDAL decoding blocks on up to threads threads
// (for the formats whose drivers can, such as compressed GeoTIFF).
func (s *Scene) ReadParallel(dst *raster.Float32, threads int) error {
	if dst.C != len(s.sel) {
		return fmt.Errorf("gdalio: reading %d channels, %d bands selected", dst.C, len(s.sel))
	}
	r := dst.Rect
	if !r.In(image.Rectangle{Max: s.Size}) || r.Empty() {
		return fmt.Errorf("gdalio: window %v outside %s (%dx%d)", r, s.Paths[0], s.Size.X, s.Size.Y)
	}
	for c, j := range s.sel {
		b := s.Bands[j]
		band := s.ds[b.File].Bands()[b.Index-1]
		opts := []godal.BandIOOption{godal.LineStride(dst.Stride)}
		if threads > 1 {
			opts = append(opts, godal.ConfigOption("GDAL_NUM_THREADS="+strconv.Itoa(threads)))
		}
		if err := s.readBand(b, band, dst, c, r, opts); err != nil {
			return &liberr.Error{Op: fmt.Sprintf("reading band %d rows %d-%d", b.Index, r.Min.Y, r.Max.Y-1), Path: s.Paths[b.File], Err: err}
		}
	}
	return nil
}

// ReadResampled reads the selected bands over the scene window src into dst,
// resampled by GDAL to dst's size (used for quick looks).
func (s *Scene) ReadResampled(dst *raster.Float32, src image.Rectangle, alg godal.ResamplingAlg) error {
	for c, j := range s.sel {
		b := s.Bands[j]
		band := s.ds[b.File].Bands()[b.Index-1]
		off := dst.PixOffset(c, dst.Rect.Min.X, dst.Rect.Min.Y)
		err := band.Read(src.Min.X, src.Min.Y, dst.Pix[off:], dst.Rect.Dx(), dst.Rect.Dy(),
			godal.Window(src.Dx(), src.Dy()), godal.Resampling(alg), godal.LineStride(dst.Stride))
		if err != nil {
			return &liberr.Error{Op: fmt.Sprintf("reading band %d", b.Index), Path: s.Paths[b.File], Err: err}
		}
		if b.Type == Int8 { // approximate after averaging: a quick look
			for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
				for i, v := range dst.Row(c, y) {
					if v >= 128 {
						dst.Row(c, y)[i] = v - 256
					}
				}
			}
		}
	}
	return nil
}

// Close closes every file. It is safe to call more than once.
func (s *Scene) Close() error {
	var errs []error
	for _, ds := range append(s.ds, s.src...) { // VRTs before the files they read
		if err := ds.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.ds, s.src = nil, nil
	for _, v := range s.vsi {
		if err := godal.VSIUnlink(v); err != nil {
			errs = append(errs, err)
		}
	}
	s.vsi = nil
	return errors.Join(errs...)
}

// ResolutionM returns the scene's pixel size in metres along columns and
// rows, converting degrees at the scene centre for geographic CRSs. ok is
// false when the scene is not georeferenced or its units are unknown.
func (s *Scene) ResolutionM() (dx, dy float64, ok bool) {
	return ResolutionM(s.Geo, s.Size)
}

// ResolutionM returns the pixel size in metres of a raster of the given size
// and georeferencing (see Scene.ResolutionM).
func ResolutionM(g raster.Geo, size image.Point) (dx, dy float64, ok bool) {
	if !g.Georeferenced() {
		return 0, 0, false
	}
	Register()
	sr, err := godal.NewSpatialRef(g.CRS)
	if err != nil {
		return 0, 0, false
	}
	defer sr.Close()
	px, py := g.Transform.PixelSize()
	if sr.Geographic() {
		_, lat := g.Transform.Apply(float64(size.X)/2, float64(size.Y)/2)
		if math.Abs(lat) > 90 {
			return 0, 0, false
		}
		a, err := sr.SemiMajor()
		if err != nil || a <= 0 {
			a = 6378137
		}
		m := math.Pi / 180 * a
		return px * m * math.Cos(lat*math.Pi/180), py * m, true
	}
	unit := 1.0
	if v, ok := sr.AttrValue("UNIT", 1); ok {
		if f, err := parseFloat(v); err == nil && f > 0 {
			unit = f
		}
	}
	return px * unit, py * unit, true
}

// NormalizeCRS returns the WKT of a CRS given as WKT, "EPSG:n", PROJ string
// or any other form GDAL understands ("" stays "").
func NormalizeCRS(crs string) (string, error) {
	if crs == "" {
		return "", nil
	}
	Register()
	sr, err := godal.NewSpatialRef(crs)
	if err != nil {
		return "", &liberr.Error{Op: fmt.Sprintf("gdalio: unknown CRS %.60q", crs), Err: err}
	}
	defer sr.Close()
	wkt, err := sr.WKT()
	if err != nil {
		return "", &liberr.Error{Op: fmt.Sprintf("gdalio: CRS %.60q", crs), Err: err}
	}
	return wkt, nil
}
