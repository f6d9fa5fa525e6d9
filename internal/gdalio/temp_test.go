package gdalio

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omnimask/omnimask/raster"
)

// deadPID returns the id of a process that has ended.
func deadPID(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	return cmd.Process.Pid
}

// TestRemoveStale enumerates the temporary files a killed run leaves (mask,
// its COG copy, overview levels, quick look) and files that must stay: those
// of a live process, this process's own, newer than the run, not ours, not
// regular.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	dead, live := deadPID(t), os.Getppid()
	old := time.Now().Add(-time.Hour)
	files := map[string]bool{ // name → removed
		fmt.Sprintf("m.tif.tmp-%d-0badc0de.tif", dead):         true,
		fmt.Sprintf("m.tif.tmp-%d-0badc0de.tif.cog", dead):     true,
		fmt.Sprintf("m.tif.tmp-%d-0badc0de.tif.aux.xml", dead): true,
		fmt.Sprintf("m.tif.tmp-%d-0badc0de.ovr1.tif", dead):    true,
		fmt.Sprintf("m.tif.tmp-%d-0badc0de.ovr12.tif", dead):   true,
		fmt.Sprintf("p.png.tmp-%d-1234567890", dead):           true,
		fmt.Sprintf("m.tif.tmp-%d-0badc0de.tif", live):         false, // another run, still going
		fmt.Sprintf("m.tif.tmp-%d-0badc0de.tif", os.Getpid()):  false,
		fmt.Sprintf("m.tif.tmp-%d-0badc0de.tif.bak", dead):     false, // not our pattern
		"m.tif.tmp-notours.tif":                                false,
		"m.tif":                                                false,
	}
	for name := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	newer := fmt.Sprintf("n.tif.tmp-%d-0badc0de.tif", dead)
	os.WriteFile(filepath.Join(dir, newer), []byte("x"), 0o644)
	files[newer] = false
	sub := fmt.Sprintf("d.tif.tmp-%d-0badc0de.tif", dead)
	os.Mkdir(filepath.Join(dir, sub), 0o755)
	os.Chtimes(filepath.Join(dir, sub), old, old)
	files[sub] = false

	removed, err := RemoveStale(dir, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, r := range removed {
		got = append(got, filepath.Base(r))
	}
	for name, rm := range files {
		if rm {
			want = append(want, name)
		}
		if _, err := os.Lstat(filepath.Join(dir, name)); (err == nil) == rm {
			t.Errorf("%s: exists %v, want removed %v", name, err == nil, rm)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("removed %v, want %v", got, want)
	}
}

// TestLongOutputNames: a destination whose name is as long as the file
// system allows (249 and 255 bytes, ASCII and multi-byte) is written; the
// temporary names are shortened, not the destination.
func TestLongOutputNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		strings.Repeat("a", 245) + ".tif",
		strings.Repeat("b", 251) + ".tif",
		strings.Repeat("é", 125) + ".tif",
	} {
		t.Run(fmt.Sprint(len(name)), func(t *testing.T) {
			path := filepath.Join(dir, name)
			w, err := Create(path, image.Pt(1100, 1100), raster.Geo{Transform: raster.Identity}, WriteOptions{NoData: raster.NoDataValue(255)})
			if err != nil {
				t.Fatal(err)
			}
			row := make([]uint8, 1100*1100)
			if err := w.WriteUint8(0, image.Rect(0, 0, 1100, 1100), row); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := len(dirEntries(t, dir)); n != 3 {
		t.Errorf("%d files left, want the 3 outputs", n)
	}
}

func dirEntries(t testing.TB, dir string) []os.DirEntry {
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}
