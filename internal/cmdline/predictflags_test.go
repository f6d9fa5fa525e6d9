package cmdline

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/engine"
)

func TestCheckThreads(t *testing.T) {
	cores := runtime.NumCPU()
	limit := engine.MaxThreadsPerCore * cores
	for _, tc := range []struct {
		set              string // flags given
		threads, streams int
		want             int
		err              string
	}{
		{"", 0, 0, cores, ""},
		{"threads", 1, 0, 1, ""},
		{"threads,streams", limit, limit, limit, ""},
		{"threads", 0, 0, 0, "--threads 0: want 1.."},
		{"threads", limit + 1, 0, 0, fmt.Sprintf("--threads %d: want 1..%d (%d per core; leave the flag out for all %d cores)", limit+1, limit, engine.MaxThreadsPerCore, cores)},
		{"threads,streams", 1, 2, 0, "--streams 2: want 1..1 (at most the 1 threads; leave the flag out for 1)"},
		{"streams", 0, 0, 0, fmt.Sprintf("--streams 0: want 1..%d", cores)},
		{"streams", 0, cores, cores, ""},
	} {
		set := map[string]bool{}
		for _, f := range strings.Split(tc.set, ",") {
			set[f] = f != ""
		}
		got, err := CheckThreads(set, tc.threads, tc.streams)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("%s %d/%d: %d, %v; want %d, %q", tc.set, tc.threads, tc.streams, got, err, tc.want, tc.err)
		}
	}
}
