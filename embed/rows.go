package embed

import (
	"image"
	"slices"
	"unsafe"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/models"
	"github.com/omnimask/omnimask/preprocess"
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
	// window is the number of chip rows read together (intRows: one
	// read of the scene), 0 for all of them: runChips ends batches where
	// windows end and hands whole windows to its readers.
	window() int
}

// cloner is a chipRows that can read through another handle of its scene
// (gdalio.Scene.Reopen), for runChips' readers beyond the first: the clone
// has buffers of its own and shares the read-only lookup tables.
type cloner interface {
	clone(s *gdalio.Scene) chipRows
}

// newChipRows returns the reader of cs-row chip rows of s: for bands of
// 8- or 16-bit integers (gdalio.IntType) and a normalisation that does not
// depend on the chip, intRows, which normalises through lookup tables;
// otherwise floatRows. Both give the same values bit for bit.
func newChipRows(s *gdalio.Scene, norm *normalizer, cs, stride int, forceFloat bool) chipRows {
	if !forceFloat && norm.m.Normalization.Kind != models.ZScore {
		switch s.IntType() {
		case "Byte":
			return newIntRows[uint8](s, norm, cs, stride)
		case "UInt16":
			return newIntRows[uint16](s, norm, cs, stride)
		case "Int16":
			return newIntRows[int16](s, norm, cs, stride)
		}
	}
	return &floatRows{s: s, norm: norm, cs: cs, strip: raster.NewFloat32(len(norm.nodata), image.Rect(0, 0, s.Size.X, cs)),
		n: chipRowsPer(windowSpan(cs, stride, len(norm.nodata), s.Size.X, 4), cs, stride)}
}

// chipRowsPer is the chip rows of cs rows every stride rows in span rows
// (windowSpan's).
func chipRowsPer(span, cs, stride int) int { return (span-cs)/stride + 1 }

// floatRows reads chip rows as float32 and normalises them with normalizer
// (validity, then chip).
type floatRows struct {
	s      *gdalio.Scene
	norm   *normalizer
	strip  *raster.Float32
	cs, y0 int
	n      int // chip rows per window (read one at a time, windows as intRows')
}

func (f *floatRows) window() int { return f.n }

func (f *floatRows) clone(s *gdalio.Scene) chipRows {
	norm := *f.norm // its validity buffer is per reader
	norm.valid = nil
	return &floatRows{s: s, norm: &norm, cs: f.cs, n: f.n, strip: raster.NewFloat32(f.strip.C, image.Rect(0, 0, s.Size.X, f.cs))}
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
	s   *gdalio.Scene
	lut []*[1 << 16]float32 // per band, indexed by uint16(sample)
	// A pixel is nodata when every band of ndc (those with a nodata
	// value, preprocess.NoDataChannels) holds its value ndv (anyN: each
	// of them is a value of T, so pixels may be nodata). Integers are
	// never NaN or ±Inf.
	ndc  []int
	ndv  []T
	anyN bool
	fill float32
	cs   int
	// The rows are read in windows of up to span rows, several chip rows
	// at once: fewer, larger reads cost GDAL less (10 % of the reading on
	// the benchmark scene), and with a stride under the chip size the rows
	// chip rows share are read once but at the windows' edges.
	buf   []T // the window: C planes of its rows x width
	span  int // rows a window holds at most
	wy    int // the window's first row
	wh    int // its rows (0: none read)
	plane int // wh x width
	off   int // the current chip row's first row in the window
	n     int // chip rows per window
}

func (k *intRows[T]) window() int { return k.n }

func (k *intRows[T]) clone(s *gdalio.Scene) chipRows {
	c := *k
	c.s, c.buf, c.wh = s, make([]T, len(k.buf)), 0
	return &c
}

// Windows hold about windowRows rows (a whole number of chip rows), within
// windowBytes.
const (
	windowRows  = 256
	windowBytes = 32 << 20
)

// windowSpan is the rows of a window of chip rows of cs rows every stride
// rows, of C bands of w samples of size bytes.
func windowSpan(cs, stride, C, w, size int) int {
	n := max(1, (windowRows-cs)/stride+1) // chip rows per window
	if per := C * w * size * stride; n > 1 && C*w*size*cs+(n-1)*per > windowBytes {
		n = max(1, (windowBytes-C*w*size*cs)/per+1)
	}
	return cs + (n-1)*stride
}

