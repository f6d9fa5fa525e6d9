package embed

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
)

// writeIntScene writes a 3-band GeoTIFF (red, green, nir) of GDAL type typ,
// w x h, with value f(c, x, y) and, when nd is not nil, that nodata value.
func writeIntScene(t *testing.T, path string, typ godal.DataType, w, h int, nd *float64, f func(c, x, y int) float64) {
	t.Helper()
	ds, err := godal.Create(godal.GTiff, path, 3, typ, w, h, godal.CreationOption("TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32", "COMPRESS=DEFLATE"))
	if err != nil {
		t.Fatal(err)
	}
	for c, b := range ds.Bands() {
		if err := b.SetDescription([]string{"red", "green", "nir"}[c]); err != nil {
			t.Fatal(err)
		}
		fillBand(t, b, c, w, h, nd, f)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
}

// fillBand sets band c's nodata value nd (none where nil) and writes
// f(c, x, y) into it, w x h.
func fillBand(t *testing.T, b godal.Band, c, w, h int, nd *float64, f func(c, x, y int) float64) {
	t.Helper()
	if nd != nil {
		if err := b.SetNoData(*nd); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]float64, w*h)
	for y := range h {
		for x := range w {
			buf[y*w+x] = f(c, x, y)
		}
	}
	if err := b.Write(0, 0, buf, w, h); err != nil {
		t.Fatal(err)
	}
}

