package eval

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunFileNotRegular: a run file that is a named pipe or a sparse 1 GiB
// file is refused at once, unread.
func TestRunFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "run.yaml")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30)
	f.Close()
	for _, tc := range []struct{ path, want string }{{pipe, "named pipe"}, {big, "too large"}} {
		done := make(chan error, 1)
		go func() { _, err := LoadRunFile(tc.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: blocked", tc.path)
		}
	}
}
