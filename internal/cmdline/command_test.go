package cmdline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// The command, not the library, makes the process-wide settings its
// measured memory use depends on, and leaves the user's own alone.
func TestTuneProcess(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct{ gogc, cache, wantCache string }{
		{"", "", "64"},
		{"", "512", "512"},
		{"200", "", "64"},
	} {
		t.Setenv("GOGC", tc.gogc)
		t.Setenv("GDAL_CACHEMAX", tc.cache)
		debug.SetGCPercent(100)
		TuneProcess()
		if got := os.Getenv("GDAL_CACHEMAX"); got != tc.wantCache {
			t.Errorf("GOGC=%q GDAL_CACHEMAX=%q: GDAL_CACHEMAX %q after, want %q", tc.gogc, tc.cache, got, tc.wantCache)
		}
		want := 50
		if tc.gogc != "" {
			want = 100 // left as the runtime set it from $GOGC
		}
		if got := debug.SetGCPercent(100); got != want {
			t.Errorf("GOGC=%q: GC percent %d, want %d", tc.gogc, got, want)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{flag.ErrHelp, ExitOK},
		{fmt.Errorf("run: %w", context.Canceled), ExitInterrupted},
		{Usagef("--x %d: bad", 3), ExitUsage},
		{fmt.Errorf("wrapped: %w", UsageError{Msg: "m"}), ExitUsage},
		{errors.New("scene failed"), ExitFailed},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	cause := errors.New("cause")
	if err := (UsageError{Msg: "m", Cause: cause}); !errors.Is(err, cause) || err.Error() != "m" {
		t.Errorf("UsageError %q does not unwrap to its cause", err)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		pos      string
		n        int
		wantCode int
	}{
		{[]string{"a", "-n", "2", "b"}, "a,b", 2, ExitOK},
		{[]string{"-n", "3", "a", "--", "-n", "b"}, "a,-n,b", 3, ExitOK},
		{[]string{"a", "-m"}, "", 0, ExitUsage},
		{[]string{"-h"}, "", 0, ExitOK},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		n := fs.Int("n", 0, "")
		pos, err := Parse(fs, tc.args)
		if strings.Join(pos, ",") != tc.pos || *n != tc.n || ExitCode(err) != tc.wantCode {
			t.Errorf("%q: %q, n=%d, %v; want %q, n=%d, exit %d", tc.args, pos, *n, err, tc.pos, tc.n, tc.wantCode)
		}
	}
}

func TestEvalDir(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(data, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		data, out, run, want, err string
	}{
		{"", "", "cloud/s2", filepath.Join("eval-out", "cloud_s2"), ""},
		{"", "", `a\b`, filepath.Join("eval-out", "a_b"), ""},
		{"", "", "..", filepath.Join("eval-out", "run"), ""},
		{"", "", "", filepath.Join("eval-out", "run"), ""},
		{data, "reports", "x", "reports", ""},
		{file, "", "x", "", "--data " + file + ": not a folder"},
		{filepath.Join(data, "gone"), "", "x", "", "not a folder"},
	} {
		dir, err := EvalDir(tc.data, tc.out, tc.run)
		if dir != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("EvalDir(%q, %q, %q) = %q, %v; want %q, %q", tc.data, tc.out, tc.run, dir, err, tc.want, tc.err)
		}
	}
}
