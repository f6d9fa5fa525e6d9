package embed

import (
	"image"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/raster"
)

// chipRows reads the scene one chip row at a time and fills the encoder's
// input for each chip of the row read.
type chipRows interface {
	// read reads the cs rows of the scene from y0.
	read(y0 int) error
	// chip fills dst (C x cs x cs) with the normalised chip at column x0
	// of the row read and reports whether its nodata fraction is at most
	// maxND (dst is left undefined when not).
	chip(dst []float32, x0 int, maxND float64) bool
}

// newChipRows returns the reader of cs-row chip rows of s: for bands of
// 8- or 16-bit integers (gdalio.IntType) and a normalisation that does not
// depend on the chip, intRows, which normalises through lookup tables;
// otherwise floatRows. Both give the same values bit for bit.
func newChipRows(s *gdalio.Scene, norm *normalizer, cs int, forceFloat bool) chipRows {
	if !forceFloat && norm.m.Normalization.Kind != models.ZScore {
		switch s.IntType() {
		case "Byte":
			return newIntRows[uint8](s, norm, cs)
		case "UInt16":
			return newIntRows[uint16](s, norm, cs)
		case "Int16":
			return newIntRows[int16](s, norm, cs)
		}
	}
	return &floatRows{s: s, norm: norm, cs: cs, strip: raster.NewFloat32(len(norm.nodata), image.Rect(0, 0, s.Size.X, cs))}
}

// floatRows reads chip rows as float32 and normalises them with normalizer
// (validity, then chip).
type floatRows struct {
	s      *gdalio.Scene
	norm   *normalizer
	strip  *raster.Float32
	cs, y0 int
}

func (f *floatRows) read(y0 int) error {
	f.y0 = y0
	f.strip.Rect = image.Rect(0, y0, f.s.Size.X, y0+f.cs)
	if err := f.s.Read(f.strip); err != nil {
		return err
	}
	f.norm.validity(f.strip)
	return nil
}

func (f *floatRows) chip(dst []float32, x0 int, maxND float64) bool {
	return f.norm.chip(dst, f.strip, x0, f.y0, f.cs, f.cs, maxND)
}

// sample is the type of scene bands intRows reads (gdalio.ReadInts).
type sample interface{ uint8 | uint16 | int16 }

// intRows reads chip rows of integer bands as they are stored and
// normalises each sample by table lookup: a band's table holds the
// normalizer's value (normalizer.static) for every sample value, so the
// encoder's input is bit for bit floatRows' while the row is read, checked
// for nodata and normalised in one pass over compact samples.
type intRows[T sample] struct {
	s    *gdalio.Scene
	lut  []*[1 << 16]float32 // per band, indexed by uint16(sample)
	nd   []T                 // per band: its nodata value
	anyN bool                // every band has a nodata value its type holds: pixels may be nodata
	fill float32
	buf  []T // C x cs x width
	cs   int
}

func newIntRows[T sample](s *gdalio.Scene, norm *normalizer, cs int) *intRows[T] {
	C := len(norm.nodata)
	k := &intRows[T]{s: s, lut: make([]*[1 << 16]float32, C), nd: make([]T, C), anyN: true,
		fill: norm.m.NoDataFill, buf: make([]T, C*cs*s.Size.X), cs: cs}
	for c := range C {
		f, nd := norm.static(c), norm.nodata[c]
		lut, found := new([1 << 16]float32), false
		for i := range 1 << 16 {
			v := T(i) // wraps for uint8 and int16: every sample value, at index uint16(v)
			lut[uint16(v)] = f(float64(v))
			if nd.Set && float64(v) == nd.Value { // as normalizer.validity compares
				k.nd[c], found = v, true
			}
		}
		k.lut[c] = lut
		k.anyN = k.anyN && found
	}
	return k
}

func (k *intRows[T]) read(y0 int) error {
	return gdalio.ReadInts(k.s, k.buf, image.Rect(0, y0, k.s.Size.X, y0+k.cs))
}

// nodata reports whether pixel i of the strip (row*width + column) is
// nodata: every band at its nodata value. Integers are never NaN or ±Inf.
func (k *intRows[T]) nodata(i, plane int) bool {
	for c, nd := range k.nd {
		if k.buf[c*plane+i] != nd {
			return false
		}
	}
	return true
}

func (k *intRows[T]) chip(dst []float32, x0 int, maxND float64) bool {
	cs, w := k.cs, k.s.Size.X
	np, plane := cs*cs, cs*w
	bad := 0
	if k.anyN {
		nd0 := k.nd[0]
		for y := range cs {
			for x, v := range k.buf[y*w+x0 : y*w+x0+cs] {
				if v == nd0 && k.nodata(y*w+x0+x, plane) {
					bad++
				}
			}
		}
	}
	if float64(bad) > maxND*float64(np) || bad == np {
		return false
	}
	for c, lut := range k.lut {
		out := dst[c*np : (c+1)*np]
		for y := range cs {
			row := k.buf[c*plane+y*w+x0 : c*plane+y*w+x0+cs]
			o := out[y*cs : y*cs+len(row)]
			if bad == 0 {
				lookup(o, row, lut)
				continue
			}
			for x, v := range row {
				if k.nodata(y*w+x0+x, plane) {
					o[x] = k.fill
				} else {
					o[x] = lut[uint16(v)]
				}
			}
		}
	}
	return true
}

// lookup sets o[x] to lut[uint16(row[x])] for every x, eight at a time
// (without bounds checks) then one at a time.
func lookup[T sample](o []float32, row []T, lut *[1 << 16]float32) {
	o = o[:len(row)]
	x := 0
	for ; x+8 <= len(row); x += 8 {
		r, d := (*[8]T)(row[x:]), (*[8]float32)(o[x:])
		d[0], d[1], d[2], d[3] = lut[uint16(r[0])], lut[uint16(r[1])], lut[uint16(r[2])], lut[uint16(r[3])]
		d[4], d[5], d[6], d[7] = lut[uint16(r[4])], lut[uint16(r[5])], lut[uint16(r[6])], lut[uint16(r[7])]
	}
	for ; x < len(row); x++ {
		o[x] = lut[uint16(row[x])]
	}
}
