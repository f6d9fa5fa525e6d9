package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/liberr"
	"github.com/omnimask/omnimask/raster"
)

// Scenes received as bytes and masks returned as bytes live in GDAL's
// in-memory file system (/vsimem/): nothing touches the disk. Request.Output
// may itself name a /vsimem/ file.

// isTIFF reports whether data starts like a TIFF or BigTIFF file.
func isTIFF(data []byte) bool {
	if len(data) < 4 {
		return false
	}
	switch string(data[:4]) {
	case "II*\x00", "MM\x00*", "II+\x00", "MM\x00+":
		return true
	}
	return false
}

// PredictBytes predicts a scene given as the bytes of a GeoTIFF (COG
// included), held in GDAL's in-memory file system for the call. Only TIFF
// is taken (other data is ErrUnsupported): a format such as VRT could make
// GDAL read files of the host, which bytes from a client must not. With
// req.Output empty the mask is returned in memory (Result.WriteTo writes it
// as a GeoTIFF); Plan.Files names the in-memory file, which is gone when
// the call returns.
func (e *Engine) PredictBytes(ctx context.Context, data []byte, req Request) (*Result, error) {
	if !isTIFF(data) {
		return nil, liberr.Mark(fmt.Errorf("engine: %d bytes: not a TIFF file (only GeoTIFF is read from bytes)", len(data)), ErrUnsupported)
	}
	path := gdalio.MemDir() + "/scene.tif"
	if err := gdalio.WriteMem(path, data); err != nil {
		return nil, liberr.Mark(err, ErrInternal)
	}
	defer gdalio.RemoveMem(path)
	return e.PredictFile(ctx, []string{path}, req)
}

// PredictReader reads a GeoTIFF from r to its end (the caller bounds its
// size, e.g. with http.MaxBytesReader) straight into GDAL's in-memory file
// system, and predicts it as PredictBytes.
func (e *Engine) PredictReader(ctx context.Context, r io.Reader, req Request) (*Result, error) {
	head := make([]byte, 4)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, liberr.Mark(fmt.Errorf("engine: reading the scene: %w", err), ErrInvalidInput)
	}
	if !isTIFF(head[:n]) {
		return nil, liberr.Mark(fmt.Errorf("engine: not a TIFF file (only GeoTIFF is read from a stream)"), ErrUnsupported)
	}
	path := gdalio.MemDir() + "/scene.tif"
	w, err := gdalio.CreateMem(path)
	if err != nil {
		return nil, liberr.Mark(err, ErrInternal)
	}
	defer gdalio.RemoveMem(path)
	_, err = w.Write(head)
	if err == nil {
		_, err = io.Copy(w, r)
	}
	if cerr := w.Close(); err == nil && cerr != nil {
		return nil, liberr.Mark(cerr, ErrInternal)
	}
	if err != nil {
		return nil, liberr.Mark(fmt.Errorf("engine: reading the scene: %w", err), ErrInvalidInput)
	}
	return e.PredictFile(ctx, []string{path}, req)
}

// WriteTo writes the mask as the cloud-optimised GeoTIFF Request.Output
// would have produced (same bytes), built in GDAL's in-memory file system.
// A result written to a file (Request.Output) copies that file.
func (r *Result) WriteTo(w io.Writer) (int64, error) {
	switch {
	case r.Mask == nil && r.Output == "":
		return 0, errors.New("engine: the result holds no mask")
	case r.Mask == nil && !gdalio.IsMem(r.Output):
		f, err := os.Open(r.Output)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return io.Copy(w, f)
	case r.Mask == nil:
		return gdalio.CopyMem(w, r.Output)
	}
	path := gdalio.MemDir() + "/mask.tif"
	defer gdalio.RemoveMem(path)
	defer gdalio.RemoveMem(path + ".aux.xml")
	if err := r.WriteGeoTIFF(path); err != nil {
		return 0, err
	}
	return gdalio.CopyMem(w, path)
}

// GeoTIFF returns the mask as the bytes of the cloud-optimised GeoTIFF
// Request.Output would have produced.
func (r *Result) GeoTIFF() ([]byte, error) {
	if r.Mask == nil {
		if r.Output == "" {
			return nil, errors.New("engine: the result holds no mask")
		}
		if gdalio.IsMem(r.Output) {
			return gdalio.ReadMem(r.Output)
		}
		return os.ReadFile(r.Output)
	}
	path := gdalio.MemDir() + "/mask.tif"
	defer gdalio.RemoveMem(path)
	defer gdalio.RemoveMem(path + ".aux.xml")
	if err := r.WriteGeoTIFF(path); err != nil {
		return nil, err
	}
	return gdalio.ReadMem(path)
}

// WriteGeoTIFF writes the in-memory mask to path (a file, atomically, or a
// /vsimem/ name) as Request.Output would have.
func (r *Result) WriteGeoTIFF(path string) error {
	if r.Mask == nil || r.e == nil {
		return errors.New("engine: the result holds no mask in memory")
	}
	p := r.Plan
	if r.Mask.Rect != (image.Rectangle{Max: p.Size}) {
		return fmt.Errorf("engine: mask bounds %v, scene %v", r.Mask.Rect, p.Size)
	}
	scratch := &Result{}
	fs, err := r.e.createFiles(&p, Request{Output: path}, scratch)
	if err != nil {
		return err
	}
	W := p.Size.X
	for y := 0; y < p.Size.Y; y += blockRows {
		n := min(blockRows, p.Size.Y-y)
		if err := fs.write(&block{y0: y, rows: n, classes: r.Mask.Pix[y*W : (y+n)*W]}); err != nil {
			fs.abort()
			return err
		}
	}
	return fs.commit()
}

// ReadScene reads the bands of a raster file (or of per-band files stacked
// in order, as PredictFile takes them) into an in-memory Scene for Predict:
// all bands as float32, their names, georeference and nodata.
func ReadScene(paths ...string) (*Scene, error) {
	s, err := gdalio.Open(paths...)
	if err != nil {
		return nil, classify(err, true)
	}
	defer s.Close()
	idx := make([]int, len(s.Bands))
	names := make([]string, len(s.Bands))
	for i, b := range s.Bands {
		idx[i], names[i] = i, b.Name
	}
	if err := s.Select(idx); err != nil {
		return nil, classify(err, true)
	}
	bands := raster.NewFloat32(len(idx), image.Rectangle{Max: s.Size})
	if err := s.Read(bands); err != nil {
		return nil, classify(err, true)
	}
	sc := &Scene{Bands: bands, Names: names, Geo: s.Geo}
	if len(s.Bands) > 0 {
		sc.NoData = s.Bands[0].NoData
	}
	return sc, nil
}
