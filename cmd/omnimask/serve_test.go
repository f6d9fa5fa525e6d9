package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/omnimask/omnimask/internal/cmdline"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/internal/testutil"
)

func requireORT(t testing.TB) {
	t.Helper()
	if _, err := ort.Find(""); err != nil {
		t.Skipf("needs the ONNX Runtime library (run `make deps`): %v", err)
	}
}

// testServer serves an engine on pointwise.onnx on 127.0.0.1 with root as
// its allow-listed folder.
func testServer(t *testing.T, root string, edit func(*serveConfig)) (*httptest.Server, *server, *engine.Engine) {
	t.Helper()
	return testServerOn(t, engine.Options{Models: []string{pointwise}}, root, edit)
}

// testServerOn is testServer on an engine with opts (one thread, the
// config's memory budget).
func testServerOn(t *testing.T, opts engine.Options, root string, edit func(*serveConfig)) (*httptest.Server, *server, *engine.Engine) {
	t.Helper()
	requireORT(t)
	cfg := serveConfig{root: root, maxBody: 1 << 20, timeout: time.Minute, budget: 1 << 30}
	if edit != nil {
		edit(&cfg)
	}
	if cfg.root != "" {
		cfg.root, _ = filepath.EvalSymlinks(cfg.root)
	}
	opts.Threads, opts.MemoryBudget = 1, cfg.budget
	e, err := engine.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	s := newServer(e, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(s) // 127.0.0.1
	t.Cleanup(ts.Close)
	return ts, s, e
}

func post(t *testing.T, url string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// The mask a request returns is the file `omnimask predict` writes, byte
// for byte, whether the scene comes as the body or as a path under the
// root; JSON gives the class fractions and the file written.
func TestServePredictMatchesPredict(t *testing.T) {
	root := t.TempDir()
	scene := tif{w: 300, h: 260, seed: 4}.write(t, filepath.Join(root, "scene.tif"))
	out := t.TempDir()
	if _, _, err := cli(t, "predict", scene, "--model", pointwise, "--output-dir", out, "--threads", "1"); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(cmdline.MaskPath(scene, out))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(scene)
	if err != nil {
		t.Fatal(err)
	}
	ts, _, _ := testServer(t, root, nil)

	resp, got := post(t, ts.URL+"/v1/predict", data)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/tiff") || !bytes.Equal(got, want) {
		t.Errorf("body: %d %s, %d bytes, want the %d bytes of predict's mask", resp.StatusCode, resp.Header.Get("Content-Type"), len(got), len(want))
	}
	resp, got = post(t, ts.URL+"/v1/predict?path=scene.tif", nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, want) {
		t.Errorf("path: %d, %d bytes, want predict's mask", resp.StatusCode, len(got))
	}
	resp, got = post(t, ts.URL+"/v1/predict?path=scene.tif&output=out_mask.tif", nil)
	var js struct {
		Size    [2]int
		Output  string
		Classes []struct {
			ID       int
			Name     string
			Fraction float64
		}
	}
	if resp.StatusCode != 200 || json.Unmarshal(got, &js) != nil {
		t.Fatalf("JSON: %d %s", resp.StatusCode, got)
	}
	sum := 0.0
	for _, c := range js.Classes {
		sum += c.Fraction
	}
	if js.Size != [2]int{300, 260} || js.Output != "out_mask.tif" || len(js.Classes) != 4 || sum < 0.999 || sum > 1.001 {
		t.Errorf("JSON %s", got)
	}
	if written, err := os.ReadFile(filepath.Join(root, "out_mask.tif")); err != nil || !bytes.Equal(written, want) {
		t.Errorf("?output= wrote %d bytes (%v), want predict's mask", len(written), err)
	}
	// Query parameters are predict's flags.
	cliOut := t.TempDir()
	if _, _, err := cli(t, "predict", scene, "--model", pointwise, "--output-dir", cliOut, "--threads", "1", "--patch-size", "64", "--overlap", "0"); err != nil {
		t.Fatal(err)
	}
	want64, _ := os.ReadFile(cmdline.MaskPath(scene, cliOut))
	resp, got = post(t, ts.URL+"/v1/predict?patch-size=64&overlap=0", data)
	if resp.StatusCode != 200 || !bytes.Equal(got, want64) {
		t.Errorf("?patch-size=64&overlap=0: %d, %d bytes, want predict's with the flags", resp.StatusCode, len(got))
	}
	ttaOut := t.TempDir()
	if _, _, err := cli(t, "predict", scene, "--model", pointwise, "--output-dir", ttaOut, "--threads", "1", "--tta", "d4"); err != nil {
		t.Fatal(err)
	}
	wantTTA, _ := os.ReadFile(cmdline.MaskPath(scene, ttaOut))
	resp, got = post(t, ts.URL+"/v1/predict?tta=d4", data)
	if resp.StatusCode != 200 || !bytes.Equal(got, wantTTA) {
		t.Errorf("?tta=d4: %d, %d bytes, want predict's with --tta d4", resp.StatusCode, len(got))
	}
}

// TestServeProductFolderOutside: a server started with --product water on a
// folder of per-band files without SWIR bands, where the product's
// preferred models cannot run and it predicts with those the folder allows:
// a band file linked out of the root is refused (403) and nothing is
// written, while the same folder with the file inside predicts. (Sources
// once resolved only the preferred models' files, failed here, and the
// server then checked nothing.)
func TestServeProductFolderOutside(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	for _, tc := range []struct {
		name string
		link bool // B08 is a symbolic link out of the root
	}{{"inside", false}, {"B08 linked out", true}} {
		folder := filepath.Join(root, strings.ReplaceAll(tc.name, " ", "-"))
		if err := os.Mkdir(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		for file, band := range map[string]string{"B02": "blue", "B03": "green", "B04": "red", "B08": "nir"} {
			path := filepath.Join(folder, file+".tif")
			if tc.link && file == "B08" {
				path = filepath.Join(outside, file+".tif")
				if err := os.Symlink(path, filepath.Join(folder, file+".tif")); err != nil {
					t.Fatal(err)
				}
			}
			tif{w: 64, h: 64, seed: 3, bands: 1, names: []string{band}}.write(t, path)
		}
	}
	ts, _, _ := testServerOn(t, engine.Options{Product: "water"}, root, nil)
	for _, tc := range []struct {
		dir  string
		code int
	}{{"inside", 200}, {"B08-linked-out", 403}} {
		before := testutil.DirNames(t, root)
		resp, body := post(t, ts.URL+"/v1/predict?path="+tc.dir+"&output="+tc.dir+"-mask.tif", nil)
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.dir, resp.StatusCode, body, tc.code)
		}
		if after := testutil.DirNames(t, root); tc.code != 200 && strings.Join(after, ",") != strings.Join(before, ",") {
			t.Errorf("%s: root holds %v, held %v", tc.dir, after, before)
		}
	}
}

