package gdalio

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"
	"unicode/utf8"
)

// Temporary files are named DEST.tmp-PID-RANDOM followed by .tif, .tif.cog,
// .tif.aux.xml or .ovrN.tif (masks, their category names and overviews) or
// nothing (quick looks), beside
// their destination. DEST is shortened so that the longest temporary name
// stays within the file system's 255-byte limit for any legal destination.
const maxTempBase = 200

var tempRE = regexp.MustCompile(`^.+\.tmp-([0-9]+)-[0-9a-f]{1,16}(\.tif|\.tif\.cog|\.tif\.aux\.xml|\.ovr[0-9]+\.tif)?$`)

// shortenName cuts a file name to at most n bytes, on a UTF-8 boundary.
func shortenName(name string, n int) string {
	if len(name) <= n {
		return name
	}
	name = name[:n]
	for len(name) > 0 && !utf8.ValidString(name) {
		name = name[:len(name)-1]
	}
	return name
}

// tempName returns a fresh temporary name beside dest (an absolute path).
func tempName(dest string) string {
	dir, base := filepath.Split(dest)
	return fmt.Sprintf("%s%s.tmp-%d-%08x.tif", dir, shortenName(base, maxTempBase), os.Getpid(), rand.Uint32())
}

// TempName returns a fresh temporary name beside dest, ending in .tif, that
// RemoveStale recognises: write there, then rename to dest.
func TempName(dest string) (string, error) {
	abs, err := filepath.Abs(dest)
	if err != nil {
		return "", err
	}
	return tempName(abs), nil
}

// TempPattern is the os.CreateTemp pattern for a temporary file beside dest
// (in filepath.Dir(dest)) that RemoveStale recognises.
func TempPattern(dest string) string {
	return fmt.Sprintf("%s.tmp-%d-*", shortenName(filepath.Base(dest), maxTempBase), os.Getpid())
}

// RemoveStale removes, from dir, temporary files this program left behind
// when it was killed: files named like its temporaries, last modified
// before before, whose process (the PID in the name) is no longer running.
// Temporaries of runs still going, in this process or another, are kept.
// It returns the files removed.
func RemoveStale(dir string, before time.Time) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, en := range entries {
		m := tempRE.FindStringSubmatch(en.Name())
		if m == nil || !en.Type().IsRegular() {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		info, err := en.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue
		}
		p := filepath.Join(dir, en.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}

// alive reports whether a process with this id exists.
func alive(pid int) bool {
	if pid <= 0 {
		return true // not a name this program writes: keep it
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
