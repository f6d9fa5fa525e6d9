package gdalio

import (
	"fmt"
	"image"

	"github.com/omnimask/omnimask/internal/liberr"
)

// IntType reports the type in which the selected bands can be read as
// integers (ReadInts) with exactly the values Read gives as float32: "Byte"
// when they are all Byte, "UInt16" when they are all Byte or UInt16,
// "Int16" when they are all Byte or Int16; "" otherwise, and when any of
// them is read through a VRT (the grid-aligning resampling, or a VRT
// file), whose sources GDAL may compute in the requested buffer type.
// Reading 16-bit samples as such skips GDAL's conversion to float32 and
// halves the memory a window takes.
func (s *Scene) IntType() string {
	byteOnly, u16, i16 := true, true, true
	for _, j := range s.sel {
		b := s.Bands[j]
		if s.ds[b.File].Driver().ShortName() == "VRT" {
			return ""
		}
		switch b.Type {
		case "Byte":
		case "UInt16":
			byteOnly, i16 = false, false
		case "Int16":
			byteOnly, u16 = false, false
		default:
			return ""
		}
	}
	switch {
	case len(s.sel) == 0:
		return ""
	case byteOnly:
		return "Byte"
	case u16:
		return "UInt16"
	case i16:
		return "Int16"
	}
	return ""
}

// ReadInts reads the selected bands over the scene window r into dst, band
// after band, each r.Dy() rows of r.Dx() samples. T must match the scene's
// IntType (uint8 for Byte, uint16 for UInt16, int16 for Int16).
func ReadInts[T uint8 | uint16 | int16](s *Scene, dst []T, r image.Rectangle) error {
	var want string
	switch any(dst).(type) {
	case []uint8:
		want = "Byte"
	case []uint16:
		want = "UInt16"
	case []int16:
		want = "Int16"
	}
	if got := s.IntType(); got != want {
		return fmt.Errorf("gdalio: reading the selected bands (%q) as %s", got, want)
	}
	if !r.In(image.Rectangle{Max: s.Size}) || r.Empty() {
		return fmt.Errorf("gdalio: window %v outside %s (%dx%d)", r, s.Paths[0], s.Size.X, s.Size.Y)
	}
	n := r.Dx() * r.Dy()
	if len(dst) < len(s.sel)*n {
		return fmt.Errorf("gdalio: %d samples for %d bands of %dx%d", len(dst), len(s.sel), r.Dx(), r.Dy())
	}
	for c, j := range s.sel {
		b := s.Bands[j]
		band := s.ds[b.File].Bands()[b.Index-1]
		if err := band.Read(r.Min.X, r.Min.Y, dst[c*n:(c+1)*n], r.Dx(), r.Dy()); err != nil {
			return &liberr.Error{Op: fmt.Sprintf("reading band %d rows %d-%d", b.Index, r.Min.Y, r.Max.Y-1), Path: s.Paths[b.File], Err: err}
		}
	}
	return nil
}
