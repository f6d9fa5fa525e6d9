package regfile

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReadRefusesWhatIsNotARegularFile enumerates the kinds of path where a
// metadata file (MTL, model sidecar, VRT, run file) is expected: only regular
// files (directly or through a link) within the size limit are read, and
// nothing blocks.
func TestReadRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg.txt")
	if err := os.WriteFile(reg, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	linkReg := filepath.Join(dir, "link-reg")
	linkFifo := filepath.Join(dir, "link-fifo")
	if err := os.Symlink(reg, linkReg); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fifo, linkFifo); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       error // nil: read
	}{
		{"regular", reg, nil},
		{"link to regular", linkReg, nil},
		{"named pipe", fifo, ErrNotRegular},
		{"link to named pipe", linkFifo, ErrNotRegular},
		{"socket", sock, nil}, // open fails (ENXIO): an error, not a hang
		{"directory", dir, ErrNotRegular},
		{"character device", "/dev/zero", ErrNotRegular},
		{"sparse 1 GiB", sparse, ErrTooLarge},
		{"missing", filepath.Join(dir, "none"), fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := Read(tc.path, 1<<20); done <- err }()
			select {
			case err := <-done:
				switch {
				case tc.name == "socket":
					if err == nil {
						t.Fatal("socket read")
					}
				case tc.want == nil && err != nil:
					t.Fatal(err)
				case tc.want != nil && !errors.Is(err, tc.want):
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("blocked")
			}
			if cerr := Check(tc.path); (cerr == nil) != (tc.want == nil && tc.name != "socket" || tc.want == ErrTooLarge) {
				t.Errorf("Check = %v", cerr)
			}
		})
	}
}
