// Package ort is omnimask's only user of ONNX Runtime (through
// onnxruntime_go): it finds and loads the shared library once per process,
// and wraps inference sessions behind Close.
package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	onnx "github.com/yalue/onnxruntime_go"

	"github.com/omnimask/omnimask/internal/liberr"
)

// WantMajorMinor is the ONNX Runtime release line the bindings speak.
const WantMajorMinor = "1.24"

// LibraryEnv is the environment variable naming the library explicitly.
const LibraryEnv = "ONNXRUNTIME_LIB"

// ErrLibrary is wrapped by every failure to find or load the library.
var ErrLibrary = errors.New("ort: cannot load the ONNX Runtime library")

var setup struct {
	sync.Mutex
	done    bool
	path    string
	version string
}

// Setup loads the ONNX Runtime shared library and creates the process-wide
// environment. explicit, when not empty, is the path to use; otherwise the
// library is searched for (see Candidates). Setup is idempotent: later calls
// return the loaded version, or an error when they name a different file.
func Setup(explicit string) (version string, err error) {
	setup.Lock()
	defer setup.Unlock()
	if setup.done {
		if explicit != "" && !sameFile(explicit, setup.path) {
			return "", fmt.Errorf("%w: %s requested but %s is already loaded", ErrLibrary, explicit, setup.path)
		}
		return setup.version, nil
	}
	path, err := Find(explicit)
	if err != nil {
		return "", err
	}
	onnx.SetSharedLibraryPath(path)
	if err := onnx.InitializeEnvironment(onnx.WithLogLevelFatal()); err != nil {
		if strings.HasSuffix(liberr.FirstLine(err), "Error setting ORT API base: 2") {
			// OrtGetApiBase exists but GetApi(ORT_API_VERSION) returned
			// NULL: a release older than the API version the bindings use.
			err = errors.Join(errors.New("an ONNX Runtime older than "+WantMajorMinor+" (it lacks the C API version the bindings need)"), err)
		}
		return "", fmt.Errorf("%w: %w (omnimask needs ONNX Runtime %s.x)", ErrLibrary, &liberr.Error{Path: path, Err: err}, WantMajorMinor)
	}
	v := onnx.GetVersion()
	if !strings.HasPrefix(v, WantMajorMinor+".") {
		_ = onnx.DestroyEnvironment()
		return "", fmt.Errorf("%w: %s is version %s, need %s.x", ErrLibrary, path, v, WantMajorMinor)
	}
	setup.done, setup.path, setup.version = true, path, v
	return v, nil
}

// Loaded returns the path and version of the loaded library ("" before Setup).
func Loaded() (path, version string) {
	setup.Lock()
	defer setup.Unlock()
	return setup.path, setup.version
}

// Candidates lists where the library is looked for, in order: the explicit
// path, $ONNXRUNTIME_LIB, beside the executable, the project's
// third_party/onnxruntime folder (from the working directory upwards), then
// the system's library folders.
func Candidates(explicit string) []string {
	var c []string
	if explicit != "" {
		return []string{explicit}
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		return []string{env}
	}
	names := []string{"libonnxruntime.so.1", "libonnxruntime.so"}
	if runtime.GOOS == "darwin" {
		names = []string{"libonnxruntime.dylib"}
	}
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		dirs = append(dirs, d, filepath.Join(d, "lib"), filepath.Join(d, "..", "third_party", "onnxruntime"))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, filepath.Join(d, "third_party", "onnxruntime"))
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil || filepath.Dir(d) == d {
				break
			}
		}
	}
	dirs = append(dirs, "/usr/local/lib", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/opt/onnxruntime/lib")
	for _, d := range dirs {
		for _, n := range names {
			c = append(c, filepath.Join(d, n))
		}
	}
	return c
}

// Find returns the first candidate that exists.
func Find(explicit string) (string, error) {
	cands := Candidates(explicit)
	for _, p := range cands {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			if !st.Mode().IsRegular() {
				// dlopen would block on a named pipe.
				return "", fmt.Errorf("%w: %s: not a regular file", ErrLibrary, p)
			}
			return p, nil
		}
	}
	if explicit != "" || os.Getenv(LibraryEnv) != "" {
		return "", fmt.Errorf("%w: %s: no such file", ErrLibrary, cands[0])
	}
	return "", fmt.Errorf("%w: not found (set %s or --ort-lib; `make deps` installs it into third_party/onnxruntime)", ErrLibrary, LibraryEnv)
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
