package engine

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// snapshot records every file under dir (name, kind, content hash).
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		st, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		v := st.Mode().String()
		if st.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			v += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out[p] = v
		return nil
	})
	return out
}

func zipFile(t testing.TB, zipPath, member, src string) {
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

func vrtOf(t testing.TB, vrt, src string) {
	t.Helper()
	band := ""
	for i := 1; i <= 4; i++ {
		band += fmt.Sprintf(`<VRTRasterBand dataType="UInt16" band="%d"><Description>%s</Description><SimpleSource><SourceFilename relativeToVRT="1">%s</SourceFilename><SourceBand>%d</SourceBand></SimpleSource></VRTRasterBand>`,
			i, []string{"blue", "green", "red", "nir"}[i-1], filepath.Base(src), i)
	}
	xml := fmt.Sprintf(`<VRTDataset rasterXSize="64" rasterYSize="64">%s</VRTDataset>`, band)
	if err := os.WriteFile(vrt, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOutputsNeverReplaceInputs enumerates the ways an output can name
// something the run reads, or another output, or something that is not a
// regular file. Each is refused before anything is written: every file in
// the folder is unchanged and nothing is added.
func TestOutputsNeverReplaceInputs(t *testing.T) {
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	for _, tc := range []struct {
		name string
		// setup returns the scene paths and the request for a scene at
		// scene (written in dir).
		setup func(t *testing.T, dir, scene string) ([]string, Request)
		want  error
	}{
		{"output is the scene", func(t *testing.T, dir, scene string) ([]string, Request) {
			return []string{scene}, Request{Output: scene}
		}, ErrOutputIsInput},
		{"output is the scene, spelt differently", func(t *testing.T, dir, scene string) ([]string, Request) {
			return []string{scene}, Request{Output: filepath.Join(dir, ".", "x", "..", "scene.tif")}
		}, ErrOutputIsInput},
		{"output is a symlink to the scene", func(t *testing.T, dir, scene string) ([]string, Request) {
			l := filepath.Join(dir, "link.tif")
			os.Symlink(scene, l)
			return []string{scene}, Request{Output: l}
		}, ErrOutputIsInput},
		{"scene is a symlink to the output", func(t *testing.T, dir, scene string) ([]string, Request) {
			l := filepath.Join(dir, "link.tif")
			os.Symlink(scene, l)
			return []string{l}, Request{Output: scene}
		}, ErrOutputIsInput},
		{"output is a hard link to the scene", func(t *testing.T, dir, scene string) ([]string, Request) {
			l := filepath.Join(dir, "hard.tif")
			if err := os.Link(scene, l); err != nil {
				t.Skip(err)
			}
			return []string{scene}, Request{Output: l}
		}, ErrOutputIsInput},
		{"output through a symlinked folder", func(t *testing.T, dir, scene string) ([]string, Request) {
			l := filepath.Join(dir, "alias")
			os.Symlink(dir, l)
			return []string{scene}, Request{Output: filepath.Join(l, "scene.tif")}
		}, ErrOutputIsInput},
		{"output is the source a VRT reads", func(t *testing.T, dir, scene string) ([]string, Request) {
			v := filepath.Join(dir, "s.vrt")
			vrtOf(t, v, scene)
			return []string{v}, Request{Output: scene, Resolution: 10}
		}, ErrOutputIsInput},
		{"output is the source of a VRT read by a VRT", func(t *testing.T, dir, scene string) ([]string, Request) {
			v := filepath.Join(dir, "s.vrt")
			vrtOf(t, v, scene)
			v2 := filepath.Join(dir, "s2.vrt")
			vrtOf(t, v2, v)
			return []string{v2}, Request{Output: scene, Resolution: 10}
		}, ErrOutputIsInput},
		{"output is the zip a /vsizip/ scene is in", func(t *testing.T, dir, scene string) ([]string, Request) {
			z := filepath.Join(dir, "s.zip")
			zipFile(t, z, "in/scene.tif", scene)
			return []string{"/vsizip/" + z + "/in/scene.tif"}, Request{Output: z}
		}, ErrOutputIsInput},
		{"output is the file of a sub-dataset", func(t *testing.T, dir, scene string) ([]string, Request) {
			return []string{"GTIFF_DIR:1:" + scene}, Request{Output: scene}
		}, ErrOutputIsInput},
		{"output is a sidecar GDAL reads", func(t *testing.T, dir, scene string) ([]string, Request) {
			os.WriteFile(scene+".aux.xml", []byte("<PAMDataset/>"), 0o644)
			return []string{scene}, Request{Output: scene + ".aux.xml"}
		}, ErrOutputIsInput},
		{"confidence is the scene", func(t *testing.T, dir, scene string) ([]string, Request) {
			return []string{scene}, Request{Output: filepath.Join(dir, "m.tif"), Confidence: ConfidenceUint8, ConfidenceOutput: scene}
		}, ErrOutputIsInput},
		{"confidence is the mask", func(t *testing.T, dir, scene string) ([]string, Request) {
			m := filepath.Join(dir, "m.tif")
			return []string{scene}, Request{Output: m, Confidence: ConfidenceUint8, ConfidenceOutput: filepath.Join(dir, "x", "..", "m.tif")}
		}, ErrOutputCollision},
		{"confidence is a hard link to the mask", func(t *testing.T, dir, scene string) ([]string, Request) {
			m := filepath.Join(dir, "m.tif")
			os.WriteFile(m, []byte("old mask"), 0o644)
			os.Link(m, filepath.Join(dir, "c.tif"))
			return []string{scene}, Request{Output: m, Confidence: ConfidenceUint8, ConfidenceOutput: filepath.Join(dir, "c.tif")}
		}, ErrOutputCollision},
		{"output is a directory", func(t *testing.T, dir, scene string) ([]string, Request) {
			d := filepath.Join(dir, "d.tif")
			os.Mkdir(d, 0o755)
			return []string{scene}, Request{Output: d}
		}, ErrOutputNotFile},
		{"output is a named pipe", func(t *testing.T, dir, scene string) ([]string, Request) {
			p := filepath.Join(dir, "p.tif")
			syscall.Mkfifo(p, 0o644)
			return []string{scene}, Request{Output: p}
		}, ErrOutputNotFile},
		{"output is a symlink elsewhere", func(t *testing.T, dir, scene string) ([]string, Request) {
			other := filepath.Join(dir, "other.txt")
			os.WriteFile(other, []byte("keep"), 0o644)
			l := filepath.Join(dir, "l.tif")
			os.Symlink(other, l)
			return []string{scene}, Request{Output: l}
		}, ErrOutputNotFile},
		{"output is a dangling symlink", func(t *testing.T, dir, scene string) ([]string, Request) {
			l := filepath.Join(dir, "l.tif")
			os.Symlink(filepath.Join(dir, "nowhere"), l)
			return []string{scene}, Request{Output: l}
		}, ErrOutputNotFile},
		{"the mask's .aux.xml sidecar is a directory", func(t *testing.T, dir, scene string) ([]string, Request) {
			m := filepath.Join(dir, "m.tif")
			os.Mkdir(m+".aux.xml", 0o755)
			return []string{scene}, Request{Output: m}
		}, ErrOutputNotFile},
		{"output is a device", func(t *testing.T, dir, scene string) ([]string, Request) {
			return []string{scene}, Request{Output: "/dev/null"}
		}, ErrOutputNotFile},
		// handled: written
		{"output beside, another name", func(t *testing.T, dir, scene string) ([]string, Request) {
			return []string{scene}, Request{Output: filepath.Join(dir, "m.tif")}
		}, nil},
		{"output replaces an old mask", func(t *testing.T, dir, scene string) ([]string, Request) {
			m := filepath.Join(dir, "m.tif")
			os.WriteFile(m, []byte("old mask"), 0o644)
			return []string{scene}, Request{Output: m}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			scene, _ := writeScene(t, dir, 64, 64, 10)
			paths, req := tc.setup(t, dir, scene)
			before := snapshot(t, dir)
			_, err := e.PredictFile(context.Background(), paths, req)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if after := snapshot(t, dir); after[scene] != before[scene] {
					t.Error("scene changed")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			after := snapshot(t, dir)
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("files changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestCheckOutputsAcrossScenes: a later scene of a run must not be replaced
// by an earlier scene's output, and two scenes' outputs must not collide.
func TestCheckOutputsAcrossScenes(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.tif")
	b := filepath.Join(dir, "a_omnimask.tif")
	os.WriteFile(a, []byte("a"), 0o644)
	os.WriteFile(b, []byte("b"), 0o644)
	if err := CheckOutputs([]string{a, b}, []string{b, filepath.Join(dir, "b_omnimask.tif")}); !errors.Is(err, ErrOutputIsInput) {
		t.Errorf("scene 2 replaced by scene 1's mask: %v", err)
	}
	if err := CheckOutputs([]string{a}, []string{filepath.Join(dir, "m.tif"), filepath.Join(dir, "x", "..", "m.tif")}); !errors.Is(err, ErrOutputCollision) {
		t.Errorf("two outputs one file: %v", err)
	}
	if err := CheckOutputs([]string{a}, []string{filepath.Join(dir, "m.tif"), filepath.Join(dir, "m.png")}); err != nil {
		t.Error(err)
	}
}
