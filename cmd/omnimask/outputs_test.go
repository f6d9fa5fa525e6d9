package main

import (
	"archive/zip"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// dirState records every file under dir (name, kind, content hash).
func dirState(t testing.TB, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		st, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		fmt.Fprintf(&b, "%s %s", p, st.Mode())
		if st.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		}
		b.WriteByte('\n')
		return nil
	})
	return b.String()
}

// TestCLIOutputsNeverReplaceInputs enumerates, through the command line,
// outputs (mask, probabilities, preview) that would replace an input of the
// run, a source of an input, another output, or something that is not a
// regular file: each exits 2 with one line naming the output, and leaves
// every file as it was.
func TestCLIOutputsNeverReplaceInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(t *testing.T, in string) []string // after "predict"
		want string
	}{
		{"preview is the scene", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			return []string{s, "--preview", s}
		}, "output path is an input"},
		{"preview is the mask", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			m := filepath.Join(in, "m.tif")
			return []string{s, "-o", m, "--preview", m}
		}, "two outputs are the same file"},
		{"preview is the probabilities", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			return []string{s, "-o", filepath.Join(in, "m.tif"), "--confidence", "uint8", "--preview", filepath.Join(in, "m_confidence.tif")}
		}, "two outputs are the same file"},
		{"mask is the GeoTIFF the VRT reads", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			v := filepath.Join(in, "s.vrt")
			if _, err := (&vrtArgs{src: s}).write(v); err != nil {
				t.Fatal(err)
			}
			return []string{v, "-o", s}
		}, "output path is an input"},
		{"mask is the zip the scene is in", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			z := filepath.Join(in, "s.zip")
			zipOne(t, z, "s.tif", s)
			os.Remove(s)
			return []string{"/vsizip/" + z + "/s.tif", "-o", z}
		}, "output path is an input"},
		{"mask is a symlink to the scene", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			l := filepath.Join(in, "l.tif")
			os.Symlink(s, l)
			return []string{s, "-o", l}
		}, "output path is an input"},
		{"mask is a hard link to the scene", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			l := filepath.Join(in, "l.tif")
			os.Link(s, l)
			return []string{s, "-o", l}
		}, "output path is an input"},
		{"mask in --output-dir is a symlink to the scene", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			out := filepath.Join(in, "out")
			os.Mkdir(out, 0o755)
			os.Symlink(s, filepath.Join(out, "s_omnimask.tif"))
			return []string{s, "--output-dir", out}
		}, "output path is an input"},
		{"a later scene is an earlier scene's mask", func(t *testing.T, in string) []string {
			a := tif{w: 64, h: 64}.write(t, filepath.Join(in, "a.tif"))
			b := tif{w: 64, h: 64, seed: 2}.write(t, filepath.Join(in, "a_omnimask.tif"))
			return []string{a, b}
		}, "output path is an input"},
		{"an earlier scene is a later scene's mask", func(t *testing.T, in string) []string {
			b := tif{w: 64, h: 64, seed: 2}.write(t, filepath.Join(in, "a_omnimask.tif"))
			a := tif{w: 64, h: 64}.write(t, filepath.Join(in, "a.tif"))
			return []string{b, a}
		}, "output path is an input"},
		{"a scene is another scene's probabilities", func(t *testing.T, in string) []string {
			a := tif{w: 64, h: 64}.write(t, filepath.Join(in, "a.tif"))
			b := tif{w: 64, h: 64, seed: 2}.write(t, filepath.Join(in, "a_omnimask_confidence.tif"))
			return []string{a, b, "--confidence", "float32"}
		}, "output path is an input"},
		{"two scenes, one mask through a symlinked folder", func(t *testing.T, in string) []string {
			a := tif{w: 64, h: 64}.write(t, filepath.Join(in, "a.tif"))
			os.Symlink(in, filepath.Join(in, "alias"))
			return []string{a, filepath.Join(in, "alias", "a.tif")}
		}, "two outputs are the same file"},
		{"preview is a named pipe", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			p := filepath.Join(in, "p.png")
			syscall.Mkfifo(p, 0o644)
			return []string{s, "-o", filepath.Join(in, "m.tif"), "--preview", p}
		}, "not a regular file"},
		{"mask is a named pipe", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			p := filepath.Join(in, "p.tif")
			syscall.Mkfifo(p, 0o644)
			return []string{s, "-o", p}
		}, "not a regular file"},
		{"mask is a directory", func(t *testing.T, in string) []string {
			s := tif{w: 64, h: 64}.write(t, filepath.Join(in, "s.tif"))
			d := filepath.Join(in, "d.tif")
			os.Mkdir(d, 0o755)
			return []string{s, "-o", d}
		}, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := t.TempDir()
			args := append([]string{"predict"}, tc.args(t, in)...)
			args = append(args, "--model", pointwise, "--threads", "1")
			before := dirState(t, in)
			_, stderr, err := cli(t, args...)
			if got := exitCode(err); got != exitUsage {
				t.Errorf("exit code %d, want %d", got, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("stderr %q: want one line with %q", stderr, tc.want)
			}
			if after := dirState(t, in); after != before {
				t.Errorf("files changed:\n%s\n->\n%s", before, after)
			}
		})
	}
}

type vrtArgs struct{ src string }

func (v *vrtArgs) write(path string) (string, error) {
	var b strings.Builder
	for i, n := range []string{"red", "green", "nir"} {
		fmt.Fprintf(&b, `<VRTRasterBand dataType="Float32" band="%d"><Description>%s</Description><SimpleSource><SourceFilename relativeToVRT="1">%s</SourceFilename><SourceBand>%d</SourceBand></SimpleSource></VRTRasterBand>`, i+1, n, filepath.Base(v.src), i+1)
	}
	return path, os.WriteFile(path, []byte(`<VRTDataset rasterXSize="64" rasterYSize="64">`+b.String()+`</VRTDataset>`), 0o644)
}

func zipOne(t testing.TB, zipPath, member, src string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create(member)
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}
