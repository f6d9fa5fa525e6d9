package synth

import (
	"fmt"
	"image"
	"runtime"
	"sync"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// FileOptions describe how a synthetic scene is stored.
type FileOptions struct {
	Type   godal.DataType // default UInt16
	Scale  float64        // reflectance multiplier (default 10000; 255 for Byte)
	NoData float64        // value of nodata pixels (default 0)
	NoGeo  bool           // write no georeference
}

// WriteGeoTIFF streams the scene into a tiled GeoTIFF at path, with band
// descriptions and the nodata tag set.
func (g *Generator) WriteGeoTIFF(path string, fo FileOptions) error {
	gdalio.Register()
	if fo.Type == godal.Unknown {
		fo.Type = godal.UInt16
	}
	if fo.Scale == 0 {
		fo.Scale = 10000
		if fo.Type == godal.Byte {
			fo.Scale = 255
		}
	}
	o := g.Opts
	ds, err := godal.Create(godal.GTiff, path, len(o.Bands), fo.Type, o.Width, o.Height,
		godal.CreationOption("TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=2", "BIGTIFF=IF_SAFER"))
	if err != nil {
		return fmt.Errorf("synth: %s: %w", path, err)
	}
	if !fo.NoGeo {
		geo := g.Geo()
		if err := ds.SetGeoTransform(geo.Transform); err != nil {
			ds.Close()
			return err
		}
		if err := ds.SetProjection(geo.CRS); err != nil {
			ds.Close()
			return err
		}
	}
	for i, b := range ds.Bands() {
		if err := b.SetDescription(o.Bands[i]); err != nil {
			ds.Close()
			return err
		}
		if err := b.SetNoData(fo.NoData); err != nil {
			ds.Close()
			return err
		}
	}
	// Compute blocks of rows on every core, write them in order.
	const rows = 256
	workers := runtime.NumCPU()
	for y0 := 0; y0 < o.Height; y0 += rows * workers {
		var bufs []*raster.Float32
		var wg sync.WaitGroup
		for y := y0; y < min(o.Height, y0+rows*workers); y += rows {
			buf := raster.NewFloat32(len(o.Bands), image.Rect(0, y, o.Width, min(o.Height, y+rows)))
			bufs = append(bufs, buf)
			wg.Go(func() { g.Fill(buf, fo.Scale, fo.NoData) })
		}
		wg.Wait()
		for _, buf := range bufs {
			r := buf.Rect
			for c, b := range ds.Bands() {
				plane := buf.Pix[c*buf.PlaneStride : (c+1)*buf.PlaneStride]
				if err := b.Write(0, r.Min.Y, plane, r.Dx(), r.Dy()); err != nil {
					ds.Close()
					return fmt.Errorf("synth: %s: %w", path, err)
				}
			}
		}
	}
	return ds.Close()
}
