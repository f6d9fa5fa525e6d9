package main

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/omnimask/omnimask/internal/cmdline"
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
	fs := newFlagSet("probe "+sub, "EMBEDDINGS(.tif|.parquet)... [flags]", stderr)
	labels := fs.String("labels", "", "fit, eval: labels, comma-separated: label rasters on each scene's pixel grid, one per embeddings file (majority class per chip), "+
		"or points files (.csv: x,y,label[,crs] with an optional header; .geojson/.json: a FeatureCollection of Points), each applied to every embeddings file: "+
		"a point labels the chip(s) containing it, majority per chip, ties dropped")
	field := fs.String("label-field", "label", "points: the label property (GeoJSON) or header column (CSV)")
	labelsCRS := fs.String("labels-crs", "", "points: CRS of the points that do not name one (e.g. EPSG:4326: x longitude, y latitude); default: the embeddings' CRS")
	lambda := fs.Float64("lambda", 0.01, "L2 penalty")
	out := fs.String("o", "", "fit: probe file (JSON); predict: class map GeoTIFF (uint8)")
	probs := fs.String("probabilities", "", "predict: class probabilities GeoTIFF (float32, one band per class named by it, NaN for nodata chips)")
	pfile := fs.String("probe", "", "predict: probe file")
	folds := fs.Int("folds", 0, "eval: folds of whole scenes (0: leave one scene out)")
	files, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no embeddings")
	}
	set := cmdline.SetFlags(fs)
	switch {
	case set["lambda"] && !(*lambda >= 0 && *lambda <= math.MaxFloat64):
		return usagef("--lambda %g: want a finite number >= 0", *lambda)
	case set["folds"] && (*folds < 0 || *folds > 1000):
		return usagef("--folds %d: want 0..1000 (0: leave one scene out)", *folds)
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
		if sub == "fit" && *out == "" {
			return usagef("no output (-o)")
		}
		chipLab, err := labelChips(embs, *labels, *field, *labelsCRS, stdout, stderr)
		if err != nil {
			return err
		}
		var x [][]float64
		var lab, groups []string
		for i, e := range embs {
			for j, v := range e.Vectors {
				if v != nil && chipLab[i][j] != "" {
					x, lab, groups = append(x, v), append(lab, chipLab[i][j]), append(groups, e.Path)
				}
			}
		}
		if len(x) == 0 {
			return fmt.Errorf("%s: no labelled chip with an embedding", *labels)
		}
		classes, y := compact(lab)
		if sub == "fit" {
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
		if *pfile == "" || (*out == "" && *probs == "") || len(embs) != 1 {
			return usagef("predict: one embeddings file, --probe and -o and/or --probabilities")
		}
		p, err := probe.Load(*pfile)
		if err != nil {
			return err
		}
		e := embs[0]
		if p.Encoder != e.Encoder() {
			return fmt.Errorf("%s: probe fitted on embeddings of %s, %s has %s", *pfile, p.Encoder, e.Path, e.Encoder())
		}
		class, prob, err := p.Apply(e)
		if err != nil {
			return err
		}
		if *probs != "" {
			if err := probe.WriteProbabilities(*probs, e, p.Classes, prob); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: %dx%d chips, probabilities of %d classes\n", *probs, e.Cols, e.Rows, len(p.Classes))
		}
		if *out == "" {
			return nil
		}
		if err := writeClassMap(*out, e, p.Classes, class); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %dx%d chips classified\n", *out, e.Cols, e.Rows)
		return nil
	}
	return usagef("probe %q: want fit, predict or eval", sub)
}

// labelChips returns the label of every chip of every embeddings file (""
// for none) from --labels: one label raster per file, or points files
// applied to all of them.
func labelChips(embs []*probe.Embeddings, labels, field, crs string, stdout, stderr io.Writer) ([][]string, error) {
	if labels == "" {
		return nil, usagef("no --labels")
	}
	lab := strings.Split(labels, ",")
	points := 0
	for _, l := range lab {
		if probe.IsPointsFile(l) {
			points++
		}
	}
	out := make([][]string, len(embs))
	switch {
	case points == 0:
		if len(lab) != len(embs) {
			return nil, usagef("--labels: want %d label rasters, one per embeddings file, or points files", len(embs))
		}
		for i, e := range embs {
			l, err := probe.ChipLabels(e, lab[i])
			if err != nil {
				return nil, err
			}
			out[i] = make([]string, len(l))
			for j, v := range l {
				if v >= 0 {
					out[i][j] = strconv.Itoa(v)
				}
			}
		}
		return out, nil
	case points != len(lab):
		return nil, usagef("--labels: label rasters and points files mixed")
	}
	var pts []probe.Point
	for _, l := range lab {
		p, err := probe.ReadPoints(l, field, crs)
		if err != nil {
			return nil, err
		}
		pts = append(pts, p...)
	}
	out, st, err := probe.PointLabels(embs, pts)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "%d points: %d in chips with embeddings, labelling %d chips (%d by majority)\n", st.Points, st.InChips, st.Chips, st.Conflicts)
	if st.Outside > 0 || st.NoData > 0 || st.Ties > 0 {
		fmt.Fprintf(stderr, "omnimask probe: warning: %d points outside every chip grid, %d on nodata chips only, %d chips with tied labels left unlabelled\n",
			st.Outside, st.NoData, st.Ties)
	}
	return out, nil
}

// writeClassMap writes the class of each chip as a uint8 GeoTIFF on the chip
// grid, 255 for nodata chips: the class names' values when they are all
// integers 0..254 (label raster values), else the class indices, with the
// class names as category names.
func writeClassMap(path string, e *probe.Embeddings, classes []string, class []int) error {
	if len(classes) > 255 {
		return fmt.Errorf("%s: %d classes do not fit a uint8 class map", path, len(classes))
	}
	vals, numeric := make([]uint8, len(classes)), true
	for i, c := range classes {
		v, err := strconv.Atoi(c)
		if err != nil || v < 0 || v > 254 {
			numeric = false
			break
		}
		vals[i] = uint8(v)
	}
	var cats []string
	if !numeric {
		cats = classes
		for i := range vals {
			vals[i] = uint8(i)
		}
	}
	m := make([]uint8, len(class))
	for i, c := range class {
		m[i] = 255
		if c >= 0 {
			m[i] = vals[c]
		}
	}
	w, err := gdalio.Create(path, image.Pt(e.Cols, e.Rows), e.Geo, gdalio.WriteOptions{NoData: raster.NoDataValue(255), Categories: cats})
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.WriteUint8(0, image.Rect(0, 0, e.Cols, e.Rows), m); err != nil {
		return err
	}
	return w.Commit()
}

// compact maps labels to class indices 0..K-1 and returns the classes:
// sorted by value when every label is an integer (label raster values),
// else as strings.
func compact(y []string) ([]string, []int) {
	seen := map[string]bool{}
	var names []string
	numeric := true
	for _, v := range y {
		if !seen[v] {
			seen[v] = true
			names = append(names, v)
			if _, err := strconv.Atoi(v); err != nil {
				numeric = false
			}
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if numeric {
			a, _ := strconv.Atoi(names[i])
			b, _ := strconv.Atoi(names[j])
			return a < b
		}
		return names[i] < names[j]
	})
	idx := map[string]int{}
	for i, v := range names {
		idx[v] = i
	}
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = idx[v]
	}
	return names, out
}
