// Package batch holds the runner-independent logic of omnimask-batch: which
// scenes a command line names, where their masks go, whether an existing
// mask can be kept (its stored model identity), and the summary of a batch.
package batch

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/omnimask/omnimask/internal/cmdline"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoMatch is returned when a glob pattern matches no file.
var ErrNoMatch = errors.New("no file matches")

// Expand turns command-line scene arguments into scenes, in order: a
// file, folder or GDAL path stays as it is; "@list.txt" is replaced by the
// scene paths listed in that file (one per line; blank lines and lines
// starting with # are skipped; paths are used as given, like arguments); a
// local pattern with *, ? or [ is replaced by its sorted matches, less
// omnimask's own outputs (IsOutput). GDAL paths
// (/vsi…, DRIVER:…) are never globbed. A scene named twice is kept once.
func Expand(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		k := s
		if !isGDALPath(s) {
			k = filepath.Clean(s)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	var expand func(arg string, depth int) error
	expand = func(arg string, depth int) error {
		switch {
		case strings.HasPrefix(arg, "@"):
			if depth > 0 {
				return fmt.Errorf("%s: a list cannot include another list (%s)", arg[1:], arg)
			}
			lines, err := readList(arg[1:])
			if err != nil {
				return err
			}
			for _, l := range lines {
				if err := expand(l, depth+1); err != nil {
					return fmt.Errorf("%s: %w", arg[1:], err)
				}
			}
		case !isGDALPath(arg) && strings.ContainsAny(arg, "*?["):
			m, err := filepath.Glob(arg)
			if err != nil {
				return fmt.Errorf("%s: %w", arg, err)
			}
			if len(m) == 0 {
				return fmt.Errorf("%s: %w", arg, ErrNoMatch)
			}
			n := 0
			for _, f := range m { // filepath.Glob returns sorted matches
				if !IsOutput(f) {
					add(f)
					n++
				}
			}
			if n == 0 {
				return fmt.Errorf("%s: %w (but masks omnimask wrote)", arg, ErrNoMatch)
			}
		default:
			add(arg)
		}
		return nil
	}
	for _, a := range args {
		if err := expand(a, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// IsOutput reports whether a file name is one omnimask writes (a mask or
// its probabilities): globs skip them, so that a batch run again over
// "folder/*.tif" with masks written beside the scenes does not take its own
// masks for scenes. Files named explicitly or listed are taken as given.
func IsOutput(name string) bool {
	return strings.HasSuffix(name, "_omnimask.tif") || strings.HasSuffix(name, "_omnimask_confidence.tif")
}

// readList reads the scene paths of a list file.
func readList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scene list %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scene list %s: %w", path, err)
	}
	return lines, nil
}

// isGDALPath reports whether s is a GDAL virtual path or sub-dataset name
// rather than a plain local file name.
func isGDALPath(s string) bool {
	return strings.HasPrefix(s, "/vsi") || (strings.Contains(s, ":") && !strings.HasPrefix(s, "/"))
}

// MaskPath is where predict writes the mask of scene: SCENE_omnimask.tif in
// dir, or beside the scene when dir is empty. It follows omnimask predict's
// naming exactly: GDAL sub-dataset strings DRIVER:"file":name become
// DRIVER_file_name, unless a file of that name exists (sub/a:b.tif).
func MaskPath(scene, dir string) string { return cmdline.MaskPath(scene, dir) }

// Item is one scene of a batch: its position in the command line's order,
// the files it is read from and the mask it writes.
type Item struct {
	Index  int
	Scene  string
	Output string
}

// Plan expands args into the batch's items and checks that no two scenes
// write the same mask.
func Plan(args []string, outDir string) ([]Item, error) {
	scenes, err := Expand(args)
	if err != nil {
		return nil, err
	}
	items := make([]Item, len(scenes))
	owner := map[string]string{}
	for i, s := range scenes {
		o := MaskPath(s, outDir)
		if prev, dup := owner[o]; dup {
			return nil, fmt.Errorf("%s and %s would both write %s (use separate --output-dir runs)", prev, s, o)
		}
		owner[o] = s
		items[i] = Item{Index: i, Scene: s, Output: o}
	}
	return items, nil
}
