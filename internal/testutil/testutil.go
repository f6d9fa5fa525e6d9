// Package testutil holds the test helpers that more than one package's
// tests need: folders with special properties (a small tmpfs, a read-only
// folder), the process's own state from /proc (status fields, open file
// descriptors) and limits on it. Helpers skip the test when the machine
// cannot provide what they need. Only tests import it.
package testutil

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// DirNames lists the names in dir, sorted; nil when dir does not exist.
func DirNames(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return n
}

// MountTmpfs mounts a tmpfs of the given size (e.g. "64k"), read-only when
// readOnly, on a new folder that is unmounted when the test ends, or skips
// the test when mounting is not allowed (Linux, root or CAP_SYS_ADMIN).
func MountTmpfs(t testing.TB, size string, readOnly bool) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("tmpfs mounts need Linux")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var flags uintptr
	if readOnly {
		flags |= syscall.MS_RDONLY
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", flags, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// ReadOnlyDir returns a folder the test process cannot create files in:
// chmod 0555 for ordinary users, a read-only tmpfs for root (whom
// permissions do not stop).
func ReadOnlyDir(t testing.TB) string {
	t.Helper()
	if os.Geteuid() == 0 {
		return MountTmpfs(t, "64k", true)
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	return dir
}

// ProcStatus reads a numeric field of /proc/self/status (kB for sizes such
// as VmRSS, a count for Threads), or skips the test without it.
func ProcStatus(t testing.TB, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("/proc/self/status %s: %v", field, err)
			}
			return n
		}
	}
	t.Skipf("no %s in /proc/self/status", field)
	return 0
}

// OpenFDs lists the process's open file descriptors and what they point to.
func OpenFDs(t testing.TB) map[string]string {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	m := map[string]string{}
	for _, e := range es {
		l, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		m[e.Name()] = l
	}
	return m
}

// LimitAddressSpace caps the process's address space at its current size
// plus extra bytes, so that a runaway allocation fails instead of
// swapping; a lower limit already in place is kept. It is for child
// processes started by a test: the limit lasts as long as the process.
func LimitAddressSpace(t testing.TB, extra uint64) {
	t.Helper()
	vm := uint64(ProcStatus(t, "VmSize")) << 10
	lim := syscall.Rlimit{Cur: vm + extra, Max: vm + extra}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &old); err == nil && old.Cur < lim.Cur {
		return
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		t.Logf("cannot limit the address space: %v", err)
	}
}