func newIntRows[T sample](s *gdalio.Scene, norm *normalizer, cs, stride int) *intRows[T] {
	C := len(norm.nodata)
	span := windowSpan(cs, stride, C, s.Size.X, int(unsafe.Sizeof(T(0))))
	k := &intRows[T]{s: s, lut: make([]*[1 << 16]float32, C),
		fill: norm.m.NoDataFill, cs: cs, span: span, buf: make([]T, C*span*s.Size.X), n: chipRowsPer(span, cs, stride)}
	chans, vals := preprocess.NoDataChannels(norm.nodata) // predict's rule, as normalizer.validity
	k.ndc, k.ndv, k.anyN = chans, make([]T, len(chans)), len(chans) > 0
	for c := range C {
		f, at := norm.static(c), slices.Index(chans, c)
		lut, found := new([1 << 16]float32), false
		for i := range 1 << 16 {
			v := T(i) // wraps for uint8 and int16: every sample value, at index uint16(v)
			lut[uint16(v)] = f(float64(v))
			if at >= 0 && float32(v) == vals[c] { // exact: 16-bit integers are float32 values
				k.ndv[at], found = v, true
			}
		}
		k.lut[c] = lut
		if at >= 0 && !found {
			k.anyN = false // no sample holds band c's value: no pixel is nodata
		}
	}
	return k
}

func (k *intRows[T]) read(y0 int) error {
	if k.wh == 0 || y0 < k.wy || y0+k.cs > k.wy+k.wh {
		k.wy, k.wh = y0, min(k.span, k.s.Size.Y-y0)
		k.plane = k.wh * k.s.Size.X
		if err := gdalio.ReadInts(k.s, k.buf, image.Rect(0, k.wy, k.s.Size.X, k.wy+k.wh)); err != nil {
			k.wh = 0
			return err
		}
	}
	k.off = (y0 - k.wy) * k.s.Size.X
	return nil
}

// nodata reports whether pixel i of the window (row*width + column) is
// nodata: every band of ndc at its nodata value (anyN must hold).
func (k *intRows[T]) nodata(i, plane int) bool {
	for j, c := range k.ndc {
		if k.buf[c*plane+i] != k.ndv[j] {
			return false
		}
	}
	return true
}

func (k *intRows[T]) chip(dst []float32, x0 int, maxND float64) bool {
	cs, w, plane := k.cs, k.s.Size.X, k.plane
	np, o0 := cs*cs, k.off+x0 // the chip's top-left pixel in the window
	// The first band with a nodata value (f) is looked up while its
	// samples at that value are counted: only such pixels can be nodata,
	// so a chip without any (most) is all valid after one pass over each
	// band.
	f, cand := 0, 0
	if k.anyN {
		f = k.ndc[0]
	}
	for y := range cs {
		row, o := k.buf[f*plane+o0+y*w:f*plane+o0+y*w+cs], dst[f*np+y*cs:f*np+(y+1)*cs]
		if k.anyN {
			cand += lookupCount(o, row, k.lut[f], k.ndv[0])
		} else {
			lookup(o, row, k.lut[f])
		}
	}
	bad := 0
	if cand > 0 {
		for y := range cs {
			for x, v := range k.buf[f*plane+o0+y*w : f*plane+o0+y*w+cs] {
				if v == k.ndv[0] && k.nodata(o0+y*w+x, plane) {
					bad++
				}
			}
		}
	}
	if float64(bad) > maxND*float64(np) || bad == np {
		return false
	}
	for c, lut := range k.lut {
		if c == f && bad == 0 {
			continue // looked up above
		}
		out := dst[c*np : (c+1)*np]
		for y := range cs {
			row := k.buf[c*plane+o0+y*w : c*plane+o0+y*w+cs]
			o := out[y*cs : y*cs+len(row)]
			if bad == 0 {
				lookup(o, row, lut)
				continue
			}
			for x, v := range row {
				if k.nodata(o0+y*w+x, plane) {
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

// lookupCount is lookup that also returns how many samples of row equal nd.
func lookupCount[T sample](o []float32, row []T, lut *[1 << 16]float32, nd T) int {
	o = o[:len(row)]
	n, x := 0, 0
	for ; x+8 <= len(row); x += 8 {
		r, d := (*[8]T)(row[x:]), (*[8]float32)(o[x:])
		d[0], d[1], d[2], d[3] = lut[uint16(r[0])], lut[uint16(r[1])], lut[uint16(r[2])], lut[uint16(r[3])]
		d[4], d[5], d[6], d[7] = lut[uint16(r[4])], lut[uint16(r[5])], lut[uint16(r[6])], lut[uint16(r[7])]
		if r[0] == nd || r[1] == nd || r[2] == nd || r[3] == nd || r[4] == nd || r[5] == nd || r[6] == nd || r[7] == nd {
			for _, v := range r {
				if v == nd {
					n++
				}
			}
		}
	}
	for ; x < len(row); x++ {
		o[x] = lut[uint16(row[x])]
		if row[x] == nd {
			n++
		}
	}
	return n
}
