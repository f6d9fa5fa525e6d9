package main

import (
	"io"
	"os"
	"runtime/debug"
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
		tuneProcess()
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
	var f engineFlags
	if !f.options(io.Discard).ReturnMemory {
		t.Errorf("the command's engine does not return memory to the OS between predictions")
	}
}
