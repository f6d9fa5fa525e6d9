package embed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/gdalio"
	"github.com/omnimask/omnimask/raster"
)

// readersScenes writes the scenes of the readers tests in dir: a UInt16
// scene (intRows, windows of 256 rows) and a float32 one (floatRows), both
// 40 x 600 px with nodata across a window edge, in whole chips and at the
// bottom, so that chip grids of 16 px chips have three windows of chip
// rows, the last one shorter.
func readersScenes(t *testing.T, dir string) (u16, f32 string) {
	t.Helper()
	nodata := func(x, y int) bool { return y >= 250 && y < 270 && x < 20 || y >= 400 && y < 432 || y > 590 }
	u16 = filepath.Join(dir, "u16.tif")
	nd := 0.0
	writeIntScene(t, u16, godal.UInt16, 40, 600, &nd, func(c, x, y int) float64 {
		if nodata(x, y) {
			return 0
		}
		return float64((c*131 + x*17 + y*7) % 3000)
	})
	f32 = filepath.Join(dir, "f32.tif")
	writeScene(t, f32, 40, 600, raster.Geo{}, func(c, x, y int) float32 {
		if nodata(x, y) {
			return noData
		}
		return float32((c*31+x*7+y*13)%97) / 97
	})
	return u16, f32
}

// goroutines waits up to a second for the goroutines to come back to n and
// returns their number.
func goroutines(n int) int {
	for range 100 {
		if g := runtime.NumGoroutine(); g <= n {
			return g
		}
		time.Sleep(10 * time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// TestChipsReaders embeds scenes whose chip rows do not divide evenly into
// windows, with nodata chips, strides under the chip size and calls at
// once, with 1, 2, 3 and 5 readers: the encoder gets the same batches in
// the same order, and the output file and its sidecar are the same byte
// for byte; the readers used are at most one per window.
func TestChipsReaders(t *testing.T) {
	gdalio.Register()
	e := chipmeanFixed(t)
	dir := t.TempDir()
	u16, f32 := readersScenes(t, dir)
	for _, tc := range []struct {
		name          string
		scene         string
		float         bool // the float32 path on an integer scene
		stride, batch int
		streams, nwin int
		chips, nodata int
		maxND         float64
	}{
		// 37 chip rows in windows of 16: 16, 16, 5.
		{name: "uint16 stride 16", scene: u16, stride: 16, batch: 7, streams: 1, nwin: 3},
		// 74 chip rows in windows of 31: 31, 31, 12.
		{name: "uint16 stride 8", scene: u16, stride: 8, batch: 5, streams: 2, nwin: 3},
		// 117 chip rows in windows of 49: 49, 49, 19.
		{name: "uint16 stride 5", scene: u16, stride: 5, batch: 64, streams: 2, nwin: 3},
		{name: "uint16 as float32, stride 8", scene: u16, float: true, stride: 8, batch: 3, streams: 1, nwin: 3},
		{name: "float32 stride 16", scene: f32, stride: 16, batch: 4, streams: 2, nwin: 3},
		{name: "float32 stride 5, max nodata 1", scene: f32, stride: 5, batch: 9, streams: 1, nwin: 3, maxND: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ref struct {
				ins       [][]float32
				tif, side []byte
				res       *Result
			}
			for _, readers := range []int{1, 2, 3, 5} {
				o := Options{Chip: 16, Stride: tc.stride, Batch: tc.batch, Streams: tc.streams, Readers: readers, MaxNoData: tc.maxND, floatRows: tc.float}
				var ins [][]float32
				o.onBatch = func(in []float32, n int) { ins = append(ins, slices.Clone(in)) }
				out := filepath.Join(dir, fmt.Sprintf("emb%d.tif", readers))
				n0 := runtime.NumGoroutine()
				res, err := Chips(context.Background(), e, []string{tc.scene}, out, o)
				if err != nil {
					t.Fatalf("%d readers: %v", readers, err)
				}
				if g := goroutines(n0); g > n0 {
					t.Errorf("%d readers: %d goroutines after the run, %d before", readers, g, n0)
				}
				if want := min(readers, tc.nwin); res.Readers != want {
					t.Errorf("%d readers: %d used, want %d", readers, res.Readers, want)
				}
				if res.NoDataChips == 0 || res.Chips == 0 {
					t.Fatalf("%d readers: %+v, want chips and nodata chips", readers, res)
				}
				tif, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				side, err := os.ReadFile(out + ".json")
				if err != nil {
					t.Fatal(err)
				}
				if ref.res == nil {
					ref.ins, ref.tif, ref.side, ref.res = ins, tif, side, res
					// The vectors are the chips' means: check one row of
					// the output is not all NaN, so the comparison means something.
					_, bands := readVectors(t, out)
					if !slices.ContainsFunc(bands[0], func(v float32) bool { return !math.IsNaN(float64(v)) }) {
						t.Fatal("no vector")
					}
					continue
				}
				if res.Chips != ref.res.Chips || res.NoDataChips != ref.res.NoDataChips || res.Cols != ref.res.Cols || res.Rows != ref.res.Rows {
					t.Errorf("%d readers: %+v, 1 reader %+v", readers, res, ref.res)
				}
				if len(ins) != len(ref.ins) {
					t.Fatalf("%d readers: %d batches, 1 reader %d", readers, len(ins), len(ref.ins))
				}
				for i := range ins {
					if !slices.Equal(ins[i], ref.ins[i]) {
						t.Fatalf("%d readers: batch %d differs from 1 reader's", readers, i)
					}
				}
				if !bytes.Equal(tif, ref.tif) || !bytes.Equal(side, ref.side) {
					t.Errorf("%d readers: output (%d bytes) or sidecar differs from 1 reader's (%d bytes)", readers, len(tif), len(ref.tif))
				}
			}
		})
	}
}

// TestChipsReaderFails makes one reader fail in the middle of the scene
// (a test hook at a chip row of the second or third window, and a file
// whose last tiles are cut off): Chips returns that error, naming the
// file for the truncated one, leaves no output and no goroutine, for 1, 2
// and 3 readers and 1 or 2 calls at once.
func TestChipsReaderFails(t *testing.T) {
	gdalio.Register()
	e := chipmean(t)
	dir := t.TempDir()
	u16, _ := readersScenes(t, dir)
	// A copy of the scene (IFD and tile offsets first, pixel-interleaved
	// tiles in row order)
	// cut after 60 % of its bytes: the first window reads, the second
	// (rows 256-511) fails.
	cut := filepath.Join(dir, "cut.tif")
	src, err := godal.Open(u16)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := src.Translate(cut, []string{"-of", "GTiff", "-co", "TILED=YES", "-co", "BLOCKXSIZE=32", "-co", "BLOCKYSIZE=32", "-co", "COMPRESS=DEFLATE", "-co", "INTERLEAVE=PIXEL"})
	if err != nil {
		t.Fatal(err)
	}
	cp.Close()
	src.Close()
	st, err := os.Stat(cut)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(cut, st.Size()*6/10); err != nil {
		t.Fatal(err)
	}
	errHook := errors.New("hook: chip row unreadable")
	for _, tc := range []struct {
		name  string
		scene string
		row   int // chip row failing by the hook (-1: none)
		want  string
	}{
		{"hook, window 2", u16, 20, errHook.Error()},
		{"hook, window 3", u16, 33, errHook.Error()},
		{"hook, float32 path, window 2", u16, 17, errHook.Error()},
		{"truncated file", cut, -1, cut + ": reading band 1 rows 256-511"},
	} {
		for _, readers := range []int{1, 2, 3} {
			for _, streams := range []int{1, 2} {
				o := Options{Chip: 16, Batch: 3, Streams: streams, Readers: readers, floatRows: strings.Contains(tc.name, "float32")}
				if tc.row >= 0 {
					o.readErr = func(r int) error {
						if r == tc.row {
							return errHook
						}
						return nil
					}
				}
				out := filepath.Join(dir, "fail.tif")
				n0 := runtime.NumGoroutine()
				_, err := Chips(context.Background(), e, []string{tc.scene}, out, o)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s, %d readers, %d streams: %v, want an error with %q", tc.name, readers, streams, err, tc.want)
				}
				if tc.row >= 0 && !errors.Is(err, errHook) {
					t.Errorf("%s, %d readers, %d streams: %v is not the hook's error", tc.name, readers, streams, err)
				}
				for _, p := range []string{out, out + ".json"} {
					if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("%s, %d readers, %d streams: %s left: %v", tc.name, readers, streams, p, err)
					}
				}
				if g := goroutines(n0); g > n0 {
					t.Errorf("%s, %d readers, %d streams: %d goroutines after the run, %d before", tc.name, readers, streams, g, n0)
				}
			}
		}
	}
}

