package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/product"
	"github.com/omnimask/omnimask/internal/regfile"
)

// Errors of CheckOutputs: an output would replace something a run reads,
// two outputs would be the same file, or a destination exists and is not a
// regular file.
var (
	ErrOutputCollision = errors.New("engine: two outputs are the same file")
	ErrOutputNotFile   = errors.New("engine: output exists and is not a regular file")
)

// Sources returns the local files reading the scene named by paths would
// touch: the files it resolves to (bands of a product folder, the MTL, the
// file of a sub-dataset), the archives of /vsizip/ paths, every source of a
// VRT (recursively) and the sidecars GDAL reads beside them. An output must
// not be any of them (see CheckOutputs). For an engine with several
// variants (a product whose models depend on the bands a scene has) they
// are the files of every variant the scene resolves for, since which one
// runs is decided when the scene is opened; the error is the first
// variant's when none resolves.
func (e *Engine) Sources(paths []string, req Request) ([]string, error) {
	if res, ok, err := onProduct(e, req, func(s *Engine, r Request) ([]string, error) { return s.Sources(paths, r) }); ok {
		return res, err
	}
	var out []string
	seen := map[string]bool{}
	add := func(fs ...string) {
		for _, f := range fs {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			add(p)
		}
	}
	var first error
	resolved := false
	for i, v := range e.variants {
		if i > 0 && slices.Equal(v.layout.sources, e.variants[i-1].layout.sources) {
			continue
		}
		o := e.productOptions(req)
		o.Want = v.layout.sources
		in, err := product.Resolve(paths, o)
		if err == nil {
			var files []string
			for _, f := range in.Paths {
				var fs []string
				if fs, err = gdalio.Sources(f); err != nil {
					break
				}
				files = append(files, fs...)
			}
			if err == nil {
				add(files...)
				resolved = true
				continue
			}
		}
		if first == nil {
			first = err
		}
	}
	if !resolved {
		return out, first
	}
	return out, nil
}

// CheckOutputs refuses, before anything is written, outputs that would
// replace what a run reads or each other: an output that is one of inputs
// (by path, through symbolic links or as a hard link: ErrOutputIsInput), two
// outputs that are the same file (ErrOutputCollision), or an output that
// exists and is not a regular file — a directory, a named pipe, a device, a
// symbolic link (ErrOutputNotFile). inputs are files as Sources returns
// them; empty outputs are skipped.
func CheckOutputs(inputs, outputs []string) error {
	type file struct {
		name, real string
		st         os.FileInfo
	}
	ins := make([]file, 0, len(inputs))
	for _, in := range inputs {
		f := file{name: in, real: realPath(in)}
		f.st, _ = os.Stat(in)
		ins = append(ins, f)
	}
	var outs []file
	for _, out := range outputs {
		if out == "" {
			continue
		}
		o := file{name: out, real: realPath(out)}
		o.st, _ = os.Stat(out)
		for _, in := range ins {
			if o.real == in.real || (o.st != nil && in.st != nil && os.SameFile(o.st, in.st)) {
				what := ""
				if in.name != out && filepath.Clean(in.name) != filepath.Clean(out) {
					what = " (" + gdalio.Quote(in.name) + ")"
				}
				return fmt.Errorf("%s: %w%s", gdalio.Quote(out), ErrOutputIsInput, what)
			}
		}
		if lst, err := os.Lstat(out); err == nil && !lst.Mode().IsRegular() {
			return fmt.Errorf("%s: %w: it is %s", gdalio.Quote(out), ErrOutputNotFile, regfile.Kind(lst.Mode()))
		}
		for _, p := range outs {
			if o.real == p.real || (o.st != nil && p.st != nil && os.SameFile(o.st, p.st)) {
				return fmt.Errorf("%s and %s: %w", gdalio.Quote(p.name), gdalio.Quote(out), ErrOutputCollision)
			}
		}
		outs = append(outs, o)
	}
	return nil
}

// realPath is the absolute path of p with every symbolic link of its folder
// (and of p itself, when it exists) resolved.
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	dir, base := filepath.Split(abs)
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(r, base)
	}
	return abs
}

// maxModelBytes is the size limit of a model file (metadata files have
// regfile.MetadataLimit).
const maxModelBytes = 4 << 30

// RemoveStale removes, from dir, the temporary files of outputs that runs
// of this program left behind when they were killed: files named like its
// temporaries, last modified before before, whose process is no longer
// running. Temporaries of runs still going are kept. It returns the files
// removed.
func RemoveStale(dir string, before time.Time) ([]string, error) {
	return gdalio.RemoveStale(dir, before)
}

// ErrModelOutput is wrapped when a model's outputs are unusable for every
// pixel of a scene (all NaN, or only ±Inf): such a mask would say nothing.
var ErrModelOutput = errors.New("engine: unusable model output")

// outputFiles lists the files a request writes: the mask, its .aux.xml
// sidecar (category names) and the probabilities.
func outputFiles(req Request) []string {
	out := []string{req.Output, req.ConfidenceOutput}
	if req.Output != "" {
		out = append(out, req.Output+".aux.xml")
	}
	return out
}
