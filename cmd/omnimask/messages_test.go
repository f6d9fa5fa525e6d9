package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnimask/omnimask/internal/ort"
)

// TestOneLine: control characters are escaped, long lines cut.
func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain/path.tif: no such file", "plain/path.tif: no such file"},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"x\x1b[31mred\x07", `x\x1b[31mred\x07`},
		{"c1\u0085\u009b", `c1\u0085\u009b`},
		{"é ü 雲", "é ü 雲"},
	} {
		if got := oneLine(tc.in); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := oneLine(strings.Repeat("x", 3*maxLine)); len(got) > maxLine+20 {
		t.Errorf("%d bytes", len(got))
	}
}

// TestCLIMessages enumerates the message and exit-code defects of issue 19:
// each case's stderr is one line per message (at most maxStderr bytes, no
// control character), and the exit code and the file written are the
// documented ones.
func TestCLIMessages(t *testing.T) {
	const maxStderr = 2000
	for _, tc := range []struct {
		name string
		args func(t *testing.T, in, out string) []string // after "predict" unless it starts with a command
		code int
		want string                      // in stderr
		file func(in, out string) string // must exist afterwards
	}{
		{"20,000-band VRT", func(t *testing.T, in, out string) []string {
			var b strings.Builder
			b.WriteString(`<VRTDataset rasterXSize="64" rasterYSize="64">`)
			for i := 1; i <= 20000; i++ {
				fmt.Fprintf(&b, `<VRTRasterBand dataType="Byte" band="%d"><Description>band_%d</Description></VRTRasterBand>`, i, i)
			}
			b.WriteString(`</VRTDataset>`)
			v := filepath.Join(in, "wide.vrt")
			os.WriteFile(v, []byte(b.String()), 0o644)
			return []string{v, "--output-dir", out, "--no-resample"}
		}, exitFailed, "19988 more", nil},
		{"band names with control characters", func(t *testing.T, in, out string) []string {
			return []string{tif{w: 64, h: 64, bands: 4, names: []string{"a\x1b[2J", "b\nc", "d", "e"}}.write(t, filepath.Join(in, "s.tif")), "--output-dir", out}
		}, exitFailed, `b\nc`, nil},
		{"scene name with control characters", func(t *testing.T, in, out string) []string {
			return []string{filepath.Join(in, "no\nsuch\x1b[31m.tif"), "--output-dir", out}
		}, exitFailed, `no\nsuch\x1b[31m.tif`, nil},
		{"--output-dir is a file", func(t *testing.T, in, out string) []string {
			f := filepath.Join(in, "afile")
			os.WriteFile(f, []byte("x"), 0o644)
			return []string{tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif")), "--output-dir", f}
		}, exitUsage, "not a folder", nil},
		{"249-character mask name", func(t *testing.T, in, out string) []string {
			return []string{tif{w: 64, h: 64}.write(t, filepath.Join(in, strings.Repeat("s", 236)+".tif")), "--output-dir", out}
		}, exitOK, "", func(in, out string) string { return filepath.Join(out, strings.Repeat("s", 236)+"_omnimask.tif") }},
		{"relative scene with a colon", func(t *testing.T, in, out string) []string {
			os.Mkdir(filepath.Join(in, "sub"), 0o755)
			tif{w: 64, h: 64}.write(t, filepath.Join(in, "sub", "a:b.tif"))
			t.Chdir(in)
			return []string{"sub/a:b.tif"}
		}, exitOK, "", func(in, out string) string { return filepath.Join(in, "sub", "a:b_omnimask.tif") }},
		{"--sensor foo", func(t *testing.T, in, out string) []string {
			return []string{tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif")), "--output-dir", out, "--sensor", "foo"}
		}, exitUsage, "--sensor foo", nil},
		{"info --sensor foo", func(t *testing.T, in, out string) []string {
			return []string{"info", tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif")), "--sensor", "foo"}
		}, exitUsage, "--sensor foo", nil},
		{"--batch-size 257", func(t *testing.T, in, out string) []string {
			return []string{tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif")), "--output-dir", out, "--batch-size", "257"}
		}, exitUsage, "--batch-size", nil},
		{"--overlap 600", func(t *testing.T, in, out string) []string {
			return []string{tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif")), "--output-dir", out, "--overlap", "600"}
		}, exitUsage, "--overlap", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out := t.TempDir(), t.TempDir()
			model, err := filepath.Abs(pointwise)
			if err != nil {
				t.Fatal(err)
			}
			lib, err := ort.Find("")
			if err != nil {
				t.Skip(err)
			}
			lib, _ = filepath.Abs(lib)
			args := tc.args(t, in, out)
			if args[0] != "info" {
				args = append([]string{"predict"}, args...)
			}
			args = append(args, "--model", model, "--ort-lib", lib, "--threads", "1")
			_, stderr, err := cli(t, args...)
			if got := exitCode(err); got != tc.code {
				t.Errorf("exit %d, want %d", got, tc.code)
			}
			if len(stderr) > maxStderr || strings.ContainsAny(stderr, "\x1b\r\x07") {
				t.Errorf("stderr (%d bytes) not short lines: %.300q", len(stderr), stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %.300q lacks %q", stderr, tc.want)
			}
			if tc.file != nil {
				if _, err := os.Stat(tc.file(in, out)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// unusedInitializerModel writes pointwise.onnx with one more, unused,
// initializer — appended as a second graph field, which protobuf merges
// into the first — so that ONNX Runtime logs a warning when it loads it.
func unusedInitializerModel(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(pointwise)
	if err != nil {
		t.Fatal(err)
	}
	tensor := []byte{0x08, 0x01, 0x10, 0x01, 0x22, 0x04, 0, 0, 0, 0, 0x42, 0x06, 'u', 'n', 'u', 's', 'e', 'd'} // dims [1], float, [0], "unused"
	graph := append([]byte{0x2a, byte(len(tensor))}, tensor...)                                                // GraphProto.initializer
	b = append(b, append([]byte{0x3a, byte(len(graph))}, graph...)...)                                         // ModelProto.graph
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestORTLogsOnlyWithVerbose: ONNX Runtime writes its own log lines to the
// process's stderr (not through Go): they reach the terminal with -v only.
func TestORTLogsOnlyWithVerbose(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes; not for -short")
	}
	in := t.TempDir()
	scene := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
	model := unusedInitializerModel(t, filepath.Join(in, "unused.onnx"))
	for _, verbose := range []bool{false, true} {
		args := []string{"predict", scene, "--model", model, "-o", filepath.Join(in, fmt.Sprintf("m%v.tif", verbose)), "--threads", "1"}
		if verbose {
			args = append(args, "-v")
		}
		var stderr bytes.Buffer
		cmd, done := startChild(t, args, &stderr)
		if err := <-done; err != nil {
			cmd.Process.Kill()
			t.Fatalf("-v=%v: %v\n%s", verbose, err, stderr.String())
		}
		if got := strings.Contains(stderr.String(), "onnxruntime"); got != verbose {
			t.Errorf("-v=%v: ONNX Runtime log lines shown: %v\n%s", verbose, got, stderr.String())
		}
	}
}
