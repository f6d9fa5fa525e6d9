// Command biomeprobe is the embeddings demonstration (make probe-demo): it
// embeds every 32x32 chip of the Landsat 8 Biome patches in
// ../shared/data/cloud/l8biome (30 m, biome in the file name) with the
// built-in mobilenetv2-imagenet encoder, and reports leave-one-patch-out
// accuracy of a linear probe (probe package) for
//
//   - the biome of clear chips (every pixel labelled clear, 128), and
//   - cloud (>= 90 % thick or thin cloud) vs clear chips,
//
// beside the same probe on raw band statistics of the chip (mean and std of
// each of the patch's bands).
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/probe"
)

const chip = 32

var mode string

type sample struct {
	emb, stats []float64
	biome      string
	patch      string
	cloud      bool
}

func main() {
	dir := flag.String("data", "../shared/data/cloud/l8biome", "L8 Biome patches (*_image.tif, *_mask.tif in subfolders)")
	lambda := flag.Float64("lambda", 1e-2, "L2 penalty of the probe")
	flag.StringVar(&mode, "mode", "chips", "chips: each 32 px chip embedded alone; dense: the whole 256 px patch in one tile, its 32 px feature cells (context from the whole patch)")
	flag.Parse()
	if err := run(*dir, *lambda); err != nil {
		fmt.Fprintln(os.Stderr, "biomeprobe:", err)
		os.Exit(1)
	}
}

func run(dir string, lambda float64) error {
	images, _ := filepath.Glob(filepath.Join(dir, "*", "*_image.tif"))
	if len(images) == 0 {
		return fmt.Errorf("%s: no *_image.tif patches", dir)
	}
	sort.Strings(images)
	if _, err := ort.Setup(""); err != nil {
		return err
	}
	e, err := embed.Load("mobilenetv2-imagenet", ort.Options{})
	if err != nil {
		return err
	}
	defer e.Close()
	tmp, err := os.MkdirTemp("", "biomeprobe")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var all []sample
	t0 := time.Now()
	var embedTime time.Duration
	for _, img := range images {
		s, d, err := patch(e, img, tmp)
		if err != nil {
			return err
		}
		embedTime += d
		all = append(all, s...)
	}
	fmt.Printf("mode %s: %d patches, %d chips of %d px embedded in %.1fs (%.1fs in embed)\n", mode, len(images), len(all), chip, time.Since(t0).Seconds(), embedTime.Seconds())

	// biome of clear chips
	var clear []sample
	for _, s := range all {
		if s.biome != "" && !s.cloud {
			clear = append(clear, s)
		}
	}
	biomes := labels(clear, func(s sample) string { return s.biome })
	report("biome (clear chips)", clear, biomes, func(s sample) string { return s.biome }, lambda)
	cc := labels(all, func(s sample) string { return cloudName(s.cloud) })
	report("cloud vs clear", all, cc, func(s sample) string { return cloudName(s.cloud) }, lambda)
	return nil
}

func cloudName(c bool) string {
	if c {
		return "cloud"
	}
	return "clear"
}

func labels(ss []sample, f func(sample) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[f(s)] {
			seen[f(s)] = true
			out = append(out, f(s))
		}
	}
	sort.Strings(out)
	return out
}

