package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/cmdline"
	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/internal/product"
)

// runEmbed is `omnimask embed`: one embedding vector per chip (or the
// encoder's feature map), one output per scene. Scenes, --stack, --sensor,
// --bands, -o and --output-dir are as in predict.
func runEmbed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("embed", "SCENE... [flags]", stderr)
	model := fs.String("model", "mobilenetv2-imagenet", "embedding encoder: built-in name or ONNX file")
	mode := fs.String("mode", "chips", "chips: one vector per chip; dense: the encoder's feature map over overlapping tiles (centre-crop stitching)")
	tile := fs.Int("tile", 0, "dense: tile size in pixels (default: the manifest's patch_size)")
	overlap := fs.Int("overlap", 0, "dense: tile overlap in pixels (default: the manifest's; -1: none)")
	out := fs.String("o", "", "output (one scene only; default SCENE_embed.tif, or SCENE_embed.parquet with --format geoparquet): a GeoTIFF of D float32 bands, one pixel per chip, and sidecar OUT.json; a name ending in .parquet or .geoparquet writes GeoParquet")
	format := fs.String("format", "", "chips mode output: gtiff (D-band GeoTIFF and sidecar OUT.json) or geoparquet (one row per embedded chip: row, col, x, y, geometry, embedding; the sidecar in the file's metadata) (default: from -o's name, else gtiff)")
	outDir := fs.String("output-dir", "", "folder for the outputs (default: beside each scene)")
	stack := fs.Bool("stack", false, "treat all SCENE files as the bands of one scene, stacked in order")
	sensorName := fs.String("sensor", "auto", "sensor preset for band layout: auto, sentinel2, landsat8, landsat7, landsat5, planetscope4, planetscope8, naip, modis")
	var o embed.Options
	fs.IntVar(&o.Chip, "chip", 32, "chip size in pixels (a multiple of the encoder's size_multiple)")
	fs.IntVar(&o.Stride, "stride", 0, "chip grid step in pixels (default: the chip size)")
	fs.Float64Var(&o.ProcessingResolution, "processing-resolution", 0, "cut chips (--chip, --stride in pixels) or dense tiles (--tile, --overlap; cells of the output stride) at this pixel size in metres, 0 < m <= 100000, resampling the scene as predict does (default: the scene's own grid)")
	fs.Float64Var(&o.Resolution, "resolution", 0, "with --processing-resolution: the scene's pixel size in metres, 0 < m <= 100000 (default: from its georeference)")
	fs.Float64Var(&o.MaxNoData, "max-nodata", 0.5, "a chip (dense: a feature cell) with a larger fraction of nodata pixels, or no valid pixel, is nodata (NaN); 1 keeps every one with a valid pixel")
	fs.IntVar(&o.Batch, "batch", 64, "chips per inference call")
	fs.Float64Var(&o.Scale, "scale", 0, "reflectance = value x scale + offset (reflectance encoders; default: from the product metadata (Landsat MTL, Sentinel-2 MTD) when known, else values are reflectance)")
	fs.Float64Var(&o.Offset, "offset", 0, "see --scale")
	fs.StringVar(&o.DType, "dtype", "float32", "output values: float32, or float16 (rounded to IEEE half precision, round to nearest even, but stored as Float32: GDAL 3.6 has no Float16 type; the sidecar says \"dtype\": \"float16\")")
	bands := fs.String("bands", "", "source bands for the encoder's inputs: 3,2,4 | B04,B03,B08 | red=3,green=2,nir=4 (default: match band names)")
	threads := fs.Int("threads", 0, "inference threads, in all (default: all cores)")
	streams := fs.Int("streams", 0, "chips mode: inference calls running at once, sharing the threads, 1 to the threads (default 2)")
	fs.IntVar(&o.Readers, "readers", 0, fmt.Sprintf("chips mode: goroutines reading and normalising the scene, each on whole windows of chip rows and a handle of its own, 0..%d (0: the default, max(1, cores/4) = %d here; the output is the same for any number)", embed.MaxReaders, embed.DefaultReaders()))
	ortLib := fs.String("ort-lib", "", "path to libonnxruntime.so")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	scenes, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(scenes) == 0:
		fs.Usage()
		return usagef("no scene given")
	case *mode != "chips" && *mode != "dense":
		return usagef("--mode %q: want chips or dense", *mode)
	case o.DType != embed.Float32 && o.DType != embed.Float16:
		return usagef("--dtype %q: want float32 or float16", o.DType)
	}
	if err := checkSensor(*sensorName); err != nil {
		return err
	}
	if o.Format, err = embedFormat(*format, *out, *mode); err != nil {
		return err
	}
	if err := checkEmbedNumbers(cmdline.SetFlags(fs), &o, *tile, *overlap); err != nil {
		return err
	}
	if set := cmdline.SetFlags(fs); set["resolution"] && !set["processing-resolution"] {
		return usagef("--resolution: only with --processing-resolution (without it the scene's own grid is used)")
	}
	if cmdline.SetFlags(fs)["overlap"] && *overlap == 0 {
		*overlap = -1 // an explicit 0 means no overlap, as in predict
	}
	if o.MaxNoData == 0 {
		o.MaxNoData = 1e-12 // an explicit 0 means: no nodata pixel at all
	}
	groups := sceneGroups(scenes, *stack)
	outputs, err := embedOutputs(groups, *out, *outDir, o.Format)
	if err != nil {
		return err
	}
	nt, ns, err := embedThreads(fs, *threads, *streams, *mode)
	if err != nil {
		return err
	}
	o.Streams = ns
	if _, err := ort.Setup(*ortLib); err != nil {
		return err
	}
	e, err := embed.Load(*model, ort.Options{Threads: nt / ns})
	if err != nil {
		return err
	}
	defer e.Close()
	var inputs []string
	for _, g := range groups {
		inputs = append(inputs, embedSources(g, product.Options{Sensor: *sensorName, Bands: *bands, Want: e.Manifest.Bands})...)
	}
	var written []string
	for _, w := range outputs {
		written = append(written, w)
		if o.Format == embed.GTiff {
			written = append(written, w+".json", w+".aux.xml")
		}
	}
	if err := engine.CheckOutputs(inputs, written); err != nil {
		return usageError{Msg: err.Error(), Cause: err}
	}
	failed := 0
	for i, g := range groups {
		if err := ctx.Err(); err != nil {
			return err
		}
		in := embed.Input{Paths: g, Sensor: *sensorName, Bands: *bands}
		var res *embed.Result
		if *mode == "dense" {
			res, err = embed.DenseInput(ctx, e, in, outputs[i], embed.DenseOptions{Tile: *tile, Overlap: *overlap, MaxNoData: o.MaxNoData, Scale: o.Scale, Offset: o.Offset, DType: o.DType,
				ProcessingResolution: o.ProcessingResolution, Resolution: o.Resolution})
		} else {
			res, err = embed.ChipsInput(ctx, e, in, outputs[i], o)
		}
		if err != nil {
			if errors.Is(err, context.Canceled) || len(groups) == 1 {
				return err
			}
			fmt.Fprintf(stderr, "omnimask embed: %s\n", oneLine(explain(err)))
			failed++
			continue
		}
		if !*quiet {
			fmt.Fprintf(stdout, "%s: %dx%d cells (%d embedded, %d nodata), %d-D, %.2fs (inference %.2fs, %.0f cells/s)\n",
				oneLine(outputs[i]), res.Cols, res.Rows, res.Chips, res.NoDataChips, e.Dim(), res.Total.Seconds(), res.Infer.Seconds(),
				float64(res.Chips)/res.Total.Seconds())
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d scenes failed", failed, len(groups))
	}
	return nil
}

