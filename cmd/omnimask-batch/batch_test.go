package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/batch"
	"github.com/omnimask/omnimask/internal/cmdline"
	"github.com/omnimask/omnimask/internal/synth"
)

var pointwise = filepath.Join("..", "..", "testdata", "models", "pointwise.onnx")

// omnimaskBin builds cmd/omnimask once, when a test first needs it: the
// reference for outputs and flags.
var built atomic.Bool
var omnimaskBin = sync.OnceValues(func() (string, error) {
	built.Store(true)
	dir, err := os.MkdirTemp("", "omnimask-batch-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "omnimask")
	out, err := exec.Command("go", "build", "-o", bin, "../omnimask").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ../omnimask: %v\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if !built.Load() {
		os.Exit(code)
	}
	if bin, err := omnimaskBin(); err == nil && bin != "" {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

func predictBin(t *testing.T) string {
	t.Helper()
	bin, err := omnimaskBin()
	if errors.Is(err, exec.ErrNotFound) {
		t.Skip("no go command to build omnimask")
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// scenes writes 8 synthetic scenes of mixed sensors, sample types and
// resolutions, and 2 bad inputs; it returns the good ones, then the bad.
func scenes(t *testing.T) (good, bad []string) {
	t.Helper()
	dir := t.TempDir()
	cases := []struct {
		name string
		o    synth.Options
		fo   synth.FileOptions
	}{
		{"s2_10m_uint16", synth.Options{Width: 120, Height: 100, Seed: 1, Bands: []string{"blue", "green", "red", "nir"}, NoDataCorners: true}, synth.FileOptions{}},
		{"s2_20m_uint16", synth.Options{Width: 90, Height: 110, Seed: 2, ResolutionM: 20, Bands: []string{"green", "red", "nir", "swir1"}}, synth.FileOptions{}},
		{"landsat_30m", synth.Options{Width: 100, Height: 80, Seed: 3, ResolutionM: 30, Bands: []string{"blue", "green", "red", "nir", "swir1"}}, synth.FileOptions{}},
		{"naip_5m_byte", synth.Options{Width: 140, Height: 96, Seed: 4, ResolutionM: 5}, synth.FileOptions{Type: godal.Byte}},
		{"planet_3m_float", synth.Options{Width: 128, Height: 128, Seed: 5, ResolutionM: 3, Bands: []string{"blue", "green", "red", "nir"}}, synth.FileOptions{Type: godal.Float32, Scale: 1}},
		{"modis_500m", synth.Options{Width: 64, Height: 72, Seed: 6, ResolutionM: 500}, synth.FileOptions{}},
		{"s2_60m_nodata", synth.Options{Width: 70, Height: 70, Seed: 7, ResolutionM: 60, NoDataCorners: true}, synth.FileOptions{NoData: 65535}},
		{"cloudy_10m", synth.Options{Width: 96, Height: 150, Seed: 8, Cloud: 0.7}, synth.FileOptions{}},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+".tif")
		if err := synth.New(c.o).WriteGeoTIFF(p, c.fo); err != nil {
			t.Fatal(err)
		}
		good = append(good, p)
	}
	notRaster := filepath.Join(dir, "not_a_raster.tif")
	if err := os.WriteFile(notRaster, []byte("not a raster"), 0o644); err != nil {
		t.Fatal(err)
	}
	twoBands := filepath.Join(dir, "two_bands.tif")
	if err := synth.New(synth.Options{Width: 64, Height: 64, Seed: 9, Bands: []string{"red", "green"}}).WriteGeoTIFF(twoBands, synth.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	return good, []string{notRaster, twoBands}
}

// batchRun runs omnimask-batch in this process (Prism runner).
func batchRun(t *testing.T, ctx context.Context, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	start := time.Now()
	err = run(ctx, args, &o, &e)
	t.Logf("omnimask-batch %s -> %v (%v)\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), err, time.Since(start).Round(time.Millisecond), o.String(), e.String())
	return o.String(), e.String(), err
}

// reference masks written by `omnimask predict` into dir.
func reference(t *testing.T, dir string, scenes []string) {
	t.Helper()
	args := append([]string{"predict", "--model", pointwise, "--output-dir", dir, "--threads", "1", "--quiet"}, scenes...)
	out, err := exec.Command(predictBin(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("omnimask predict: %v\n%s", err, out)
	}
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Errorf("%s and %s differ (%d and %d bytes)", a, b, len(x), len(y))
	}
}

// summaryRows reads summary.csv: header and rows by scene (TOTAL included).
func summaryRows(t *testing.T, dir string) (map[string]int, map[string][]string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, batch.SummaryCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	rows := map[string][]string{}
	for _, r := range recs[1:] {
		if _, dup := rows[r[col["scene"]]]; dup {
			t.Errorf("scene %s twice in the summary", r[col["scene"]])
		}
		rows[r[col["scene"]]] = r
	}
	return col, rows
}

// maskFractions counts a mask's classes: fraction per class id, 255 = nodata.
func maskFractions(t *testing.T, path string) map[int]float64 {
	t.Helper()
	ds, err := godal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	st := ds.Structure()
	buf := make([]uint8, st.SizeX*st.SizeY)
	if err := ds.Read(0, 0, buf, st.SizeX, st.SizeY); err != nil {
		t.Fatal(err)
	}
	var n [256]int64
	for _, v := range buf {
		n[v]++
	}
	fr := map[int]float64{}
	for c, k := range n {
		if k > 0 || c < 4 || c == 255 {
			fr[c] = batch.Fraction(k, int64(len(buf)))
		}
	}
	return fr
}

var classNames = []string{"clear", "thick_cloud", "thin_cloud", "cloud_shadow"}

func leftovers(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// The batch of 8 good and 2 bad scenes: masks byte-identical to predict's,
// the 2 failures in the summary and the exit code, fractions equal to the
// masks' own; a re-run computes nothing and reports the same.
func TestBatch(t *testing.T) {
	good, bad := scenes(t)
	ref, out := t.TempDir(), t.TempDir()
	reference(t, ref, good)

	list := filepath.Join(t.TempDir(), "list.txt")
	os.WriteFile(list, []byte("# scenes\n"+strings.Join(good[4:], "\n")+"\n\n"), 0o644)
	args := append(append(good[:4:4], "@"+list), bad...)
	args = append(args, "--output-dir", out, "--model", pointwise, "--threads", "1")
	calls, engines := predictCalls.Load(), enginesCreated.Load()
	stdout, _, err := batchRun(t, context.Background(), args...)
	if code := cmdline.ExitCode(err); code != cmdline.ExitFailed {
		t.Fatalf("exit code %d, want %d (2 bad inputs)", code, cmdline.ExitFailed)
	}
	if n := predictCalls.Load() - calls; n != 10 {
		t.Errorf("%d engine calls, want 10", n)
	}
	// One engine for the worker process, whatever the number of scenes and
	// of DoFn instances (bundles) the SDK ran; all closed at the end.
	if n := enginesCreated.Load() - engines; n != 1 {
		t.Errorf("%d engines built for one worker process, want 1", n)
	}
	workersMu.Lock()
	if len(workers) != 0 {
		t.Errorf("%d engines left open", len(workers))
	}
	workersMu.Unlock()
	if !strings.Contains(stdout, "10 scenes: 8 predicted, 0 skipped, 2 failed") {
		t.Errorf("stdout: %q", stdout)
	}
	for _, s := range good {
		sameFile(t, batch.MaskPath(s, out), batch.MaskPath(s, ref))
	}
	leftovers(t, out)
	checkSummary(t, out, good, bad, batch.StatusOK)

	// Re-run: everything good is kept, the bad inputs fail again.
	calls = predictCalls.Load()
	stdout, _, err = batchRun(t, context.Background(), args...)
	if cmdline.ExitCode(err) != cmdline.ExitFailed || !strings.Contains(stdout, "10 scenes: 0 predicted, 8 skipped, 2 failed") {
		t.Fatalf("re-run: %v, %q", err, stdout)
	}
	if n := predictCalls.Load() - calls; n != 2 {
		t.Errorf("re-run: %d engine calls, want 2 (the bad inputs)", n)
	}
	checkSummary(t, out, good, bad, batch.StatusSkipped)
	for _, s := range good {
		sameFile(t, batch.MaskPath(s, out), batch.MaskPath(s, ref))
	}

	// A pixel-changing flag invalidates the stored identity; a
	// pixel-neutral one does not; --force recomputes.
	for _, c := range []struct {
		extra []string
		calls int64
	}{
		{[]string{"--streams", "1"}, 0},
		{[]string{"--blend", "hann"}, 8},
		{[]string{"--blend", "hann"}, 0},
		{[]string{"--blend", "hann", "--force"}, 8},
	} {
		calls = predictCalls.Load()
		batchRun(t, context.Background(), append(append([]string{}, good...), append([]string{"--output-dir", out, "--model", pointwise, "--threads", "1", "--quiet"}, c.extra...)...)...)
		if n := predictCalls.Load() - calls; n != c.calls {
			t.Errorf("%v: %d engine calls, want %d", c.extra, n, c.calls)
		}
	}
}

// TestBatchProductClasses: under --product water a record lists the
// product's classes (land, water, clouds, shadow), not its cloud model's,
// with the mask's pixel counts.
func TestBatchProductClasses(t *testing.T) {
	scene := filepath.Join(t.TempDir(), "scene.tif")
	if err := synth.New(synth.Options{Width: 96, Height: 80, Seed: 3}).WriteGeoTIFF(scene, synth.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, _, err := batchRun(t, context.Background(), scene, "--product", "water", "--output-dir", out, "--threads", "1", "--quiet"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, batch.SummaryJSONL))
	if err != nil {
		t.Fatal(err)
	}
	var rec batch.Record
	if err := json.Unmarshal([]byte(strings.SplitN(string(b), "\n", 2)[0]), &rec); err != nil || rec.Scene != scene {
		t.Fatalf("first record %s: %v", b, err)
	}
	if want := "land,water,thick_cloud,thin_cloud,cloud_shadow"; strings.Join(rec.Classes, ",") != want {
		t.Fatalf("classes %v, want %s", rec.Classes, want)
	}
	fr := maskFractions(t, batch.MaskPath(scene, out))
	for i, n := range rec.Counts {
		if got := batch.Fraction(n, rec.Pixels()); got != fr[i] {
			t.Errorf("class %d %s: fraction %v, the mask has %v", i, rec.Classes[i], got, fr[i])
		}
	}
}

func checkSummary(t *testing.T, out string, good, bad []string, status string) {
	t.Helper()
	col, rows := summaryRows(t, out)
	if len(rows) != len(good)+len(bad)+1 {
		t.Errorf("summary has %d rows, want %d", len(rows), len(good)+len(bad)+1)
	}
	for _, s := range bad {
		r := rows[s]
		if r == nil || r[col["status"]] != batch.StatusFailed || !strings.Contains(r[col["error"]], filepath.Base(s)) {
			t.Errorf("bad input %s: row %q", s, r)
		}
	}
	for _, s := range good {
		r := rows[s]
		if r == nil || r[col["status"]] != status {
			t.Errorf("%s: row %q, want status %s", s, r, status)
			continue
		}
		fr := maskFractions(t, batch.MaskPath(s, out))
		for id, name := range classNames {
			if got := r[col[name+"_fraction"]]; got != strconv.FormatFloat(fr[id], 'g', -1, 64) {
				t.Errorf("%s: %s fraction %s, mask has %v", s, name, got, fr[id])
			}
		}
		if got := r[col["nodata_fraction"]]; got != strconv.FormatFloat(fr[255], 'g', -1, 64) {
			t.Errorf("%s: nodata fraction %s, mask has %v", s, got, fr[255])
		}
	}
	tot := rows["TOTAL"]
	if tot == nil || tot[col["status"]] != batch.StatusFailed || !strings.Contains(tot[col["error"]], "2 failed") {
		t.Errorf("TOTAL row %q", tot)
	}
	b, err := os.ReadFile(filepath.Join(out, batch.SummaryJSONL))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != len(good)+len(bad)+1 {
		t.Errorf("summary.jsonl has %d lines, want %d", lines, len(good)+len(bad)+1)
	}
}

// Interrupting a batch after some scenes and running it again computes
// only the rest, and the masks end up identical to predict's.
func TestResumeAfterCancel(t *testing.T) {
	skipUnderRace(t)
	good, _ := scenes(t)
	ref, out := t.TempDir(), t.TempDir()
	reference(t, ref, good)
	args := append(append([]string{}, good...), "--output-dir", out, "--model", pointwise, "--threads", "1", "--quiet")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int32
	afterPredict = func(batch.Item) error {
		if n.Add(1) == 3 {
			cancel()
		}
		return nil
	}
	calls := predictCalls.Load()
	_, _, err := batchRun(t, ctx, args...)
	afterPredict = nil
	if code := cmdline.ExitCode(err); code != cmdline.ExitInterrupted {
		t.Fatalf("cancelled batch: exit code %d (%v), want %d", code, err, cmdline.ExitInterrupted)
	}
	first := predictCalls.Load() - calls
	done := 0
	for _, s := range good {
		if _, err := os.Stat(batch.StampPath(batch.MaskPath(s, out))); err == nil {
			done++
		}
	}
	if ents, err := os.ReadDir(out); err == nil {
		for _, e := range ents {
			t.Log(e.Name())
		}
	}
	if done < 3 || done >= len(good) {
		t.Fatalf("%d scenes finished before the cancel took effect (%d engine calls), want 3..%d", done, first, len(good)-1)
	}
	leftovers(t, out)

	calls = predictCalls.Load()
	if _, _, err := batchRun(t, context.Background(), args...); err != nil {
		t.Fatal(err)
	}
	if got := predictCalls.Load() - calls; got != int64(len(good)-done) {
		t.Errorf("resumed batch made %d engine calls, want %d (%d of %d were done)", got, len(good)-done, done, len(good))
	}
	for _, s := range good {
		sameFile(t, batch.MaskPath(s, out), batch.MaskPath(s, ref))
	}
	_, rows := summaryRows(t, out)
	if len(rows) != len(good)+1 {
		t.Errorf("summary rows %d, want %d", len(rows), len(good)+1)
	}
}

// A runner retries an element whose bundle failed: here one scene fails
// once after its mask is in place and before it is recorded (a worker lost
// at the worst moment). On Prism the job fails; running it again is the
// retry. The scene is computed again, its mask is byte-identical, nothing
// is duplicated or left behind, and the summary has each scene once.
func TestRetryAfterFailure(t *testing.T) {
	skipUnderRace(t)
	good, _ := scenes(t)
	good = good[:4]
	ref, out := t.TempDir(), t.TempDir()
	reference(t, ref, good)
	args := append(append([]string{}, good...), "--output-dir", out, "--model", pointwise, "--threads", "1", "--quiet")

	var failed atomic.Int32
	afterPredict = func(it batch.Item) error {
		if it.Scene == good[2] && failed.Add(1) == 1 {
			return errInjected
		}
		return nil
	}
	defer func() { afterPredict = nil }()
	_, _, err := batchRun(t, context.Background(), args...)
	if !errors.Is(err, errInjected) && (err == nil || !strings.Contains(err.Error(), errInjected.Error())) {
		t.Fatalf("first run: %v, want the injected failure", err)
	}
	if _, err := os.Stat(batch.StampPath(batch.MaskPath(good[2], out))); err == nil {
		t.Fatal("the failed element's mask was stamped")
	}
	calls := predictCalls.Load()
	if _, _, err := batchRun(t, context.Background(), args...); err != nil {
		t.Fatal(err)
	}
	if n := predictCalls.Load() - calls; n < 1 || n > int64(len(good)) {
		t.Errorf("retry made %d engine calls", n)
	}
	for _, s := range good {
		sameFile(t, batch.MaskPath(s, out), batch.MaskPath(s, ref))
	}
	leftovers(t, out)
	col, rows := summaryRows(t, out)
	if len(rows) != len(good)+1 || rows[good[2]][col["status"]] != batch.StatusOK {
		t.Errorf("summary after the retry: %q", rows)
	}
}

// The same within one worker: the DoFn instance processes the element
// again after its first attempt failed; the retry emits one record, the
// mask equals predict's, and a third attempt (a duplicate delivery) keeps
// the mask and reports the same record as skipped.
func TestRetrySameWorker(t *testing.T) {
	skipUnderRace(t)
	good, _ := scenes(t)
	ref, out := t.TempDir(), t.TempDir()
	reference(t, ref, good[:1])
	cfg := Config{Models: []string{pointwise}, Threads: 1, Sensor: "auto", Blend: "ramp", Parallel: 1}
	fn := &predictFn{Cfg: cfg}
	if err := fn.Setup(); err != nil {
		t.Fatal(err)
	}
	defer fn.Teardown()
	it := batch.Item{Index: 0, Scene: good[0], Output: batch.MaskPath(good[0], out)}
	var recs []batch.Record
	emit := func(r batch.Record) { recs = append(recs, r) }

	afterPredict = func(batch.Item) error { return errInjected }
	err := fn.ProcessElement(context.Background(), it, emit)
	afterPredict = nil
	if !errors.Is(err, errInjected) || len(recs) != 0 {
		t.Fatalf("first attempt: %v, %d records", err, len(recs))
	}
	if err := fn.ProcessElement(context.Background(), it, emit); err != nil {
		t.Fatal(err)
	}
	if err := fn.ProcessElement(context.Background(), it, emit); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Status != batch.StatusOK || recs[1].Status != batch.StatusSkipped {
		t.Fatalf("records %+v", recs)
	}
	recs[1].Status = batch.StatusOK
	if fmt.Sprint(recs[0]) != fmt.Sprint(recs[1]) {
		t.Errorf("the kept scene reports %+v, the computed one %+v", recs[1], recs[0])
	}
	sameFile(t, it.Output, batch.MaskPath(good[0], ref))
	leftovers(t, out)
}

// skipUnderRace skips a test that stops a Beam job mid-bundle when the race
// detector is on (see raceEnabled); make test runs it without.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("stops a Beam job mid-bundle: Beam's harness races on that (run without -race by make test)")
	}
}
