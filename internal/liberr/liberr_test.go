package liberr

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestError(t *testing.T) {
	cause := errors.New("TIFFReadEncodedTile() failed.\nmore detail\n")
	sentinel := errors.New("not a raster")
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "reading band 2 rows 0-9", Path: "a.tif", Err: cause}, "a.tif: reading band 2 rows 0-9: TIFFReadEncodedTile() failed."},
		{&Error{Path: "a.tif", Err: cause}, "a.tif: TIFFReadEncodedTile() failed."},
		{&Error{Op: "set CRS", Err: cause}, "set CRS: TIFFReadEncodedTile() failed."},
		{&Error{Op: "close", Path: "m.onnx"}, "m.onnx: close"},
		{&Error{Path: "x", Err: errors.Join(sentinel, cause)}, "x: not a raster"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%#v: %q, want %q", tt.err, got, tt.want)
		}
	}
	var err error = &Error{Path: "x", Err: errors.Join(sentinel, &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist})}
	var le *Error
	var pe *fs.PathError
	if !errors.As(err, &le) || le.Path != "x" || !errors.Is(err, sentinel) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) {
		t.Errorf("errors.Is/As do not reach through %v", err)
	}
}

// Mark classifies without rewording: the message is err's, errors.Is finds
// both the kind and err's own chain.
func TestMark(t *testing.T) {
	kind := errors.New("kind")
	cause := errors.New("cause")
	err := fmt.Errorf("f.tif: %w", cause)
	m := Mark(err, kind)
	if m.Error() != "f.tif: cause" || !errors.Is(m, kind) || !errors.Is(m, cause) || errors.Unwrap(m) != err {
		t.Errorf("Mark: %q, Is kind %v, Is cause %v", m, errors.Is(m, kind), errors.Is(m, cause))
	}
	if Mark(nil, kind) != nil {
		t.Error("Mark(nil) is not nil")
	}
}