// embedFormat returns the output format of --format and -o: --format when
// given, else geoparquet for an -o named .parquet or .geoparquet, else
// gtiff. A name that says the other format, and GeoParquet in dense mode,
// are refused.
func embedFormat(format, out, mode string) (string, error) {
	pq := out != "" && embed.IsGeoParquetName(out)
	tiff := out != "" && (strings.EqualFold(filepath.Ext(out), ".tif") || strings.EqualFold(filepath.Ext(out), ".tiff"))
	switch {
	case format == "" && pq:
		format = embed.GeoParquet
	case format == "":
		format = embed.GTiff
	case format != embed.GTiff && format != embed.GeoParquet:
		return "", usagef("--format %q: want gtiff or geoparquet", format)
	case format == embed.GTiff && pq:
		return "", usagef("--format gtiff with -o %s: name a GeoTIFF .tif", out)
	case format == embed.GeoParquet && tiff:
		return "", usagef("--format geoparquet with -o %s: name it .parquet", out)
	}
	if format == embed.GeoParquet && mode != "chips" {
		return "", usagef("GeoParquet output is for chips mode (one row per chip); --mode %s writes a GeoTIFF", mode)
	}
	return format, nil
}

// embedOutputs names each scene's output as predict names masks: -o (one
// scene only), else SCENE_embed.tif (SCENE_embed.parquet for GeoParquet)
// in --output-dir or beside the scene.
func embedOutputs(groups [][]string, out, dir, format string) ([]string, error) {
	if out != "" && len(groups) > 1 {
		return nil, usagef("-o names one file but %d scenes were given (use --output-dir)", len(groups))
	}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("%s: output folder does not exist", dir)
		} else if !st.IsDir() {
			return nil, usagef("--output-dir %s: not a folder", dir)
		}
	}
	outputs := make([]string, len(groups))
	seen := map[string]string{}
	for i, g := range groups {
		outputs[i] = out
		if out == "" {
			outputs[i] = cmdline.EmbedPath(g[0], dir)
			if format == embed.GeoParquet {
				outputs[i] = strings.TrimSuffix(outputs[i], ".tif") + ".parquet"
			}
		}
		if prev, dup := seen[filepath.Clean(outputs[i])]; dup {
			return nil, usagef("%s and %s would both write %s (use separate --output-dir runs)", prev, g[0], outputs[i])
		}
		seen[filepath.Clean(outputs[i])] = g[0]
	}
	return outputs, nil
}

