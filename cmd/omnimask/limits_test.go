package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/testutil"
)

// numericRow is one explicit value of a numeric flag: refused as bad usage
// (exit 2, one line naming the flag and its range, nothing written) when
// want is set, accepted otherwise.
type numericRow struct {
	flag  string   // flag name, without dashes
	args  []string // the flag and its value, and any flag it depends on
	model string   // default pointwise.onnx
	want  string   // the one line on stderr (after "omnimask CMD: "); "" = accepted
}

// numericRows lists, for predict and info, out-of-range and edge values of
// every numeric flag.
func numericRows() []numericRow {
	cores := runtime.NumCPU()
	maxThreads := fmt.Sprint(engine.MaxThreadsPerCore * cores)
	bad := func(flag, v, want string, extra ...string) numericRow {
		return numericRow{flag: flag, args: append(extra, "--"+flag, v), want: want}
	}
	ok := func(flag, v string, extra ...string) numericRow {
		return numericRow{flag: flag, args: append(extra, "--"+flag, v)}
	}
	threadsRange := fmt.Sprintf(": want 1..%s (%d per core; leave the flag out for all %d cores)", maxThreads, engine.MaxThreadsPerCore, cores)
	res := ": want a pixel size in metres, 0 < m <= 100000 (leave the flag out for the georeference's)"
	patch64 := ": want 32..4096 (leave the flag out for the model's 64)"
	return []numericRow{
		bad("threads", "0", "--threads 0"+threadsRange),
		bad("threads", "-1", "--threads -1"+threadsRange),
		bad("threads", fmt.Sprint(engine.MaxThreadsPerCore*cores+1), fmt.Sprintf("--threads %d", engine.MaxThreadsPerCore*cores+1)+threadsRange),
		ok("threads", "1"),
		ok("threads", maxThreads),

		bad("streams", "0", fmt.Sprintf("--streams 0: want 1..%d (at most the %d threads; leave the flag out for %d)", cores, cores, min(2, cores))),
		bad("streams", "-1", fmt.Sprintf("--streams -1: want 1..%d", cores)),
		bad("streams", "2", "--streams 2: want 1..1 (at most the 1 threads; leave the flag out for 1)", "--threads", "1"),
		ok("streams", "1"),
		ok("streams", "2", "--threads", "2"),

		bad("batch-size", "0", "--batch-size 0: want 1..256 (leave the flag out for 1)"),
		bad("batch-size", "-4", "--batch-size -4: want 1..256"),
		bad("batch-size", "257", "--batch-size 257: want 1..256"),
		ok("batch-size", "1"),
		ok("batch-size", "256"),

		bad("resolution", "0", "--resolution 0"+res),
		bad("resolution", "-10", "--resolution -10"+res),
		bad("resolution", "NaN", "--resolution NaN"+res),
		bad("resolution", "+Inf", "--resolution +Inf"+res),
		bad("resolution", "100001", "--resolution 100001"+res),
		ok("resolution", "10"),

		bad("processing-resolution", "0", "--processing-resolution 0: want a pixel size in metres, 0 < m <= 100000"),
		bad("processing-resolution", "-20", "--processing-resolution -20: want"),
		bad("processing-resolution", "Inf", "--processing-resolution +Inf: want"),
		bad("processing-resolution", "1e6", "--processing-resolution 1e+06: want"),
		ok("processing-resolution", "20"),

		bad("patch-size", "0", "--patch-size 0"+patch64),
		bad("patch-size", "-64", "--patch-size -64"+patch64),
		bad("patch-size", "31", "--patch-size 31"+patch64),
		bad("patch-size", "4097", "--patch-size 4097"+patch64),
		{flag: "patch-size", args: []string{"--patch-size", "100"}, model: "omnicloud",
			want: "--patch-size 100: want 32..4096, a multiple of 32 (leave the flag out for the model's 512)"},
		{flag: "patch-size", args: []string{"--patch-size", "48"}, model: testModel("fixed64.onnx"),
			want: "--patch-size 48: the model's input is fixed at 64 px (leave the flag out)"},
		ok("patch-size", "32"),
		ok("patch-size", "48"),

		bad("overlap", "-2", "--overlap -2: want 0..31, below half the 64 px patch (0 or -1: none; leave the flag out for the model's)"),
		bad("overlap", "32", "--overlap 32: want 0..31"),
		bad("overlap", "24", "--overlap 24: want 0..23, below half the 48 px patch", "--patch-size", "48"),
		ok("overlap", "-1"),
		ok("overlap", "0"),
		ok("overlap", "31"),
		ok("overlap", "23", "--patch-size", "48"),

		// Any number is a nodata value; only non-numbers are refused (by the
		// flag package, whose message is followed by the usage).
		ok("nodata", "nan"),
		ok("nodata", "-9999"),
		ok("nodata", "1e30"),
	}
}

