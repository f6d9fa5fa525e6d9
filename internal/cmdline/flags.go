// Package cmdline holds what the omnimask and omnimask-batch commands share so
// that their flags and outputs mean the same thing: flag values, the patch
// and overlap check against a loaded engine, and the default mask name.
package cmdline

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/raster"
	"github.com/omnimask/omnimask/tiling"
	"github.com/omnimask/omnimask/tta"
)

// MaxPatch is the largest --patch-size accepted (or the model's own, if
// larger).
const MaxPatch = 4096

// List collects a repeatable string flag.
type List []string

func (l *List) String() string     { return strings.Join(*l, ",") }
func (l *List) Set(v string) error { *l = append(*l, v); return nil }

// NoData parses a number (or "nan") into a raster.NoData.
type NoData struct{ V raster.NoData }

func (n *NoData) String() string {
	if !n.V.Set {
		return ""
	}
	return strconv.FormatFloat(n.V.Value, 'g', -1, 64)
}

func (n *NoData) Set(v string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", v)
	}
	n.V = raster.NoDataValue(f)
	return nil
}

// Blend parses a tiling.Window.
type Blend struct{ tiling.Window }

func (b *Blend) String() string { return b.Window.String() }
func (b *Blend) Set(v string) error {
	w, err := tiling.ParseWindow(v)
	b.Window = w
	return err
}

// Floats parses a comma-separated list of finite numbers.
type Floats struct{ V []float64 }

func (f *Floats) String() string {
	var parts []string
	for _, v := range f.V {
		parts = append(parts, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return strings.Join(parts, ",")
}

func (f *Floats) Set(s string) error {
	f.V = nil
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("not a finite number: %q", part)
		}
		f.V = append(f.V, v)
	}
	return nil
}

// SetFlags returns the names of the flags given on the command line.
func SetFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// CheckTiling checks --patch-size and --overlap (when set) against the
// engine's models: a patch the network takes, an overlap below half the
// patch. The error is one line naming the flag and its valid range.
func CheckTiling(patch, overlap int, set map[string]bool, e *engine.Engine) error {
	m := e.Manifest()
	multiple, fixed := e.PatchRule()
	size := m.PatchSize
	if set["patch-size"] {
		lo := (tiling.MinPatch + multiple - 1) / multiple * multiple
		hi := max(MaxPatch, m.PatchSize) / multiple * multiple
		switch {
		case fixed > 0 && patch != fixed:
			return fmt.Errorf("--patch-size %d: the model's input is fixed at %d px (leave the flag out)", patch, fixed)
		case patch < lo || patch > hi || patch%multiple != 0:
			of := ""
			if multiple > 1 {
				of = fmt.Sprintf(", a multiple of %d", multiple)
			}
			return fmt.Errorf("--patch-size %d: want %d..%d%s (leave the flag out for the model's %d)", patch, lo, hi, of, m.PatchSize)
		}
		size = patch
	}
	if hi := (size+1)/2 - 1; set["overlap"] && (overlap < -1 || overlap > hi) {
		return fmt.Errorf("--overlap %d: want 0..%d, below half the %d px patch (0 or -1: none; leave the flag out for the model's)", overlap, hi, size)
	}
	return nil
}

// TTAUsage is the help of --tta.
const TTAUsage = "test-time augmentation: none | flips (4 inference calls per patch) | d4 (8: flips and rotations) (default: the model's, else none)"

// TTA parses a tta.Mode: none, flips or d4.
type TTA struct{ tta.Mode }

func (t *TTA) String() string { return t.Mode.String() }

func (t *TTA) Set(v string) error {
	m, err := tta.Parse(v)
	if err == nil && m == tta.Default {
		err = fmt.Errorf("tta: empty mode (want none, flips or d4)")
	}
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "tta: "))
	}
	t.Mode = m
	return nil
}