// TestChipsReadersCancel cancels runs of 1, 2 and 3 readers at a batch in
// the middle: Chips returns context.Canceled, no output and no goroutine
// is left.
func TestChipsReadersCancel(t *testing.T) {
	gdalio.Register()
	e := chipmean(t)
	dir := t.TempDir()
	u16, f32 := readersScenes(t, dir)
	for _, scene := range []string{u16, f32} {
		for _, readers := range []int{1, 2, 3} {
			for _, at := range []int{1, 5, 40} {
				ctx, cancel := context.WithCancel(context.Background())
				calls := 0
				o := Options{Chip: 16, Stride: 8, Batch: 2, Streams: 2, Readers: readers}
				o.onBatch = func([]float32, int) {
					if calls++; calls == at {
						cancel()
					}
				}
				out := filepath.Join(dir, "cancel.tif")
				n0 := runtime.NumGoroutine()
				_, err := Chips(ctx, e, []string{scene}, out, o)
				cancel()
				if !errors.Is(err, context.Canceled) {
					t.Errorf("%s, %d readers, cancelled at batch %d: %v, want context.Canceled", filepath.Base(scene), readers, at, err)
				}
				if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s, %d readers: output left after cancel: %v", filepath.Base(scene), readers, err)
				}
				if g := goroutines(n0); g > n0 {
					t.Errorf("%s, %d readers: %d goroutines after the run, %d before", filepath.Base(scene), readers, g, n0)
				}
			}
		}
	}
}