// TestIntRowsMatchFloat embeds integer scenes (Byte, UInt16, Int16) through
// intRows (lookup tables) and through floatRows (the float32 path), and
// requires the encoder's inputs, batch by batch, and the output vectors to
// be identical bit for bit: for each normalisation kind intRows takes,
// with reflectance units and the manifest's per-band scale/offset, with
// nodata values the type holds, cannot hold or lacks, and nodata
// thresholds that keep, drop and half-fill chips.
func TestIntRowsMatchFloat(t *testing.T) {
	gdalio.Register()
	e := chipmean(t)
	orig := *e.Manifest
	defer func() { *e.Manifest = orig }()
	dir := t.TempDir()
	const W, H = 72, 56 // 4x3 chips of 16 px, with leftovers
	f64 := func(v float64) *float64 { return &v }
	types := []struct {
		typ    godal.DataType
		lo, hi float64 // sample range
		want   string  // gdalio.IntType
	}{
		{godal.Byte, 0, 255, "Byte"},
		{godal.UInt16, 0, 65535, "UInt16"},
		{godal.Int16, -32768, 32767, "Int16"},
	}
	norms := []struct {
		name  string
		norm  models.Normalization
		units string // manifest input_units
		o     Options
	}{
		{"none", models.Normalization{Kind: models.None}, "", Options{}},
		{"fixed", models.Normalization{Kind: models.Fixed, Mean: []float64{10.5, -3, 1e3}, Std: []float64{7, 0.1, 333.3}}, "", Options{}},
		{"fixed reflectance", models.Normalization{Kind: models.Fixed, Mean: []float64{0.1, 0.2, 0.3}, Std: []float64{0.05, 0.07, 0.11}},
			models.Reflectance, Options{Scale: 2.75e-05, Offset: -0.2}},
		{"fixed band scale", models.Normalization{Kind: models.Fixed, Mean: []float64{1, 2, 3}, Std: []float64{3, 2, 1},
			Scale: []float64{0.5, 1e-4, 3}, Offset: []float64{0, -1, 0.25}}, "", Options{}},
		{"softcon", models.Normalization{Kind: models.SoftCon, Mean: []float64{40, 1000, -20}, Std: []float64{30, 800, 10}}, "", Options{}},
		{"softcon unit reflectance", models.Normalization{Kind: models.SoftCon, Mean: []float64{0.1, 0.2, 0.3}, Std: []float64{0.05, 0.07, 0.11}, Unit: true},
			models.Reflectance, Options{Scale: 1e-4, Offset: 0.01}},
	}
	for _, ty := range types {
		nodata := ty.lo + 7 // a value the type holds, not its zero
		val := func(c, x, y int) float64 {
			cx, cy := x/16, y/16
			switch {
			case cx == 1 && cy == 0, // an all-nodata chip
				cx == 2 && cy == 1 && x%16 < 5: // a chip with 80 of 256 px nodata
				return nodata
			case c == 1 && cx == 0 && cy == 2: // one band at nodata: valid pixels
				return nodata
			}
			// Spread over the type's whole range, extremes included.
			k := (c*7919 + x*104729 + y*1299709) % 4099
			switch k % 13 {
			case 0:
				return ty.lo
			case 1:
				return ty.hi
			}
			return ty.lo + math.Floor(float64(k)/4098*(ty.hi-ty.lo))
		}
		scene := filepath.Join(dir, fmt.Sprintf("%s.tif", ty.want))
		for _, nd := range []struct {
			name string
			v    *float64
		}{{"nodata", f64(nodata)}, {"no nodata", nil}, {"nodata outside the type", f64(ty.hi + 1)}, {"fractional nodata", f64(nodata + 0.5)}} {
			writeIntScene(t, scene, ty.typ, W, H, nd.v, val)
			s, err := gdalio.Open(scene)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Select([]int{0, 1, 2}); err != nil {
				t.Fatal(err)
			}
			if got := s.IntType(); got != ty.want {
				t.Errorf("%s: IntType %q, want %q", scene, got, ty.want)
			}
			s.Close()
			for _, nm := range norms {
				for _, maxND := range []float64{0, 0.3, 1} {
					name := fmt.Sprintf("%s/%s/%s/max %g", ty.want, nd.name, nm.name, maxND)
					m := orig
					m.Normalization, m.InputUnits = nm.norm, nm.units
					if err := m.Validate(); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					*e.Manifest = m
					var ins [2][][]float32
					var outs [2][][]float32
					for k, float := range []bool{false, true} {
						o := nm.o
						o.Chip, o.Stride, o.Batch, o.MaxNoData, o.floatRows = 16, 16, 5, maxND, float
						o.onBatch = func(in []float32, n int) { ins[k] = append(ins[k], slices.Clone(in)) }
						src, err := openScene(e, []string{scene}, nil, o)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						_, isFloat := newChipRows(src.s, src.norm, 16, 16, float).(*floatRows)
						src.s.Close()
						if isFloat != float {
							t.Fatalf("%s: float path %v, want %v", name, isFloat, float)
						}
						out := filepath.Join(dir, fmt.Sprintf("emb%d.tif", k))
						if _, err := Chips(context.Background(), e, []string{scene}, out, o); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						_, outs[k] = readVectors(t, out)
					}
					if len(ins[0]) != len(ins[1]) || len(ins[0]) == 0 {
						t.Fatalf("%s: %d and %d batches", name, len(ins[0]), len(ins[1]))
					}
					for b := range ins[0] {
						if len(ins[0][b]) != len(ins[1][b]) {
							t.Fatalf("%s: batch %d: %d and %d values", name, b, len(ins[0][b]), len(ins[1][b]))
						}
						for i, v := range ins[0][b] {
							if math.Float32bits(v) != math.Float32bits(ins[1][b][i]) {
								t.Fatalf("%s: batch %d value %d: lookup %g, float32 path %g", name, b, i, v, ins[1][b][i])
							}
						}
					}
					for d := range outs[0] {
						for i, v := range outs[0][d] {
							if math.Float32bits(v) != math.Float32bits(outs[1][d][i]) {
								t.Fatalf("%s: vector %d value %d: %g and %g", name, i, d, v, outs[1][d][i])
							}
						}
					}
				}
			}
		}
	}
}

