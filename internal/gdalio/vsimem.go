package gdalio

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <string.h>
#include <cpl_vsi.h>
#include <cpl_conv.h>

static int omnimask_vsimem_put(const char *path, const void *data, size_t n) {
	GByte *buf = (GByte *)VSIMalloc(n ? n : 1);
	if (buf == NULL) return 0;
	if (n) memcpy(buf, data, n);
	VSILFILE *f = VSIFileFromMemBuffer(path, buf, (vsi_l_offset)n, TRUE);
	if (f == NULL) { VSIFree(buf); return 0; }
	VSIFCloseL(f);
	return 1;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/airbusgeo/godal"
)

// GDAL's in-memory file system (/vsimem/): files that never touch the disk,
// for scenes received as bytes and masks returned as bytes.

// IsMem reports whether path is in GDAL's in-memory file system.
func IsMem(path string) bool { return strings.HasPrefix(path, "/vsimem/") }

var memSeq atomic.Uint64

// MemDir returns a fresh, unique /vsimem/ folder name (nothing is created:
// in-memory folders exist implicitly).
func MemDir() string {
	return fmt.Sprintf("/vsimem/omnimask-%d-%d", os.Getpid(), memSeq.Add(1))
}

// WriteMem stores a copy of data as the in-memory file path.
func WriteMem(path string, data []byte) error {
	if !IsMem(path) {
		return fmt.Errorf("%s: not a /vsimem/ path", path)
	}
	Register()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	if C.omnimask_vsimem_put(cpath, p, C.size_t(len(data))) == 0 {
		return fmt.Errorf("%s: cannot create the in-memory file (%d bytes)", path, len(data))
	}
	return nil
}

// ReadMem returns a copy of the in-memory file path.
func ReadMem(path string) ([]byte, error) {
	if !IsMem(path) {
		return nil, fmt.Errorf("%s: not a /vsimem/ path", path)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var n C.vsi_l_offset
	buf := C.VSIGetMemFileBuffer(cpath, &n, C.FALSE)
	if buf == nil {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	return C.GoBytes(unsafe.Pointer(buf), C.int(n)), nil
}

// removeFile deletes a file, local or in GDAL's in-memory file system.
func removeFile(path string) error {
	if !IsMem(path) {
		return os.Remove(path)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if C.VSIUnlink(cpath) != 0 {
		return fmt.Errorf("remove %s: %w", path, fs.ErrNotExist)
	}
	return nil
}

// RemoveMem deletes an in-memory file; a missing one is not an error.
func RemoveMem(path string) {
	if IsMem(path) {
		removeFile(path)
	}
}

// renameFile renames a file, local or in GDAL's in-memory file system.
func renameFile(from, to string) error {
	if !IsMem(from) && !IsMem(to) {
		return os.Rename(from, to)
	}
	if !IsMem(from) || !IsMem(to) {
		return errors.New("rename between /vsimem/ and the disk")
	}
	cfrom, cto := C.CString(from), C.CString(to)
	defer C.free(unsafe.Pointer(cfrom))
	defer C.free(unsafe.Pointer(cto))
	if C.VSIRename(cfrom, cto) != 0 {
		return fmt.Errorf("rename %s to %s failed", from, to)
	}
	return nil
}

// writeFile writes data to a file, local or in GDAL's in-memory file system.
func writeFile(path string, data []byte) error {
	if !IsMem(path) {
		return os.WriteFile(path, data, 0o644)
	}
	return WriteMem(path, data)
}

// MemWriter writes an in-memory file as its bytes come, without a copy in
// Go's memory.
type MemWriter struct {
	Path string
	f    *C.VSILFILE
}

// CreateMem creates (or truncates) the in-memory file path for writing.
func CreateMem(path string) (*MemWriter, error) {
	if !IsMem(path) {
		return nil, fmt.Errorf("%s: not a /vsimem/ path", path)
	}
	Register()
	cpath, mode := C.CString(path), C.CString("wb")
	defer C.free(unsafe.Pointer(cpath))
	defer C.free(unsafe.Pointer(mode))
	f := C.VSIFOpenL(cpath, mode)
	if f == nil {
		return nil, fmt.Errorf("%s: cannot create the in-memory file", path)
	}
	return &MemWriter{Path: path, f: f}, nil
}

func (w *MemWriter) Write(p []byte) (int, error) {
	if w.f == nil {
		return 0, fmt.Errorf("%s: write after close", w.Path)
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := int(C.VSIFWriteL(unsafe.Pointer(&p[0]), 1, C.size_t(len(p)), w.f))
	if n != len(p) {
		return n, fmt.Errorf("%s: out of memory after %d bytes", w.Path, n)
	}
	return n, nil
}

// Close finishes the file (which stays until RemoveMem).
func (w *MemWriter) Close() error {
	if w.f == nil {
		return nil
	}
	f := w.f
	w.f = nil
	if C.VSIFCloseL(f) != 0 {
		return fmt.Errorf("%s: cannot close the in-memory file", w.Path)
	}
	return nil
}

// CopyMem writes the in-memory file path to w, without a copy in Go's
// memory.
func CopyMem(w io.Writer, path string) (int64, error) {
	if !IsMem(path) {
		return 0, fmt.Errorf("%s: not a /vsimem/ path", path)
	}
	f, err := godal.VSIOpen(path)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	defer f.Close()
	return io.Copy(w, f)
}
