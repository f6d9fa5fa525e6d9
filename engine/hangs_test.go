package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omnimask/omnimask/internal/ort"
)

func mkfifo(t testing.TB, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func sparse(t testing.TB, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}

func copyFile(t testing.TB, src, dst string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestNothingHangs enumerates every place a file is read — the scene, a
// VRT's source, a sidecar, an archive, a Landsat MTL (in a folder or named),
// a model, a model's JSON sidecar, the ONNX Runtime library (evaluation
// run files: eval's TestRunFileNotRegular) — with a named pipe (which would block a reader forever) or a
// sparse 1 GiB file (which would be read whole) in its place. Each is
// refused with an error naming it, within seconds, having read nothing.
func TestNothingHangs(t *testing.T) {
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 1})
	landsat := func(t *testing.T, dir string, mtl func(string) string) string {
		d := filepath.Join(dir, "LC08_L2SP_x")
		os.Mkdir(d, 0o755)
		scene, _ := writeScene(t, dir, 64, 64, 30)
		for _, b := range []string{"B4", "B3", "B5"} {
			copyFile(t, scene, filepath.Join(d, "LC08_L2SP_x_SR_"+b+".TIF"))
		}
		return mtl(filepath.Join(d, "LC08_L2SP_x_MTL.txt"))
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, dir string) (string, error) // returns the offending file and the error
		want string
	}{
		{"scene is a pipe", func(t *testing.T, dir string) (string, error) {
			p := mkfifo(t, filepath.Join(dir, "s.tif"))
			_, err := e.PredictFile(context.Background(), []string{p}, Request{})
			return p, err
		}, "named pipe"},
		{"VRT source is a pipe", func(t *testing.T, dir string) (string, error) {
			p := mkfifo(t, filepath.Join(dir, "scene.tif"))
			v := filepath.Join(dir, "s.vrt")
			vrtOf(t, v, p)
			_, err := e.PredictFile(context.Background(), []string{v}, Request{Resolution: 10})
			return p, err
		}, "named pipe"},
		{"sidecar is a pipe", func(t *testing.T, dir string) (string, error) {
			scene, _ := writeScene(t, dir, 64, 64, 10)
			p := mkfifo(t, scene+".aux.xml")
			_, err := e.PredictFile(context.Background(), []string{scene}, Request{})
			return p, err
		}, "named pipe"},
		{"zip is a pipe", func(t *testing.T, dir string) (string, error) {
			p := mkfifo(t, filepath.Join(dir, "s.zip"))
			_, err := e.PredictFile(context.Background(), []string{"/vsizip/" + p + "/s.tif"}, Request{})
			return p, err
		}, "named pipe"},
		{"MTL in a product folder is a pipe", func(t *testing.T, dir string) (string, error) {
			p := landsat(t, dir, func(p string) string { return mkfifo(t, p) })
			_, err := e.PredictFile(context.Background(), []string{filepath.Dir(p)}, Request{})
			return p, err
		}, "named pipe"},
		{"MTL named is a pipe", func(t *testing.T, dir string) (string, error) {
			p := landsat(t, dir, func(p string) string { return mkfifo(t, p) })
			_, err := e.PredictFile(context.Background(), []string{p}, Request{})
			return p, err
		}, "named pipe"},
		{"MTL is a sparse 1 GiB file", func(t *testing.T, dir string) (string, error) {
			p := landsat(t, dir, func(p string) string { return sparse(t, p, 1<<30) })
			_, err := e.PredictFile(context.Background(), []string{p}, Request{})
			return p, err
		}, "too large"},
		{"model is a pipe", func(t *testing.T, dir string) (string, error) {
			p := mkfifo(t, filepath.Join(dir, "m.onnx"))
			_, err := New(Options{Models: []string{p}, Threads: 1})
			return p, err
		}, "not a regular file"},
		{"model sidecar is a pipe", func(t *testing.T, dir string) (string, error) {
			m := copyFile(t, testModel("sidecar.onnx"), filepath.Join(dir, "m.onnx"))
			p := mkfifo(t, m+".json")
			_, err := New(Options{Models: []string{m}, Threads: 1})
			return p, err
		}, "named pipe"},
		{"model sidecar is a sparse 1 GiB file", func(t *testing.T, dir string) (string, error) {
			m := copyFile(t, testModel("sidecar.onnx"), filepath.Join(dir, "m.onnx"))
			p := sparse(t, m+".json", 1<<30)
			_, err := New(Options{Models: []string{m}, Threads: 1})
			return p, err
		}, "too large"},
		{"ONNX Runtime library is a pipe", func(t *testing.T, dir string) (string, error) {
			p := mkfifo(t, filepath.Join(dir, "libonnxruntime.so"))
			_, err := ort.Find(p)
			return p, err
		}, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			type result struct {
				name string
				err  error
			}
			done := make(chan result, 1)
			go func() { n, err := tc.run(t, dir); done <- result{n, err} }()
			select {
			case r := <-done:
				if r.err == nil {
					t.Fatal("no error")
				}
				msg := r.err.Error()
				if !strings.Contains(msg, r.name) || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
					t.Errorf("error %q: want one line naming %s and saying %q", msg, r.name, tc.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("blocked")
			}
		})
	}
}

// TestThreadsCapped: Options.Threads far above the cores (5000 took over a
// minute on a 0.3 s scene) is capped at MaxThreadsPerCore per core, with a
// warning.
func TestThreadsCapped(t *testing.T) {
	var log strings.Builder
	e := newEngine(t, Options{Models: []string{testModel("pointwise.onnx")}, Threads: 5000,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if want := MaxThreadsPerCore * runtime.NumCPU(); e.opts.Threads != want {
		t.Errorf("threads %d, want %d", e.opts.Threads, want)
	}
	if !strings.Contains(log.String(), "5000 threads asked for") {
		t.Errorf("no warning: %q", log.String())
	}
}