func TestLookup(t *testing.T) {
	lut := new([1 << 16]float32)
	for i := range lut {
		lut[i] = float32(i)*0.5 - 7
	}
	for n := range 21 {
		row := make([]int16, n)
		for i := range row {
			row[i] = int16(i%3*4099 - 30000) // each value several times
		}
		o := make([]float32, n+1)
		o[n] = 42
		for _, nd := range []int16{-30000, 4099 - 30000, 1} { // present from 1 and 2 samples on, never
			for _, count := range []bool{false, true} {
				clear(o[:n])
				got, want := 0, 0
				if count {
					got = lookupCount(o, row, lut, nd)
				} else {
					lookup(o, row, lut)
				}
				for i, v := range row {
					if w := lut[uint16(v)]; o[i] != w {
						t.Fatalf("n %d: o[%d] = %g, want %g", n, i, o[i], w)
					}
					if count && v == nd {
						want++
					}
				}
				if got != want {
					t.Errorf("n %d: lookupCount counted %d of %d, want %d", n, got, nd, want)
				}
				if o[n] != 42 {
					t.Fatalf("n %d: wrote past the row", n)
				}
			}
		}
	}
}

func TestWindowSpan(t *testing.T) {
	for _, tc := range []struct{ cs, stride, C, w, size, want int }{
		{32, 32, 3, 5490, 2, 256},         // 8 chip rows of the benchmark scene (8.4 MB)
		{32, 8, 3, 5490, 2, 256},          // 29 chip rows sharing rows
		{16, 5, 3, 100, 1, 256},           // 49 chip rows
		{512, 512, 3, 1000, 2, 512},       // one chip row, larger than the window rows
		{32, 32, 13, 100000, 2, 32},       // one chip row: two would be over 32 MiB
		{32, 16, 4, 20000, 2, 32 + 16*11}, // 12 chip rows fit 32 MiB
	} {
		if got := windowSpan(tc.cs, tc.stride, tc.C, tc.w, tc.size); got != tc.want {
			t.Errorf("windowSpan%v = %d, want %d", tc, got, tc.want)
		}
	}
}

// TestIntRowsWindows runs a scene taller than one read window, chip grids
// with and without shared rows, through intRows and floatRows: the
// encoder's inputs and outputs are identical bit for bit.
func TestIntRowsWindows(t *testing.T) {
	gdalio.Register()
	e := chipmeanFixed(t)
	dir := t.TempDir()
	scene := filepath.Join(dir, "tall.tif")
	nd := 0.0
	writeIntScene(t, scene, godal.UInt16, 40, 600, &nd, func(c, x, y int) float64 {
		if y >= 250 && y < 270 && x < 20 || y > 590 { // nodata across a window edge, and at the bottom
			return 0
		}
		return float64((c*131 + x*17 + y*7) % 3000)
	})
	for _, stride := range []int{16, 8, 5} {
		var ins [2][]float32
		var outs [2][][]float32
		for k, float := range []bool{false, true} {
			o := Options{Chip: 16, Stride: stride, Batch: 7, floatRows: float}
			o.onBatch = func(in []float32, n int) { ins[k] = append(ins[k], in...) }
			out := filepath.Join(dir, fmt.Sprintf("emb%d.tif", k))
			if _, err := Chips(context.Background(), e, []string{scene}, out, o); err != nil {
				t.Fatal(err)
			}
			_, outs[k] = readVectors(t, out)
		}
		if len(ins[0]) != len(ins[1]) || len(ins[0]) == 0 {
			t.Fatalf("stride %d: %d and %d input values", stride, len(ins[0]), len(ins[1]))
		}
		for i, v := range ins[0] {
			if math.Float32bits(v) != math.Float32bits(ins[1][i]) {
				t.Fatalf("stride %d: input value %d: %g, float32 path %g", stride, i, v, ins[1][i])
			}
		}
		for d := range outs[0] {
			for i, v := range outs[0][d] {
				if math.Float32bits(v) != math.Float32bits(outs[1][d][i]) {
					t.Fatalf("stride %d: vector %d value %d: %g and %g", stride, i, d, v, outs[1][d][i])
				}
			}
		}
	}
}
