package main

import (
	"context"
	"fmt"
	"image"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/probe"
	"github.com/omnimask/omnimask/raster"
)

// runProbe is `omnimask probe fit|predict|eval`: a linear probe on
// embeddings written by `omnimask embed`.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("probe: want fit, predict or eval")
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("probe "+sub, "EMBEDDINGS.tif... [flags]", stderr)
	labels := fs.String("labels", "", "label rasters on each scene's pixel grid, comma-separated, one per embeddings file (majority class per chip)")
	lambda := fs.Float64("lambda", 0.01, "L2 penalty")
	out := fs.String("o", "", "fit: probe file (JSON); predict: class map GeoTIFF")
	pfile := fs.String("probe", "", "predict: probe file")
	folds := fs.Int("folds", 0, "eval: folds of whole scenes (0: leave one scene out)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no embeddings")
	}
	var embs []*probe.Embeddings
	for _, f := range files {
		e, err := probe.ReadEmbeddings(f)
		if err != nil {
			return err
		}
		if len(embs) > 0 && e.Encoder() != embs[0].Encoder() {
			return fmt.Errorf("%s: embeddings of %s, %s has %s: never mixed", f, e.Encoder(), embs[0].Path, embs[0].Encoder())
		}
		embs = append(embs, e)
	}
	switch sub {
	case "fit", "eval":
		lab := strings.Split(*labels, ",")
		if *labels == "" || len(lab) != len(embs) {
			return usagef("--labels: want %d label rasters, one per embeddings file", len(embs))
		}
		var x [][]float64
		var y []int
		var groups []string
		for i, e := range embs {
			l, err := probe.ChipLabels(e, lab[i])
			if err != nil {
				return err
			}
			for j, v := range e.Vectors {
				if v != nil && l[j] >= 0 {
					x, y, groups = append(x, v), append(y, l[j]), append(groups, e.Path)
				}
			}
		}
		classes, y := compact(y)
		if sub == "fit" {
			if *out == "" {
				return usagef("no output (-o)")
			}
			p, err := probe.Fit(x, y, classes, *lambda)
			if err != nil {
				return err
			}
			p.Encoder = embs[0].Encoder()
			if err := p.Save(*out); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: %d classes from %d chips of %d scenes, %d-D (%s)\n", *out, len(classes), len(x), len(embs), len(p.Mean), p.Encoder)
			return nil
		}
		r, err := probe.CrossValidate(x, y, groups, classes, *lambda, *folds)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d chips, %d folds by scene: accuracy %.4f\n", r.N, r.Folds, r.Accuracy)
		for i, c := range classes {
			fmt.Fprintf(stdout, "  class %-4s F1 %.3f  confusion %v\n", c, r.F1[i], r.Confusion[i])
		}
		return nil
	case "predict":
		if *pfile == "" || *out == "" || len(embs) != 1 {
			return usagef("predict: one embeddings file, --probe and -o")
		}
		p, err := probe.Load(*pfile)
		if err != nil {
			return err
		}
		e := embs[0]
		if p.Encoder != e.Encoder() {
			return fmt.Errorf("%s: probe fitted on embeddings of %s, %s has %s", *pfile, p.Encoder, e.Path, e.Encoder())
		}
		vals := make([]uint8, len(p.Classes))
		for i, c := range p.Classes {
			v, err := strconv.Atoi(c)
			if err != nil || v < 0 || v > 254 {
				return fmt.Errorf("%s: class %q is not a label value 0..254", *pfile, c)
			}
			vals[i] = uint8(v)
		}
		m := make([]uint8, e.Cols*e.Rows)
		for i, v := range e.Vectors {
			m[i] = 255
			if v != nil {
				m[i] = vals[p.Class(v)]
			}
		}
		w, err := gdalio.Create(*out, image.Pt(e.Cols, e.Rows), e.Geo, gdalio.WriteOptions{NoData: raster.NoDataValue(255)})
		if err != nil {
			return err
		}
		defer w.Close()
		if err := w.WriteUint8(0, image.Rect(0, 0, e.Cols, e.Rows), m); err != nil {
			return err
		}
		if err := w.Commit(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %dx%d chips classified\n", *out, e.Cols, e.Rows)
		return nil
	}
	return usagef("probe %q: want fit, predict or eval", sub)
}

// compact maps label values to class indices 0..K-1 (sorted values) and
// returns the values' names.
func compact(y []int) ([]string, []int) {
	seen := map[int]bool{}
	var vals []int
	for _, v := range y {
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	sort.Ints(vals)
	idx := map[int]int{}
	names := make([]string, len(vals))
	for i, v := range vals {
		idx[v], names[i] = i, strconv.Itoa(v)
	}
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = idx[v]
	}
	return names, out
}
