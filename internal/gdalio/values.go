package gdalio

import (
	"fmt"
	"image"
	"math"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/raster"
)

// Int8 is the Band.Type of GDAL 3.6's signed 8-bit bands: Byte bands with
// PIXELTYPE=SIGNEDBYTE in their IMAGE_STRUCTURE metadata. GDAL hands their
// samples out as unsigned 0..255; Read gives -128..127.
const Int8 = "Int8"

// bandType is the band's GDAL data type, Int8 for signed bytes.
func bandType(b godal.Band) string {
	t := b.Structure().DataType
	if t == godal.Byte && b.Metadata("PIXELTYPE", godal.Domain("IMAGE_STRUCTURE")) == "SIGNEDBYTE" {
		return Int8
	}
	return t.String()
}

// wideNoData reports whether a band's samples are wider than float32 and its
// nodata value is one float32 cannot hold (1e-300 in a Float64 band,
// 4294967295 in a UInt32 one): read as float32, it would merge with other
// values (0, its neighbours) and make genuine pixels nodata. Such bands are
// read through float64, their nodata pixels becoming NaN (nodata) exactly.
func wideNoData(typ string, nd raster.NoData) bool {
	switch typ {
	case "Float64", "Int32", "UInt32", "Int64", "UInt64":
		v := nd.Value
		return nd.Set && !math.IsNaN(v) && !math.IsInf(v, 0) && float64(float32(v)) != v
	}
	return false
}

// readBand reads one band over r into channel c of dst, as Read does, with
// signed bytes and nodata values float32 cannot hold taken care of.
func (s *Scene) readBand(b Band, band godal.Band, dst *raster.Float32, c int, r image.Rectangle, opts []godal.BandIOOption) error {
	off := dst.PixOffset(c, r.Min.X, r.Min.Y)
	if !b.wide {
		if err := band.Read(r.Min.X, r.Min.Y, dst.Pix[off:], r.Dx(), r.Dy(), opts...); err != nil {
			return err
		}
		if b.Type == Int8 {
			for y := r.Min.Y; y < r.Max.Y; y++ {
				row := dst.Row(c, y)[r.Min.X-dst.Rect.Min.X:][:r.Dx()]
				for i, v := range row {
					if v >= 128 {
						row[i] = v - 256
					}
				}
			}
		}
		return nil
	}
	w, h := r.Dx(), r.Dy()
	if cap(s.f64) < w*h {
		s.f64 = make([]float64, w*h)
	}
	buf := s.f64[:w*h]
	// opts carry dst's stride; the float64 buffer is packed.
	if err := band.Read(r.Min.X, r.Min.Y, buf, w, h, dropStride(opts)...); err != nil {
		return err
	}
	nd := b.wideND
	for y := 0; y < h; y++ {
		row := dst.Row(c, r.Min.Y+y)[r.Min.X-dst.Rect.Min.X:][:w]
		for x, v := range buf[y*w : (y+1)*w] {
			if v == nd {
				row[x] = float32(math.NaN())
			} else {
				row[x] = float32(v)
			}
		}
	}
	return nil
}

func dropStride(opts []godal.BandIOOption) []godal.BandIOOption {
	return opts[1:] // LineStride is always first (see ReadParallel)
}

// gcpGeo fills in the ground control points of a dataset with no
// geotransform, and says so in the scene's notes.
func (s *Scene) gcpGeo(ds *godal.Dataset, path string) {
	gcps := ds.GCPs()
	if len(gcps) == 0 || !s.Geo.Transform.IsIdentity() {
		return
	}
	s.Geo.GCPCRS = ds.GCPProjection()
	for _, g := range gcps {
		s.Geo.GCPs = append(s.Geo.GCPs, raster.GCP{ID: g.PszId, Info: g.PszInfo, Pixel: g.DfGCPPixel, Line: g.DfGCPLine, X: g.DfGCPX, Y: g.DfGCPY, Z: g.DfGCPZ})
	}
	s.Notes = append(s.Notes, fmt.Sprintf("%s is georeferenced by %d ground control points only: the mask keeps them (it is not warped); pass --resolution for the pixel size", path, len(gcps)))
}

// setGCPs writes ground control points on a dataset without geotransform.
func setGCPs(ds *godal.Dataset, geo raster.Geo) error {
	gcps := make([]godal.GCP, len(geo.GCPs))
	for i, g := range geo.GCPs {
		gcps[i] = godal.GCP{PszId: g.ID, PszInfo: g.Info, DfGCPPixel: g.Pixel, DfGCPLine: g.Line, DfGCPX: g.X, DfGCPY: g.Y, DfGCPZ: g.Z}
	}
	return ds.SetGCPs(gcps, godal.GCPProjection(geo.GCPCRS))
}

// SetNoData gives every band the nodata value nd (an explicit --nodata),
// with the same care as the files' own values (see wideNoData).
func (s *Scene) SetNoData(nd raster.NoData) {
	for i := range s.Bands {
		b := &s.Bands[i]
		b.NoData, b.wide, b.wideND = nd, false, 0
		if wideNoData(b.Type, nd) {
			b.wide, b.wideND, b.NoData = true, nd.Value, raster.NoDataValue(math.NaN())
		}
	}
}