// evalRows are eval's numeric flags; the run file does not exist, so an
// accepted value fails later with exit 1.
func evalRows() []numericRow {
	cores := runtime.NumCPU()
	bad := func(flag, v, want string, extra ...string) numericRow {
		return numericRow{flag: flag, args: append(extra, "--"+flag, v), want: want}
	}
	ok := func(flag, v string) numericRow { return numericRow{flag: flag, args: []string{"--" + flag, v}} }
	return []numericRow{
		bad("threads", "0", "--threads 0: want 1.."),
		bad("threads", "-1", "--threads -1: want 1.."),
		bad("threads", fmt.Sprint(engine.MaxThreadsPerCore*cores+1), fmt.Sprintf("--threads %d: want 1..%d", engine.MaxThreadsPerCore*cores+1, engine.MaxThreadsPerCore*cores)),
		ok("threads", "1"),
		bad("streams", "0", "--streams 0: want 1.."),
		bad("streams", "3", "--streams 3: want 1..2", "--threads", "2"),
		ok("streams", "1"),
		bad("batch-size", "0", "--batch-size 0: want 1..256"),
		bad("batch-size", "257", "--batch-size 257: want 1..256"),
		ok("batch-size", "4"),
		bad("scales", "0", `--scales 0: "0" is not a valid scale (0 < s <= 100)`),
		bad("scales", "1,101", `--scales 1,101: "101" is not a valid scale (0 < s <= 100)`),
		bad("scales", "1,x", `--scales 1,x: "x" is not a valid scale`),
		ok("scales", "1,2,100"),
		bad("resolutions", "0", `--resolutions 0: "0" is not a valid resolution in metres (r > 0)`),
		bad("resolutions", "-30", `--resolutions -30: "-30" is not a valid resolution`),
		bad("resolutions", "30,1e6", "--resolutions 1e+06: want a pixel size in metres, 0 < m <= 100000 (leave the flag out for native resolution)"),
		ok("resolutions", "30,60"),
	}
}

// embedRows are embed's numeric flags, run with the chipmean test encoder
// on 16 px chips.
func embedRows() []numericRow {
	cores := runtime.NumCPU()
	chipmean := testModel("chipmean.onnx")
	bad := func(flag, v, want string, extra ...string) numericRow {
		return numericRow{flag: flag, args: append(append([]string{"--chip", "16"}, extra...), "--"+flag, v), model: chipmean, want: want}
	}
	ok := func(flag, v string, extra ...string) numericRow {
		return numericRow{flag: flag, args: append(append([]string{"--chip", "16"}, extra...), "--"+flag, v), model: chipmean}
	}
	limit := engine.MaxThreadsPerCore * cores
	return []numericRow{
		bad("chip", "0", "--chip 0: want 1..4096"),
		bad("chip", "-1", "--chip -1: want 1..4096"),
		bad("chip", "4097", "--chip 4097: want 1..4096"),
		ok("chip", "32"),
		bad("stride", "0", "--stride 0: want 1..16 (the chip size)"),
		bad("stride", "17", "--stride 17: want 1..16 (the chip size)"),
		ok("stride", "8"),
		bad("batch", "0", "--batch 0: want 1..1024"),
		bad("batch", "100000000", "--batch 100000000: want 1..1024"),
		ok("batch", "1024"),
		bad("max-nodata", "NaN", "--max-nodata NaN: want 0..1"),
		bad("max-nodata", "1.5", "--max-nodata 1.5: want 0..1"),
		ok("max-nodata", "0"),
		ok("max-nodata", "1"),
		bad("scale", "NaN", "--scale NaN: want a finite number >= 0"),
		bad("scale", "-1", "--scale -1: want a finite number >= 0"),
		ok("scale", "0"),
		bad("offset", "Inf", "--offset +Inf: want a finite number"),
		ok("offset", "0"),
		bad("tile", "0", "--tile 0: want 1..4096", "--mode", "dense"),
		bad("tile", "5000", "--tile 5000: want 1..4096", "--mode", "dense"),
		ok("tile", "32", "--mode", "dense"),
		bad("overlap", "-2", "--overlap -2: want 0..4095", "--mode", "dense"),
		ok("overlap", "0", "--mode", "dense", "--tile", "32"),
		ok("overlap", "-1", "--mode", "dense", "--tile", "32"),
		bad("threads", "0", "--threads 0: want 1.."),
		bad("threads", fmt.Sprint(limit+1), fmt.Sprintf("--threads %d: want 1..%d (%d per core; leave the flag out for all %d cores)", limit+1, limit, engine.MaxThreadsPerCore, cores)),
		ok("threads", "1"),
		bad("streams", "0", "--streams 0: want 1.."),
		bad("streams", "2", "--streams 2: want 1..1 (at most the 1 threads; leave the flag out for 1)", "--threads", "1"),
		ok("streams", "1"),
		bad("readers", "-1", fmt.Sprintf("--readers -1: want 0..%d (0: the default, %d here", embed.MaxReaders, embed.DefaultReaders())),
		bad("readers", fmt.Sprint(embed.MaxReaders+1), fmt.Sprintf("--readers %d: want 0..%d", embed.MaxReaders+1, embed.MaxReaders)),
		ok("readers", "0"),
		ok("readers", "3"),
		bad("processing-resolution", "0", "--processing-resolution 0: want a pixel size in metres, 0 < m <= 100000"),
		bad("processing-resolution", "NaN", "--processing-resolution NaN: want a pixel size in metres"),
		ok("processing-resolution", "20", "--mode", "dense", "--tile", "16", "--resolution", "10"),
		ok("processing-resolution", "20", "--resolution", "10"),
		bad("resolution", "-5", "--resolution -5: want a pixel size in metres", "--processing-resolution", "20"),
		bad("resolution", "1e6", "--resolution 1e+06: want a pixel size in metres", "--processing-resolution", "20"),
		bad("resolution", "10", "--resolution: only with --processing-resolution"),
		ok("resolution", "10", "--processing-resolution", "10"),
	}
}

