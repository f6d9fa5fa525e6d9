// Package regfile opens files that must be regular files without ever
// blocking: a named pipe, socket or device where a file is expected is
// refused before anything reads from it, and reads are bounded in size.
package regfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is wrapped when a path is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped when a file is larger than the reader accepts.
var ErrTooLarge = errors.New("file too large")

// MetadataLimit is the size limit of the metadata files read whole: a
// Landsat MTL or a model's JSON sidecar is kilobytes; a larger one is
// refused unread (a sparse 1 GiB *_MTL.txt was read whole before: 2.1 GB
// peak).
const MetadataLimit = 16 << 20

// Kind names the kind of a non-regular file ("a named pipe", "a directory"…).
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// Check reports an error naming path unless it is (or links to) a regular
// file. It only stats: it never opens path.
func Check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w but %s", path, ErrNotRegular, Kind(st.Mode()))
	}
	return nil
}

// Open opens path for reading without blocking on a named pipe (O_NONBLOCK)
// and refuses it unless the opened file is regular, so a pipe swapped in
// between a check and the open is caught as well.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w but %s", path, ErrNotRegular, Kind(st.Mode()))
	}
	// Regular files ignore O_NONBLOCK; clear it anyway for plain reads.
	if err := syscall.SetNonblock(int(f.Fd()), false); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Read reads the regular file at path, refusing one larger than limit bytes
// without reading it (a sparse 1 GiB file is not read whole).
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %w (%d bytes, at most %d read)", path, ErrTooLarge, st.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w (more than %d bytes)", path, ErrTooLarge, limit)
	}
	return data, nil
}
