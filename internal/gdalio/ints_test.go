package gdalio

import (
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/raster"
)

// typedTIF writes a one-band 40x30 GeoTIFF of GDAL type typ whose pixel
// (x, y) holds f(x, y).
func typedTIF(t *testing.T, path string, typ godal.DataType, f func(x, y int) float64) string {
	t.Helper()
	Register()
	ds, err := godal.Create(godal.GTiff, path, 1, typ, 40, 30, godal.CreationOption("TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=DEFLATE"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float64, 40*30)
	for i := range buf {
		buf[i] = f(i%40, i/40)
	}
	if err := ds.Bands()[0].Write(0, 0, buf, 40, 30); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestIntType checks which band type combinations ReadInts reads, and that
// it gives Read's values exactly (as float32), window by window.
func TestIntType(t *testing.T) {
	dir := t.TempDir()
	vals := map[godal.DataType]func(x, y int) float64{
		godal.Byte:    func(x, y int) float64 { return float64((x*7 + y*13) % 256) },
		godal.UInt16:  func(x, y int) float64 { return float64((x*7919 + y*104729) % 65536) },
		godal.Int16:   func(x, y int) float64 { return float64((x*7919+y*104729)%65536 - 32768) },
		godal.Float32: func(x, y int) float64 { return float64(x) + 0.5 },
		godal.Int32:   func(x, y int) float64 { return float64(x * y) },
	}
	file := func(typ godal.DataType) string {
		p := filepath.Join(dir, typ.String()+".tif")
		return typedTIF(t, p, typ, vals[typ])
	}
	vrt := filepath.Join(dir, "u16.vrt")
	src, err := godal.Open(file(godal.UInt16))
	if err != nil {
		t.Fatal(err)
	}
	v, err := src.Translate(vrt, []string{"-of", "VRT"})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	src.Close()
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{file(godal.Byte)}, "Byte"},
		{[]string{file(godal.UInt16)}, "UInt16"},
		{[]string{file(godal.Int16)}, "Int16"},
		{[]string{file(godal.Byte), file(godal.UInt16), file(godal.Byte)}, "UInt16"},
		{[]string{file(godal.Int16), file(godal.Byte)}, "Int16"},
		{[]string{file(godal.UInt16), file(godal.Int16)}, ""},
		{[]string{file(godal.Float32)}, ""},
		{[]string{file(godal.Int32)}, ""},
		{[]string{file(godal.UInt16), file(godal.Float32)}, ""},
		{[]string{vrt}, ""},
	} {
		var names []string
		for _, f := range tc.files {
			names = append(names, filepath.Base(f))
		}
		name := strings.Join(names, "+")
		s, err := Open(tc.files...)
		if err != nil {
			t.Fatal(err)
		}
		idx := make([]int, len(tc.files))
		for i := range idx {
			idx[i] = len(idx) - 1 - i // reversed: ReadInts follows the selection
		}
		if err := s.Select(idx); err != nil {
			t.Fatal(err)
		}
		got := s.IntType()
		if got != tc.want {
			t.Errorf("%s: IntType %q, want %q", name, got, tc.want)
		}
		for _, r := range []image.Rectangle{image.Rect(0, 0, 40, 30), image.Rect(3, 17, 29, 30), image.Rect(39, 0, 40, 1)} {
			ref := raster.NewFloat32(len(idx), r)
			if err := s.Read(ref); err != nil {
				t.Fatal(err)
			}
			var ints []float32
			switch got {
			case "Byte":
				ints, err = readInts[uint8](s, r)
			case "UInt16":
				ints, err = readInts[uint16](s, r)
			case "Int16":
				ints, err = readInts[int16](s, r)
			default:
				if _, err := readInts[uint16](s, r); err == nil {
					t.Errorf("%s: ReadInts as uint16 accepted", name)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %v: %v", name, r, err)
			}
			for c := range idx {
				for y := r.Min.Y; y < r.Max.Y; y++ {
					for x := r.Min.X; x < r.Max.X; x++ {
						i := (c*r.Dy()+y-r.Min.Y)*r.Dx() + x - r.Min.X
						if w := ref.Row(c, y)[x-r.Min.X]; ints[i] != w {
							t.Fatalf("%s %v: band %d pixel %d,%d = %g, Read gives %g", name, r, c, x, y, ints[i], w)
						}
					}
				}
			}
		}
		if got == "UInt16" {
			if _, err := readInts[int16](s, image.Rect(0, 0, 4, 4)); err == nil {
				t.Errorf("%s: ReadInts as int16 accepted", name)
			}
			if err := ReadInts(s, make([]uint16, 10), image.Rect(0, 0, 4, 4)); err == nil {
				t.Errorf("%s: a short buffer accepted", name)
			}
			if err := ReadInts(s, make([]uint16, 1000), image.Rect(30, 0, 41, 4)); err == nil {
				t.Errorf("%s: a window outside the scene accepted", name)
			}
		}
		s.Close()
	}
}

// readInts is ReadInts into a new buffer, converted to float32.
func readInts[T uint8 | uint16 | int16](s *Scene, r image.Rectangle) ([]float32, error) {
	buf := make([]T, len(s.sel)*r.Dx()*r.Dy())
	if err := ReadInts(s, buf, r); err != nil {
		return nil, fmt.Errorf("ReadInts: %w", err)
	}
	out := make([]float32, len(buf))
	for i, v := range buf {
		out[i] = float32(v)
	}
	return out, nil
}
