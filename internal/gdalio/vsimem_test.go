package gdalio

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// In-memory files: written whole or streamed, read back, renamed and
// removed through GDAL's VSI; paths outside /vsimem/ are refused.
func TestMemFiles(t *testing.T) {
	dir := MemDir()
	if dir == MemDir() || !IsMem(dir+"/x") {
		t.Fatalf("MemDir %q: not fresh or not in /vsimem/", dir)
	}
	data := bytes.Repeat([]byte("omnimask"), 10000)
	a, b := dir+"/a.bin", dir+"/b.bin"
	if err := WriteMem(a, data); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadMem(a); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadMem: %d bytes, %v", len(got), err)
	}
	if err := renameFile(a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMem(a); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("renamed file still there: %v", err)
	}
	w, err := CreateMem(a)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n, err := CopyMem(&out, a); err != nil || n != int64(3*len(data)) || !bytes.Equal(out.Bytes(), bytes.Repeat(data, 3)) {
		t.Errorf("CopyMem: %d bytes, %v", n, err)
	}
	RemoveMem(a)
	RemoveMem(b)
	for _, p := range []string{a, b} {
		if _, err := ReadMem(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	for _, err := range []error{WriteMem("/tmp/x", nil), renameFile(b, "/tmp/x")} {
		if err == nil || !strings.Contains(err.Error(), "vsimem") && !strings.Contains(err.Error(), "disk") {
			t.Errorf("outside /vsimem/: err = %v", err)
		}
	}
}