func report(what string, ss []sample, classes []string, label func(sample) string, lambda float64) {
	idx := map[string]int{}
	for i, c := range classes {
		idx[c] = i
	}
	var y []int
	var g []string
	var xe, xs [][]float64
	count := make([]int, len(classes))
	for _, s := range ss {
		y = append(y, idx[label(s)])
		count[idx[label(s)]]++
		g = append(g, s.patch)
		xe, xs = append(xe, s.emb), append(xs, s.stats)
	}
	fmt.Printf("\n%s: %d chips, %d patches, classes %v (chips %v), leave-one-patch-out, lambda %g\n", what, len(ss), len(labels(ss, func(s sample) string { return s.patch })), classes, count, lambda)
	for _, f := range []struct {
		name string
		x    [][]float64
	}{{"embeddings (1280-D)", xe}, {fmt.Sprintf("band mean/std (%d-D)", len(xs[0])), xs}} {
		t := time.Now()
		r, err := probe.CrossValidate(f.x, y, g, classes, lambda, 0)
		if err != nil {
			fmt.Printf("  %-22s error: %v\n", f.name, err)
			continue
		}
		leaky := make([]string, len(g))
		for i := range leaky {
			leaky[i] = fmt.Sprint(i % 5)
		}
		if rl, err := probe.CrossValidate(f.x, y, leaky, classes, lambda, 0); err == nil {
			fmt.Printf("  %-22s 5-fold by chip (leaks neighbouring chips): accuracy %.3f\n", f.name, rl.Accuracy)
		}
		var f1 []string
		macro := 0.0
		for i, v := range r.F1 {
			f1 = append(f1, fmt.Sprintf("%s %.2f", classes[i], v))
			macro += v / float64(len(r.F1))
		}
		fmt.Printf("  %-22s accuracy %.3f, macro F1 %.3f (%.0fs)\n    F1: %s\n", f.name, r.Accuracy, macro, time.Since(t).Seconds(), strings.Join(f1, ", "))
	}
}

// patch embeds one patch and returns its chips that are all clear or mostly
// cloud, with their raw band statistics.
func patch(e *embed.Encoder, img, tmp string) ([]sample, time.Duration, error) {
	name := strings.TrimSuffix(filepath.Base(img), "_image.tif")
	out := filepath.Join(tmp, name+".tif")
	t := time.Now()
	var err error
	if mode == "dense" {
		_, err = embed.Dense(context.Background(), e, []string{img}, out, embed.DenseOptions{Tile: 256, Overlap: -1, MaxNoData: 1})
	} else {
		_, err = embed.Chips(context.Background(), e, []string{img}, out, embed.Options{Chip: chip, MaxNoData: 1})
	}
	if err != nil {
		return nil, 0, err
	}
	d := time.Since(t)
	emb, err := probe.ReadEmbeddings(out)
	if err != nil {
		return nil, 0, err
	}
	px, w, _, err := readAll(img)
	if err != nil {
		return nil, 0, err
	}
	mask, _, _, err := readAll(strings.TrimSuffix(img, "_image.tif") + "_mask.tif")
	if err != nil {
		return nil, 0, err
	}
	var out2 []sample
	for r := range emb.Rows {
		for c := range emb.Cols {
			var nClear, nCloud int
			for y := r * chip; y < (r+1)*chip; y++ {
				for x := c * chip; x < (c+1)*chip; x++ {
					switch mask[0][y*w+x] {
					case 128:
						nClear++
					case 192, 255:
						nCloud++
					}
				}
			}
			s := sample{patch: name, biome: strings.SplitN(name, "_", 2)[0]}
			switch {
			case nClear == chip*chip:
			case nCloud >= chip*chip*9/10:
				s.cloud = true
			default:
				continue
			}
			if s.emb = emb.Vectors[r*emb.Cols+c]; s.emb == nil {
				continue // nodata chip
			}
			for _, b := range px {
				var sum, ss float64
				for y := r * chip; y < (r+1)*chip; y++ {
					for _, v := range b[y*w+c*chip : y*w+(c+1)*chip] {
						sum += float64(v)
						ss += float64(v) * float64(v)
					}
				}
				n := float64(chip * chip)
				m := sum / n
				s.stats = append(s.stats, m, math.Sqrt(max(0, ss/n-m*m)))
			}
			out2 = append(out2, s)
		}
	}
	return out2, d, nil
}

func readAll(path string) ([][]float32, int, int, error) {
	gdalio.Register()
	ds, err := godal.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	defer ds.Close()
	st := ds.Structure()
	var out [][]float32
	for _, b := range ds.Bands() {
		buf := make([]float32, st.SizeX*st.SizeY)
		if err := b.Read(0, 0, buf, st.SizeX, st.SizeY); err != nil {
			return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, buf)
	}
	return out, st.SizeX, st.SizeY, nil
}
