package gdalio

import (
	"fmt"
	"image"
	"io"
	"strings"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/liberr"
)

// OverviewBlock is the tile size of the COGs written here; overview levels
// halve the size until it fits in one tile, as GDAL's COG driver does.
const OverviewBlock = 512

// OverviewSizes returns the sizes of the overview levels of a raster of the
// given size: each level is half the one below (rounded up), down to the
// first that fits in one OverviewBlock tile.
func OverviewSizes(size image.Point) []image.Point {
	var out []image.Point
	for f := 2; ; f *= 2 {
		prev := image.Pt(ceilDiv(size.X, f/2), ceilDiv(size.Y, f/2))
		if prev.X <= OverviewBlock && prev.Y <= OverviewBlock {
			return out
		}
		out = append(out, image.Pt(ceilDiv(size.X, f), ceilDiv(size.Y, f)))
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// ModeRow reduces two rows of a class raster (b nil for a last, unpaired
// row) into one row of half the width: each output pixel is the most
// frequent value of its 2x2 block, nodata (nd, -1 for none) ignored unless
// the whole block is nodata; of equally frequent values the one whose count
// reaches the maximum first in reading order wins. This is GDAL's MODE
// overview resampling at factor 2.
func ModeRow(dst, a, b []uint8, nd int) {
	n := len(a)
	for x := range dst {
		i := 2 * x
		if i+1 < n && b != nil {
			v0, v1, v2, v3 := a[i], a[i+1], b[i], b[i+1]
			if v0 == v1 && v0 == v2 && v0 == v3 {
				dst[x] = v0
				continue
			}
			v := [4]uint8{v0, v1, v2, v3}
			dst[x] = mode(v[:], nd)
			continue
		}
		var v [4]uint8
		k := 0
		for _, r := range [][]uint8{a, b} {
			if r == nil {
				continue
			}
			for j := i; j < min(i+2, n); j++ {
				v[k] = r[j]
				k++
			}
		}
		dst[x] = mode(v[:k], nd)
	}
}

// mode returns the most frequent value of v other than nd, or nd when every
// value is nd. Of equally frequent values it returns the one whose count
// reaches the maximum first in order, as GDAL does.
func mode(v []uint8, nd int) uint8 {
	best, most := nd, 0
	for i, x := range v {
		if int(x) == nd {
			continue
		}
		n := 1
		for _, y := range v[:i] {
			if y == x {
				n++
			}
		}
		if n > most {
			best, most = int(x), n
		}
	}
	return uint8(best)
}

// pyramid builds the MODE overviews of a one-band uint8 raster from its
// full-width rows as they are written top to bottom, so that the COG copy
// at Commit only has to compress: GDAL would otherwise read the whole mask
// back and compute them after the model has finished (two thirds of the
// copy's time). Each level goes to its own temporary GeoTIFF.
type pyramid struct {
	nd     int
	levels []*level
	next   int // next full-resolution row expected
	height int
}

// level is one overview level being built.
type level struct {
	size  image.Point
	below int     // rows of the level below
	in    int     // rows received from the level below
	pend  []uint8 // even row from below, waiting for its pair
	buf   []uint8 // rows produced and not yet written
	y0, n int     // first row and count in buf
	path  string
	ds    *godal.Dataset
}

const pyramidRows = 256 // rows a level buffers between writes

func newPyramid(tmp string, size image.Point, nd int) (*pyramid, error) {
	p := &pyramid{nd: nd, height: size.Y}
	below := size
	for i, s := range OverviewSizes(size) {
		l := &level{size: s, below: below.Y, pend: make([]uint8, below.X),
			buf: make([]uint8, s.X*min(pyramidRows, s.Y)), path: fmt.Sprintf("%s.ovr%d.tif", strings.TrimSuffix(tmp, ".tif"), i+1)}
		ds, err := godal.Create(godal.GTiff, l.path, 1, godal.Byte, s.X, s.Y,
			godal.CreationOption("TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=NONE", "BIGTIFF=IF_SAFER"))
		if err != nil {
			p.remove()
			return nil, &liberr.Error{Op: "create overview", Err: err}
		}
		l.ds = ds
		p.levels = append(p.levels, l)
		below = s
	}
	return p, nil
}

// add takes full-resolution rows [y0, y0+len(data)/w) of width w. It
// reports false (and builds nothing more) when the rows do not continue
// the ones before: the caller then leaves the overviews to GDAL.
func (p *pyramid) add(y0, w int, data []uint8) (bool, error) {
	if y0 != p.next || len(p.levels) == 0 {
		return false, nil
	}
	for y := 0; y*w < len(data); y++ {
		if err := p.feed(0, data[y*w:(y+1)*w]); err != nil {
			return false, err
		}
	}
	p.next += len(data) / w
	return true, nil
}

// feed gives level i the next row of the level below.
func (p *pyramid) feed(i int, row []uint8) error {
	l := p.levels[i]
	y := l.in
	l.in++
	if y%2 == 0 && y+1 < l.below {
		copy(l.pend, row)
		return nil
	}
	a, b := row, []uint8(nil)
	if y%2 == 1 {
		a, b = l.pend, row
	}
	out := l.buf[l.n*l.size.X : (l.n+1)*l.size.X]
	ModeRow(out, a, b, p.nd)
	l.n++
	if i+1 < len(p.levels) {
		if err := p.feed(i+1, out); err != nil {
			return err
		}
	}
	if l.n*l.size.X == len(l.buf) || l.y0+l.n == l.size.Y {
		return l.flush()
	}
	return nil
}

func (l *level) flush() error {
	if l.n == 0 {
		return nil
	}
	if err := l.ds.Bands()[0].Write(0, l.y0, l.buf[:l.n*l.size.X], l.size.X, l.n); err != nil {
		return &liberr.Error{Op: "write overview", Err: err}
	}
	l.y0 += l.n
	l.n = 0
	return nil
}

// complete reports whether every row has been received.
func (p *pyramid) complete() bool { return p.next == p.height }

// close closes the level files, keeping them for the COG copy.
func (p *pyramid) close() error {
	var first error
	for _, l := range p.levels {
		if l.ds != nil {
			if err := l.ds.Close(); err != nil && first == nil {
				first = &liberr.Error{Op: "write overview", Err: err}
			}
			l.ds = nil
		}
	}
	return first
}

// remove closes and deletes the level files.
func (p *pyramid) remove() {
	p.close()
	for _, l := range p.levels {
		removeFile(l.path)
	}
}

// withOverviews returns a VRT (as XML, which GDAL opens as a dataset name)
// of the file at path with the pyramid's levels declared as its overviews.
func (p *pyramid) withOverviews(ds *godal.Dataset) (string, error) {
	// In a folder of its own, so that GDAL never writes the source's
	// name relative to the VRT (an in-memory output's would be).
	name := fmt.Sprintf("/vsimem/omnimask-vrt-%p/overviews.vrt", p)
	vrt, err := ds.Translate(name, []string{"-of", "VRT"})
	if err != nil {
		return "", &liberr.Error{Op: "describe output", Err: err}
	}
	defer godal.VSIUnlink(name)
	if err := vrt.Close(); err != nil {
		return "", &liberr.Error{Op: "describe output", Err: err}
	}
	f, err := godal.VSIOpen(name)
	if err != nil {
		return "", &liberr.Error{Op: "describe output", Err: err}
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return "", &liberr.Error{Op: "describe output", Err: err}
	}
	xml := string(data)
	end := strings.LastIndex(xml, "</VRTRasterBand>")
	if end < 0 {
		return "", fmt.Errorf("describe output: unexpected VRT %.80q", xml)
	}
	var ovr strings.Builder
	for _, l := range p.levels {
		fmt.Fprintf(&ovr, "<Overview><SourceFilename relativeToVRT=\"0\">%s</SourceFilename><SourceBand>1</SourceBand></Overview>\n", xmlEscape(l.path))
	}
	return xml[:end] + ovr.String() + xml[end:], nil
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
