package batch

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
)

// TestSum: Sum and ModelHash (of a model file without a sidecar) give the
// file's size and SHA-256; a missing file is fs.ErrNotExist.
func TestSum(t *testing.T) {
	d := t.TempDir()
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // SHA-256("abc")
	p := touch(t, filepath.Join(d, "m.onnx"), "abc")
	if s, err := Sum(p); err != nil || s != (FileSum{Size: 3, SHA256: abc}) {
		t.Errorf("Sum = %+v, %v; want 3 bytes, %s", s, err, abc)
	}
	if h, err := ModelHash(p); err != nil || h != abc {
		t.Errorf("ModelHash = %s, %v; want %s", h, err, abc)
	}
	empty := touch(t, filepath.Join(d, "empty"), "")
	if s, err := Sum(empty); err != nil || s.Size != 0 || s.SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("Sum(empty) = %+v, %v", s, err)
	}
	if _, err := Sum(filepath.Join(d, "gone")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Sum(missing) = %v, want fs.ErrNotExist", err)
	}
}