// Explicit out-of-range values of every numeric flag of every command are
// usage errors: exit 2, one line naming the flag and the range, nothing
// written; edge values inside the range run.
func TestNumericFlagRanges(t *testing.T) {
	in := t.TempDir()
	scene := tif{w: 96, h: 80}.write(t, filepath.Join(in, "scene.tif"))
	type cmdRows struct {
		cmd    string
		rows   []numericRow
		args   func(out string) []string
		okCode int
	}
	for _, c := range []cmdRows{
		{"predict", numericRows(), func(out string) []string { return []string{"predict", scene, "--output-dir", out, "--quiet"} }, exitOK},
		{"info", numericRows(), func(string) []string { return []string{"info", scene} }, exitOK},
		{"eval", evalRows(), func(out string) []string { return []string{"eval", filepath.Join(in, "none.json"), "--out", out} }, exitFailed},
		{"embed", embedRows(), func(out string) []string { return []string{"embed", scene, "--output-dir", out, "--quiet"} }, exitOK},
	} {
		for _, r := range c.rows {
			t.Run(c.cmd+"/"+strings.Join(r.args, "_"), func(t *testing.T) {
				out := t.TempDir()
				model := r.model
				if model == "" {
					model = pointwise
				}
				args := append(append(c.args(out), "--model", model), r.args...)
				_, stderr, err := cli(t, args...)
				code := exitCode(err)
				if r.want == "" {
					if code != c.okCode {
						t.Fatalf("exit %d, want %d: %v", code, c.okCode, err)
					}
					return
				}
				if code != exitUsage {
					t.Fatalf("exit %d, want %d (usage): %v", code, exitUsage, err)
				}
				if n := strings.Count(stderr, "\n"); n != 1 {
					t.Errorf("stderr has %d lines, want one:\n%s", n, stderr)
				}
				if prefix := "omnimask " + c.cmd + ": " + r.want; !strings.HasPrefix(stderr, prefix) {
					t.Errorf("stderr %q\nwant it to begin %q", stderr, prefix)
				}
				if n := testutil.DirNames(t, out); len(n) > 0 {
					t.Errorf("output folder holds %v", n)
				}
			})
		}
	}
}

// Every numeric flag of every command (int and float flags, and the
// flags that take numbers as text) has rows in the table above, refused
// ones included (nodata has no invalid number).
func TestNumericFlagTableIsComplete(t *testing.T) {
	numeric := regexp.MustCompile(`(?m)^  -([a-z-]+) (int|uint|float)`)
	textual := map[string][]string{"predict": {"nodata"}, "info": {"nodata"}, "eval": {"scales", "resolutions"}}
	for _, cmd := range []string{"predict", "info", "eval", "embed", "models", "version"} {
		_, stderr, _ := cli(t, cmd, "-h")
		flags := textual[cmd]
		for _, m := range numeric.FindAllStringSubmatch(stderr, -1) {
			flags = append(flags, m[1])
		}
		rows := numericRows()
		switch cmd {
		case "eval":
			rows = evalRows()
		case "embed":
			rows = embedRows()
		}
		for _, f := range flags {
			var refused, accepted bool
			for _, r := range rows {
				if r.flag == f {
					refused = refused || r.want != ""
					accepted = accepted || r.want == ""
				}
			}
			if !accepted || !refused && f != "nodata" {
				t.Errorf("%s --%s: table has accepted %v, refused %v values", cmd, f, accepted, refused)
			}
		}
		if cmd == "predict" && !slices.Contains(flags, "patch-size") {
			t.Errorf("no numeric flags found in the help of %s:\n%s", cmd, stderr)
		}
	}
}
