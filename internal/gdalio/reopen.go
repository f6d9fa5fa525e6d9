package gdalio

import (
	"fmt"
	"slices"
)

// Reopen opens the files of s once more as a scene of its own, with the
// same bands selected: another handle on the same pixels, for reading from
// another goroutine (a Scene is used from one goroutine at a time). The
// files must still be what they were: a scene of another size or other
// bands is refused. The caller closes it.
func (s *Scene) Reopen() (*Scene, error) {
	r, err := Open(s.Paths...)
	if err != nil {
		return nil, err
	}
	changed := ""
	switch {
	case r.Size != s.Size:
		changed = s.Paths[0]
	case len(r.Bands) != len(s.Bands):
		changed = s.Paths[len(s.Paths)-1]
	}
	for i := 0; changed == "" && i < len(r.Bands); i++ {
		if rb, sb := r.Bands[i], s.Bands[i]; rb.Type != sb.Type || rb.File != sb.File || rb.Index != sb.Index {
			changed = s.Paths[sb.File]
		}
	}
	if changed != "" {
		r.Close()
		return nil, fmt.Errorf("%s: changed since it was opened (opened again for another reader)", changed)
	}
	r.Bands = slices.Clone(s.Bands) // as s sees them (nodata, names)
	r.sel = slices.Clone(s.sel)
	return r, nil
}
