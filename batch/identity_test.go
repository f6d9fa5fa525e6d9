package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/testutil"
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

// TestWriteAtomic: the file is written whole with mode 0644 through a
// temporary named as gdalio names its own (DEST.tmp-PID-RANDOM), which a
// failed rename leaves behind nowhere.
func TestWriteAtomic(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "summary.csv")
	if err := writeAtomic(p, []byte("a,b\n")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "a,b\n" {
		t.Errorf("read back %q, %v", b, err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", st.Mode(), err)
	}
	// A destination that is a folder with a file in it cannot be replaced.
	dest := filepath.Join(d, "stamp.json")
	touch(t, filepath.Join(dest, "x"), "")
	err := writeAtomic(dest, []byte("{}"))
	var le *os.LinkError
	if !errors.As(err, &le) {
		t.Fatalf("writeAtomic over a folder: %v, want a rename error", err)
	}
	if prefix := fmt.Sprintf("stamp.json.tmp-%d-", os.Getpid()); !strings.HasPrefix(filepath.Base(le.Old), prefix) {
		t.Errorf("temporary %s, want %s…", filepath.Base(le.Old), prefix)
	}
	if names := testutil.DirNames(t, d); strings.Join(names, ",") != "stamp.json,summary.csv" {
		t.Errorf("left %v", names)
	}
}