// TestServeProductClasses: a server started with --product water answers
// with the product's classes (land, water, clouds, shadow), not its cloud
// model's, and their pixels are the mask's.
func TestServeProductClasses(t *testing.T) {
	root := t.TempDir()
	tif{w: 96, h: 80, seed: 2}.write(t, filepath.Join(root, "scene.tif"))
	ts, _, _ := testServerOn(t, engine.Options{Product: "water"}, root, nil)
	resp, got := post(t, ts.URL+"/v1/predict?path=scene.tif&output=mask.tif", nil)
	var js struct {
		Classes []struct {
			ID     int
			Name   string
			Pixels int64
		}
		NoData int64 `json:"nodata_pixels"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(got, &js) != nil {
		t.Fatalf("JSON: %d %s", resp.StatusCode, got)
	}
	var names []string
	for _, c := range js.Classes {
		names = append(names, c.Name)
	}
	if want := "land,water,thick_cloud,thin_cloud,cloud_shadow"; strings.Join(names, ",") != want {
		t.Fatalf("classes %v, want %s", names, want)
	}
	mr, err := http.Get(ts.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer mr.Body.Close()
	var ms struct{ Classes []struct{ Name string } }
	if err := json.NewDecoder(mr.Body).Decode(&ms); mr.StatusCode != 200 || err != nil {
		t.Fatalf("/v1/models: %d %v", mr.StatusCode, err)
	}
	names = names[:0]
	for _, c := range ms.Classes {
		names = append(names, c.Name)
	}
	if want := "land,water,thick_cloud,thin_cloud,cloud_shadow"; strings.Join(names, ",") != want {
		t.Errorf("/v1/models classes %v, want %s", names, want)
	}
	pix, _, _, _ := readMask(t, filepath.Join(root, "mask.tif"))
	var n [256]int64
	for _, v := range pix {
		n[v]++
	}
	for _, c := range js.Classes {
		if c.Pixels != n[c.ID] {
			t.Errorf("class %d %s: %d pixels, the mask has %d", c.ID, c.Name, c.Pixels, n[c.ID])
		}
	}
	if js.NoData != n[255] {
		t.Errorf("nodata: %d pixels, the mask has %d", js.NoData, n[255])
	}
}

// Bad requests get the matching status, and no file is left in the root.
func TestServeStatusCodes(t *testing.T) {
	root := t.TempDir()
	scene := tif{w: 96, h: 96, seed: 1}.write(t, filepath.Join(root, "scene.tif"))
	tif{w: 64, h: 64, seed: 1, names: []string{"blue", "swir", "tir"}}.write(t, filepath.Join(root, "odd.tif"))
	writeFile(t, filepath.Join(root, "text.tif"), []byte("not a raster"))
	outside := tif{w: 64, h: 64}.write(t, filepath.Join(t.TempDir(), "outside.tif"))
	if err := os.Symlink(outside, filepath.Join(root, "link.tif")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "escape.vrt"), []byte(`<VRTDataset rasterXSize="64" rasterYSize="64"><VRTRasterBand dataType="Float32" band="1"><SimpleSource><SourceFilename relativeToVRT="0">`+outside+`</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>`), 0o644)
	data, _ := os.ReadFile(scene)
	before := testutil.DirNames(t, root)
	ts, _, _ := testServer(t, root, func(c *serveConfig) { c.maxBody = int64(len(data)) + 10 })
	big := append(append([]byte(nil), data...), make([]byte, 100)...)
	tests := []struct {
		name, query string
		body        []byte
		code        int
	}{
		{"unknown parameter", "?colour=red", data, 400},
		{"bad flag value", "?patch-size=7", data, 400},
		{"bad tta", "?tta=rot90", data, 400},
		{"bad resolution", "?resolution=-1", data, 400},
		{"unknown sensor", "?sensor=hubble", data, 400},
		{"body too large", "", big, 413},
		{"not a TIFF", "", []byte("hello"), 422},
		{"truncated TIFF", "", data[:len(data)/3], 422},
		{"band names do not match", "?path=odd.tif", nil, 422},
		{"not a raster", "?path=text.tif", nil, 422},
		{"missing file", "?path=gone.tif", nil, 404},
		{"traversal", "?path=../outside.tif", nil, 403},
		{"traversal, nested", "?path=a/../../outside.tif", nil, 403},
		{"absolute path", "?path=" + outside, nil, 403},
		{"symbolic link out", "?path=link.tif", nil, 403},
		{"VRT reading outside", "?path=escape.vrt", nil, 403},
		{"GDAL name", "?path=/vsicurl/http://example.com/x.tif", nil, 403},
		{"output outside", "?path=scene.tif&output=../mask.tif", nil, 403},
		{"output is the input", "?path=scene.tif&output=scene.tif", nil, 422},
		{"output without JSON", "?path=scene.tif&output=m.tif&format=cog", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, ts.URL+"/v1/predict"+tt.query, tt.body)
			if resp.StatusCode != tt.code {
				t.Errorf("%d %s, want %d", resp.StatusCode, body, tt.code)
			}
			var e struct{ Error string }
			if json.Unmarshal(body, &e) != nil || e.Error == "" || strings.Contains(e.Error, root) {
				t.Errorf("error body %s: want JSON naming no server folder", body)
			}
		})
	}
	if after := testutil.DirNames(t, root); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("root holds %v, held %v", after, before)
	}
}

// A full memory budget answers 429 with Retry-After; a token is required
// when set; /healthz, /v1/models and /metrics answer.
func TestServeBudgetTokenAndInfo(t *testing.T) {
	root := t.TempDir()
	scene := tif{w: 200, h: 200, seed: 2}.write(t, filepath.Join(root, "scene.tif"))
	data, _ := os.ReadFile(scene)
	ts, s, e := testServer(t, root, func(c *serveConfig) { c.token = "s3cret" })
	auth := []string{"Authorization", "Bearer s3cret"}
	if resp, _ := post(t, ts.URL+"/v1/predict", data); resp.StatusCode != 401 {
		t.Errorf("no token: %d, want 401", resp.StatusCode)
	}
	if resp, _ := post(t, ts.URL+"/v1/predict", data, "Authorization", "Bearer wrong"); resp.StatusCode != 401 {
		t.Errorf("wrong token: %d, want 401", resp.StatusCode)
	}
	// A budget for one prediction, eight requests at once.
	p, err := e.Inspect(context.Background(), []string{scene}, engine.Request{PatchSize: 32, Overlap: -1})
	if err != nil {
		t.Fatal(err)
	}
	// The models' reservation is an estimate from their sizes: the same
	// for every engine on them.
	ts2, _, _ := testServer(t, root, func(c *serveConfig) { c.budget = e.Budget().Reserved + p.Memory + p.Memory/2 })
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	var retry sync.Once
	retryAfter := ""
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := post(t, ts2.URL+"/v1/predict?patch-size=32&overlap=0", data)
			if resp.StatusCode == 429 {
				retry.Do(func() { retryAfter = resp.Header.Get("Retry-After") })
			}
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[200] == 0 || n[429] == 0 || n[200]+n[429] != 8 || retryAfter == "" {
		t.Errorf("8 concurrent requests on a budget for one: %v (Retry-After %q), want 200s and 429s", n, retryAfter)
	}
	// A budget that holds the models but not the scene: 413.
	ts3, _, _ := testServer(t, root, func(c *serveConfig) { c.budget = e.Budget().Reserved + p.Memory/2 })
	if resp, body := post(t, ts3.URL+"/v1/predict?patch-size=32&overlap=0", data); resp.StatusCode != 413 {
		t.Errorf("a scene over what the budget leaves beside the models: %d %s, want 413", resp.StatusCode, body)
	}

	get := func(path string, hdr ...string) (int, string) {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get("/v1/models", auth...); code != 200 || !strings.Contains(body, `"bands":["red","green","nir"]`) || !strings.Contains(body, "thick_cloud") {
		t.Errorf("/v1/models: %d %s", code, body)
	}
	if resp, _ := post(t, ts.URL+"/v1/predict", data, auth...); resp.StatusCode != 200 {
		t.Errorf("with the token: %d", resp.StatusCode)
	}
	code, body := get("/metrics", auth...)
	for _, w := range []string{`omnimask_requests_total{path="/v1/predict",code="200"} 1`, `omnimask_requests_total{path="/v1/predict",code="401"} 2`,
		`omnimask_request_duration_seconds_bucket{le="+Inf"}`, "omnimask_requests_in_flight 1", "omnimask_memory_budget_bytes 1073741824",
		"omnimask_memory_budget_in_use_bytes 0"} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics (%d) lacks %q:\n%s", code, w, body)
		}
	}
	s.closing.Store(true)
	if code, _ := get("/healthz"); code != 503 {
		t.Errorf("/healthz while shutting down: %d", code)
	}
	if resp, _ := post(t, ts.URL+"/v1/predict", data, auth...); resp.StatusCode != 503 {
		t.Errorf("predict while shutting down: %d", resp.StatusCode)
	}
}

// SIGTERM to `omnimask serve` mid-request, with no grace period: the
// process exits 0 at once, the request in flight is cancelled (503), and
// nothing is left in the root. (Calls finishing within the grace period:
// engine's TestShutdownLetsCallsFinish.)
func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	requireORT(t)
	root := t.TempDir()
	tif{w: 900, h: 900}.write(t, filepath.Join(root, "big.tif"))
	before := testutil.DirNames(t, root)
	var out syncBuffer
	cmd := exec.Command(os.Args[0], "-test.run", "^TestMainChild$")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join([]string{"serve", "--addr", "127.0.0.1:0", "--root", root,
		"--model", pointwise, "--threads", "1", "--grace", "0s"}, "\x1f"))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	addr := ""
	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(30 * time.Second); addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address after 30 s:\n%s", out.String())
		}
	}
	type answer struct {
		code int
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Post(addr+"/v1/predict?path=big.tif&output=big_mask.tif&patch-size=32&overlap=0", "", nil)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		resp.Body.Close()
		answered <- answer{code: resp.StatusCode}
	}()
	// Until the mask's temporary file exists: the request is under way.
	for deadline := time.Now().Add(30 * time.Second); len(testutil.DirNames(t, root)) == len(before); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the request did not start:\n%s", out.String())
		}
	}
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit %v after SIGTERM, want 0:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30 s after SIGTERM:\n%s", out.String())
	}
	t.Logf("exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	defer func() { t.Logf("output:\n%s", out.String()) }()
	if a := <-answered; a.err != nil || a.code != 503 {
		t.Errorf("the request in flight: %d %v, want 503", a.code, a.err)
	}
	if after := testutil.DirNames(t, root); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("left behind: %v (held %v)", after, before)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// A request over --timeout answers 504; one whose client went away is
// counted as 499 (nobody reads it), the same whether the scene comes as
// the body or as a path.
func TestServeTimeoutAndCancel(t *testing.T) {
	root := t.TempDir()
	scene := tif{w: 200, h: 200, seed: 3}.write(t, filepath.Join(root, "scene.tif"))
	data, _ := os.ReadFile(scene)
	ts, _, _ := testServer(t, root, func(c *serveConfig) { c.timeout = time.Nanosecond })
	for _, q := range []string{"", "?path=scene.tif"} {
		if resp, body := post(t, ts.URL+"/v1/predict"+q, data); resp.StatusCode != 504 {
			t.Errorf("over the time limit (%q): %d %s, want 504", q, resp.StatusCode, body)
		}
	}
	_, s, _ := testServer(t, root, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, q := range []string{"", "?path=scene.tif"} {
		req := httptest.NewRequest("POST", "/v1/predict"+q, bytes.NewReader(data)).WithContext(ctx)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 499 {
			t.Errorf("client gone (%q): %d %s, want 499", q, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if w := `omnimask_requests_total{path="/v1/predict",code="499"} 2`; !strings.Contains(rec.Body.String(), w) {
		t.Errorf("/metrics lacks %q:\n%s", w, rec.Body)
	}
}

// treeSources, the server's check when the engine cannot resolve a path's
// files, lists every file below a folder (through links to folders) with
// its VRT sources, and a file's own sources.
func TestTreeSources(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	out := tif{w: 8, h: 8}.write(t, filepath.Join(outside, "b.tif"))
	if err := os.MkdirAll(filepath.Join(root, "f", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	in := tif{w: 8, h: 8}.write(t, filepath.Join(root, "f", "a.tif"))
	vrt := filepath.Join(root, "f", "sub", "v.vrt")
	writeFile(t, vrt, []byte(`<VRTDataset rasterXSize="8" rasterYSize="8"><VRTRasterBand dataType="Float32" band="1"><SimpleSource><SourceFilename relativeToVRT="0">`+out+`</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>`))
	if err := os.Symlink(outside, filepath.Join(root, "f", "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "f"), filepath.Join(root, "f", "sub", "loop")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want []string // among the files listed
		not  []string
	}{
		{filepath.Join(root, "f"), []string{in, vrt, out, filepath.Join(root, "f", "linked"), filepath.Join(root, "f", "linked", "b.tif")}, nil},
		{vrt, []string{vrt, out}, []string{in}},
		{in, []string{in}, []string{out}},
	} {
		got, err := treeSources(tt.path)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		for _, f := range tt.want {
			if !slices.Contains(got, f) {
				t.Errorf("%s: %q not among %q", tt.path, f, got)
			}
		}
		for _, f := range tt.not {
			if slices.Contains(got, f) {
				t.Errorf("%s: %q among %q", tt.path, f, got)
			}
		}
	}
}
