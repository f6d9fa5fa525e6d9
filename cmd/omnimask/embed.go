package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/omnimask/omnimask/embed"
	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/cmdline"
	"github.com/omnimask/omnimask/internal/ort"
)

// runEmbed is `omnimask embed`: one embedding vector per chip.
func runEmbed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("embed", "SCENE... -o OUT.tif [flags]", stderr)
	model := fs.String("model", "mobilenetv2-imagenet", "embedding encoder: built-in name or ONNX file")
	mode := fs.String("mode", "chips", "chips: one vector per chip; dense: the encoder's feature map over overlapping tiles (centre-crop stitching)")
	tile := fs.Int("tile", 0, "dense: tile size in pixels (default: the manifest's patch_size)")
	overlap := fs.Int("overlap", 0, "dense: tile overlap in pixels (default: the manifest's; -1: none)")
	out := fs.String("o", "", "output GeoTIFF (D float32 bands, one pixel per chip; sidecar OUT.json)")
	var o embed.Options
	fs.IntVar(&o.Chip, "chip", 32, "chip size in pixels (a multiple of the encoder's size_multiple)")
	fs.IntVar(&o.Stride, "stride", 0, "chip grid step in pixels (default: the chip size)")
	fs.Float64Var(&o.MaxNoData, "max-nodata", 0.5, "a chip with a larger fraction of nodata pixels is nodata (NaN)")
	fs.IntVar(&o.Batch, "batch", 64, "chips per inference call")
	fs.Float64Var(&o.Scale, "scale", 0, "reflectance = value x scale + offset (reflectance encoders; 0: values are reflectance)")
	fs.Float64Var(&o.Offset, "offset", 0, "see --scale")
	fs.StringVar(&o.DType, "dtype", "float32", "output values: float32, or float16 (rounded to IEEE half precision, round to nearest even, but stored as Float32: GDAL 3.6 has no Float16 type; the sidecar says \"dtype\": \"float16\")")
	bands := fs.String("bands", "", "1-based scene band numbers for the encoder's bands, comma-separated (default: by band name)")
	threads := fs.Int("threads", 0, "inference threads, in all (default: all cores)")
	streams := fs.Int("streams", 0, "chips mode: inference calls running at once, sharing the threads, 1 to the threads (default 2)")
	ortLib := fs.String("ort-lib", "", "path to libonnxruntime.so")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	scene, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(scene) == 0:
		return usagef("no scene")
	case *out == "":
		return usagef("no output (-o)")
	case *mode != "chips" && *mode != "dense":
		return usagef("--mode %q: want chips or dense", *mode)
	case o.DType != embed.Float32 && o.DType != embed.Float16:
		return usagef("--dtype %q: want float32 or float16", o.DType)
	}
	if o.MaxNoData == 0 {
		o.MaxNoData = 1e-12 // an explicit 0 means: no nodata pixel at all
	}
	if *bands != "" {
		for _, f := range strings.Split(*bands, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return usagef("--bands %q: want 1-based band numbers", *bands)
			}
			o.Bands = append(o.Bands, n)
		}
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
	var res *embed.Result
	if *mode == "dense" {
		nd := o.MaxNoData
		res, err = embed.Dense(ctx, e, scene, *out, embed.DenseOptions{Tile: *tile, Overlap: *overlap, MaxNoData: nd, Bands: o.Bands, Scale: o.Scale, Offset: o.Offset, DType: o.DType})
	} else {
		res, err = embed.Chips(ctx, e, scene, *out, o)
	}
	if err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(stdout, "%s: %dx%d cells (%d embedded, %d nodata), %d-D, %.2fs (inference %.2fs, %.0f cells/s)\n",
			*out, res.Cols, res.Rows, res.Chips, res.NoDataChips, e.Dim(), res.Total.Seconds(), res.Infer.Seconds(),
			float64(res.Chips)/res.Total.Seconds())
	}
	return nil
}

// embedThreads checks --threads and --streams and returns the threads in
// all and the inference calls at once (dense mode runs one call at a time,
// on all the threads).
func embedThreads(fs *flag.FlagSet, threads, streams int, mode string) (int, int, error) {
	limit := engine.MaxThreadsPerCore * runtime.NumCPU()
	set := cmdline.SetFlags(fs)
	if set["threads"] && (threads < 1 || threads > limit) {
		return 0, 0, usagef("--threads %d: want 1..%d", threads, limit)
	}
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	if set["streams"] && (streams < 1 || streams > threads) {
		return 0, 0, usagef("--streams %d: want 1..%d (the threads)", streams, threads)
	}
	switch {
	case mode == "dense":
		streams = 1
	case streams == 0:
		streams = min(2, threads)
	}
	return threads, streams, nil
}
