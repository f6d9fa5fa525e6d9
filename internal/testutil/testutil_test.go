package testutil

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDirNames(t *testing.T) {
	dir := t.TempDir()
	if n := DirNames(t, filepath.Join(dir, "missing")); n != nil {
		t.Errorf("missing folder: %v", n)
	}
	for _, f := range []string{"b", "a"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := DirNames(t, dir); !slices.Equal(n, []string{"a", "b"}) {
		t.Errorf("DirNames = %v", n)
	}
}

func TestProcStatusAndFDs(t *testing.T) {
	if rss := ProcStatus(t, "VmRSS"); rss <= 0 {
		t.Errorf("VmRSS = %d kB", rss)
	}
	if n := ProcStatus(t, "Threads"); n < 1 {
		t.Errorf("Threads = %d", n)
	}
	f, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fds := OpenFDs(t)
	found := false
	for _, l := range fds {
		found = found || l == f.Name()
	}
	if !found {
		t.Errorf("open folder %s not among the descriptors %v", f.Name(), fds)
	}
}

func TestReadOnlyDir(t *testing.T) {
	dir := ReadOnlyDir(t)
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err == nil {
		t.Errorf("created a file in %s", dir)
	}
}