// embedSources lists the files a scene reads (as engine.Sources does for
// predict), for the check that no output replaces one: the regular files
// named, and the rasters the product resolves to.
func embedSources(paths []string, po product.Options) []string {
	var out []string
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	in, err := product.Resolve(paths, po)
	if err != nil {
		return out
	}
	for _, f := range in.Paths {
		files, _ := gdalio.Sources(f)
		out = append(out, files...)
	}
	return out
}

// embedThreads checks --threads and --streams and returns the threads in
// all and the inference calls at once (dense mode runs one call at a time,
// on all the threads).
func embedThreads(fs *flag.FlagSet, threads, streams int, mode string) (int, int, error) {
	threads, err := cmdline.CheckThreads(cmdline.SetFlags(fs), threads, streams)
	if err != nil {
		return 0, 0, usagef("%s", err)
	}
	switch {
	case mode == "dense":
		streams = 1
	case streams == 0:
		streams = min(2, threads)
	}
	return threads, streams, nil
}

// maxEmbedBatch bounds --batch: a batch of 1024 chips of 32 px and 13 bands
// is 54 MB of input, far past where larger batches stop paying.
const maxEmbedBatch = 1024

// checkEmbedNumbers checks embed's numeric flags given on the command line:
// one line naming the flag and its range, exit 2.
func checkEmbedNumbers(set map[string]bool, o *embed.Options, tile, overlap int) error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case set["chip"] && (o.Chip < 1 || o.Chip > 4096):
		return usagef("--chip %d: want 1..4096 (a multiple of the encoder's size_multiple)", o.Chip)
	case set["stride"] && (o.Stride < 1 || o.Stride > o.Chip):
		return usagef("--stride %d: want 1..%d (the chip size)", o.Stride, o.Chip)
	case set["batch"] && (o.Batch < 1 || o.Batch > maxEmbedBatch):
		return usagef("--batch %d: want 1..%d", o.Batch, maxEmbedBatch)
	case set["max-nodata"] && !(o.MaxNoData >= 0 && o.MaxNoData <= 1):
		return usagef("--max-nodata %g: want 0..1", o.MaxNoData)
	case set["scale"] && (!finite(o.Scale) || o.Scale < 0):
		return usagef("--scale %g: want a finite number >= 0 (0: values are reflectance)", o.Scale)
	case set["offset"] && !finite(o.Offset):
		return usagef("--offset %g: want a finite number", o.Offset)
	case set["tile"] && (tile < 1 || tile > 4096):
		return usagef("--tile %d: want 1..4096 (a multiple of the encoder's size_multiple)", tile)
	case set["overlap"] && (overlap < -1 || overlap > 4095):
		return usagef("--overlap %d: want 0..4095 (below the tile; 0 or -1: none)", overlap)
	case set["readers"] && (o.Readers < 0 || o.Readers > embed.MaxReaders):
		return usagef("--readers %d: want 0..%d (0: the default, %d here; leave the flag out for it)", o.Readers, embed.MaxReaders, embed.DefaultReaders())
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"resolution", o.Resolution}, {"processing-resolution", o.ProcessingResolution}} {
		if set[r.name] {
			if err := cmdline.CheckResolution("--"+r.name, r.v, "leave the flag out for the scene's own"); err != nil {
				return usagef("%v", err)
			}
		}
	}
	return nil
}
