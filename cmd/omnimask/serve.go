package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/cmdline"
	"github.com/omnimask/omnimask/internal/gdalio"
)

// serveConfig is what `omnimask serve` is configured with.
type serveConfig struct {
	addr     string
	root     string        // allow-listed folder for path inputs and outputs; "" = none
	maxBody  int64         // bytes of a request body
	timeout  time.Duration // per request
	grace    time.Duration // for requests in flight at SIGTERM
	token    string        // bearer token; "" = none
	budget   int64         // engine memory budget (bytes)
	wait     bool          // requests wait for memory budget instead of 429
	tokenEnv string
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "[flags]", stderr)
	var ef engineFlags
	ef.Register(fs)
	var cfg serveConfig
	var budgetMiB int64
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on (127.0.0.1: this machine only; port 0 picks one)")
	fs.StringVar(&cfg.root, "root", "", "folder whose files requests may name (?path=, ?output=); empty: scenes come only as request bodies")
	fs.Int64Var(&cfg.maxBody, "max-body", 1<<30, "largest request body in bytes (413 above)")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "time limit of one request (504 when over)")
	fs.DurationVar(&cfg.grace, "grace", 30*time.Second, "on SIGTERM/Ctrl-C: time requests in flight have to finish before they are cancelled")
	fs.Int64Var(&budgetMiB, "memory-budget", 0, "MiB of resident memory the process may hold: loaded models and all predictions in flight (default: a quarter of the machine); a request that does not fit now gets 429, one that never fits 413")
	fs.BoolVar(&cfg.wait, "wait", false, "requests wait for memory budget instead of getting 429")
	fs.StringVar(&cfg.tokenEnv, "token-env", "", "name of an environment variable holding a bearer token every request must present")
	pos, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := ef.check(set); err != nil {
		return err
	}
	if cfg.maxBody <= 0 || cfg.timeout <= 0 || cfg.grace < 0 || budgetMiB < 0 {
		return usagef("--max-body, --timeout and --memory-budget want positive values, --grace zero or more")
	}
	if cfg.tokenEnv != "" {
		if cfg.token = os.Getenv(cfg.tokenEnv); cfg.token == "" {
			return usagef("--token-env %s: the variable is empty or not set", cfg.tokenEnv)
		}
	}
	if cfg.root != "" {
		abs, err := filepath.Abs(cfg.root)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if st, serr := os.Stat(abs); err != nil || serr != nil || !st.IsDir() {
			return usagef("--root %s: not a folder", cfg.root)
		}
		cfg.root = abs
	}
	cfg.budget = budgetMiB << 20
	if cfg.budget == 0 {
		cfg.budget = defaultBudget()
	}
	opts := ef.options(stderr)
	opts.ReturnMemory = false // predictions run side by side
	// The budget is the process's: the engine gets what the process does
	// not hold already (the Go runtime, GDAL's libraries).
	held := residentBytes()
	opts.MemoryBudget = cfg.budget - held
	if opts.MemoryBudget <= 0 {
		return usagef("--memory-budget %d MiB: the process holds %d MiB before loading the models", cfg.budget>>20, held>>20)
	}
	e, err := engine.New(opts)
	if errors.Is(err, engine.ErrTooLarge) {
		return usagef("--memory-budget %d MiB is too small: the process holds %d MiB before loading the models, and %v", cfg.budget>>20, held>>20, err)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		e.Close()
		return err
	}
	log := ef.logger(stderr)
	s := newServer(e, cfg, log)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	b := e.Budget()
	fmt.Fprintf(stdout, "omnimask serve: listening on http://%s (models %s, memory budget %d MiB: %d MiB held before loading the models, %d MiB reserved for them, %d MiB for predictions)\n",
		ln.Addr(), strings.Join(e.Models(), ","), cfg.budget>>20, held>>20, b.Reserved>>20, (b.Total-b.Reserved)>>20)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		e.Close()
		return err
	case <-ctx.Done():
	}
	// SIGTERM: no new connections or calls; requests in flight have the
	// grace period, then their predictions are cancelled (503).
	log.Info("shutting down", "grace", cfg.grace)
	s.closing.Store(true)
	grace, cancel := context.WithTimeout(context.Background(), cfg.grace)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.Shutdown(grace) }()
	err = srv.Shutdown(grace)
	if err != nil {
		// Handlers whose predictions were cancelled are writing their 503.
		wait, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(wait)
		c2()
	}
	wg.Wait()
	return err
}

// defaultBudget is a quarter of the machine's memory (8 GiB when unknown),
// leaving room for GDAL's cache, the Go heap's slack and the bodies.
func defaultBudget() int64 {
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					return kb << 10 / 4
				}
			}
		}
	}
	return 8 << 30
}

// residentBytes is the process's resident memory (0 when unknown).
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// server is the HTTP face of an engine.
type server struct {
	e       *engine.Engine
	cfg     serveConfig
	log     *slog.Logger
	mux     *http.ServeMux
	closing atomic.Bool
	m       metrics
}

func newServer(e *engine.Engine, cfg serveConfig, log *slog.Logger) *server {
	s := &server{e: e, cfg: cfg, log: log, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /v1/predict", s.predict)
	s.mux.HandleFunc("GET /v1/models", s.models)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /metrics", s.metrics)
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	s.m.inFlight.Add(1)
	rec := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	defer func() {
		s.m.inFlight.Add(-1)
		s.m.observe(r.URL.Path, rec.code, time.Since(t0))
	}()
	if s.cfg.token != "" && r.URL.Path != "/healthz" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.token)) != 1 {
			rec.Header().Set("WWW-Authenticate", `Bearer realm="omnimask"`)
			httpError(rec, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
	}
	s.mux.ServeHTTP(rec, r)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": oneLine(msg)})
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		httpError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	io.WriteString(w, "ok\n")
}

func (s *server) models(w http.ResponseWriter, r *http.Request) {
	m := s.e.Manifest()
	type class struct {
		ID    int      `json:"id"`
		Name  string   `json:"name"`
		Color [3]uint8 `json:"color"`
	}
	out := struct {
		Models        []string `json:"models"`
		Version       string   `json:"version"`
		Bands         []string `json:"bands"`
		Resolution    float64  `json:"resolution_m"`
		MinResolution float64  `json:"min_resolution_m"`
		MaxResolution float64  `json:"max_resolution_m"`
		PatchSize     int      `json:"patch_size"`
		Overlap       int      `json:"overlap"`
		Classes       []class  `json:"classes"`
	}{Models: s.e.Models(), Version: m.Version, Bands: m.Bands, Resolution: m.ResolutionM, MinResolution: m.MinResolution,
		MaxResolution: m.MaxResolution, PatchSize: m.PatchSize, Overlap: m.Overlap}
	for _, c := range s.e.Classes() {
		out.Classes = append(out.Classes, class{c.ID, c.Name, c.Color})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// predictParams are the query parameters of POST /v1/predict that are not
// predict's flags (of those, the request flags and tta are taken).
var predictParams = map[string]bool{"path": true, "output": true, "format": true}

// request turns the query into an engine request: every parameter but
// predictParams is a flag of `omnimask predict` (sensor, bands, nodata,
// resolution, processing-resolution, no-resample, patch-size, overlap,
// blend, scale, offset, tta), checked as the command checks it.
func (s *server) request(q map[string][]string) (engine.Request, error) {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var rf requestFlags
	rf.Register(fs)
	// --tta is an engine flag of predict (and of serve itself: the
	// default); a request may choose its own.
	var tf cmdline.TTA
	fs.Var(&tf, "tta", cmdline.TTAUsage)
	set := map[string]bool{}
	for k, vs := range q {
		if predictParams[k] {
			continue
		}
		if len(vs) != 1 {
			return engine.Request{}, fmt.Errorf("parameter %s given %d times", k, len(vs))
		}
		if fs.Lookup(k) == nil {
			return engine.Request{}, fmt.Errorf("unknown parameter %q", k)
		}
		v := vs[0]
		if k == "no-resample" && v == "" {
			v = "true"
		}
		if err := fs.Set(k, v); err != nil {
			return engine.Request{}, fmt.Errorf("--%s %s: %v", k, v, err)
		}
		set[k] = true
	}
	if err := rf.check(set); err != nil {
		return engine.Request{}, err
	}
	if err := checkSensor(rf.Sensor); err != nil {
		return engine.Request{}, err
	}
	if err := rf.checkTiling(set, s.e); err != nil {
		return engine.Request{}, err
	}
	req := rf.request(set)
	req.TTA = tf.Mode
	// A service is strict: bands whose names do not match are refused
	// (422) unless ?bands= says which to take.
	req.BandsByPosition = false
	req.NoWait = !s.cfg.wait
	return req, nil
}

// errOutside refuses a path outside the allow-listed root.
var errOutside = errors.New("outside the served folder")

// inRoot resolves a slash-separated path relative to the root, refusing
// absolute paths, "..", GDAL's special names and symbolic links leading
// out. A path that does not exist resolves through its folder (outputs).
func (s *server) inRoot(rel string) (string, error) {
	if s.cfg.root == "" {
		return "", errors.New("this server takes no paths (start it with --root)")
	}
	if rel == "" || strings.HasPrefix(rel, "/") || strings.ContainsAny(rel, "\\:\x00") {
		return "", fmt.Errorf("%q: %w", rel, errOutside)
	}
	for _, part := range strings.Split(rel, "/") {
		if part == ".." {
			return "", fmt.Errorf("%q: %w", rel, errOutside)
		}
	}
	p := filepath.Join(s.cfg.root, filepath.FromSlash(rel))
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, os.ErrNotExist) {
		dir, derr := filepath.EvalSymlinks(filepath.Dir(p))
		if derr != nil {
			return "", fmt.Errorf("%q: %w", rel, os.ErrNotExist)
		}
		real = filepath.Join(dir, filepath.Base(p))
	} else if err != nil {
		return "", fmt.Errorf("%q: %w", rel, err)
	}
	if !within(s.cfg.root, real) {
		return "", fmt.Errorf("%q: %w", rel, errOutside)
	}
	return real, nil
}

// readsInside reports (errOutside) whether predicting path may read a file
// outside the root: a file the engine resolves for it (Engine.Sources: the
// scene's files, VRT sources, sidecars, product metadata), a symbolic link
// leading out, or a VRT source outside. When the engine cannot resolve
// them all in advance (Sources fails: e.g. a product whose preferred
// models need bands the folder lacks, which the prediction then replaces
// by others), every file below a folder path, and the sources of a file
// path, are checked instead, so an unresolvable scene never goes unchecked.
func (s *server) readsInside(path string, req engine.Request) error {
	srcs, err := s.e.Sources([]string{path}, req)
	if err != nil {
		if srcs, err = treeSources(path); err != nil {
			return err
		}
	}
	for _, f := range srcs {
		if real, err := filepath.EvalSymlinks(f); err == nil && !within(s.cfg.root, real) {
			return errOutside
		}
	}
	return nil
}

// maxTreeFiles bounds the files treeSources looks at.
const maxTreeFiles = 10000

// treeSources returns every file below path (following symbolic links to
// folders, each folder once) with the files GDAL would read for each
// (gdalio.Sources: VRT sources, sidecars), or path's own sources when it
// is a file. Files gdalio refuses are listed as themselves: the engine
// refuses them too.
func treeSources(path string) ([]string, error) {
	var out []string
	add := func(f string) {
		srcs, err := gdalio.Sources(f)
		if err != nil {
			srcs = []string{f}
		}
		out = append(out, srcs...)
	}
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		add(path)
		return out, nil
	}
	seen := map[string]bool{}
	var walk func(dir string) error
	walk = func(dir string) error {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil || seen[real] {
			return nil
		}
		seen[real] = true
		out = append(out, dir)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil // the engine cannot list it either
		}
		for _, e := range entries {
			if len(out) > maxTreeFiles {
				return fmt.Errorf("over %d files below the folder to check", maxTreeFiles)
			}
			f := filepath.Join(dir, e.Name())
			if st, err := os.Stat(f); err == nil && st.IsDir() {
				if err := walk(f); err != nil {
					return err
				}
				continue
			}
			add(f)
		}
		return nil
	}
	if err := walk(path); err != nil {
		return nil, err
	}
	return out, nil
}

func within(root, p string) bool {
	r, err := filepath.Rel(root, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, "../") && !filepath.IsAbs(r)
}

func (s *server) predict(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		httpError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	q := r.URL.Query()
	req, err := s.request(q)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "cog"
		if q.Get("output") != "" || strings.Contains(r.Header.Get("Accept"), "application/json") {
			format = "json"
		}
	}
	if format != "cog" && format != "json" {
		httpError(w, http.StatusBadRequest, "format: want cog or json")
		return
	}
	var outRel string
	if outRel = q.Get("output"); outRel != "" {
		if format != "json" {
			httpError(w, http.StatusBadRequest, "output: the response is JSON when the mask is written to a file")
			return
		}
		if req.Output, err = s.inRoot(outRel); err != nil {
			s.pathError(w, err)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.timeout)
	defer cancel()
	ctx = engine.WithLogger(ctx, s.log.With("remote", r.RemoteAddr))
	var res *engine.Result
	name := "body"
	if rel := q.Get("path"); rel != "" {
		path, err := s.inRoot(rel)
		if err != nil {
			s.pathError(w, err)
			return
		}
		// Every file reading it touches (VRT sources, sidecars…) must be
		// inside the root too.
		if err := s.readsInside(path, req); err != nil {
			s.pathError(w, fmt.Errorf("%q reads %w", rel, err))
			return
		}
		name = rel
		res, err = s.e.PredictFile(ctx, []string{path}, req)
		if err != nil {
			s.engineError(w, ctx, err, path, rel)
			return
		}
	} else {
		body := http.MaxBytesReader(w, r.Body, s.cfg.maxBody)
		res, err = s.e.PredictReader(ctx, body, req)
		if err != nil {
			s.engineError(w, ctx, err, "", "")
			return
		}
	}
	if format == "cog" {
		data, err := res.GeoTIFF()
		if err != nil {
			httpError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "image/tiff; application=geotiff; profile=cloud-optimized")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
		return
	}
	s.writeJSON(w, res, name, outRel)
}

func (s *server) pathError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errOutside):
		httpError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, os.ErrNotExist):
		httpError(w, http.StatusNotFound, err.Error())
	default:
		httpError(w, http.StatusBadRequest, err.Error())
	}
}

// engineError maps an engine error to a status; file names under the root
// are shown relative to it.
func (s *server) engineError(w http.ResponseWriter, ctx context.Context, err error, path, rel string) {
	msg := err.Error()
	if path != "" {
		msg = strings.ReplaceAll(msg, path, rel)
	}
	if s.cfg.root != "" {
		msg = strings.ReplaceAll(msg, s.cfg.root+"/", "")
	}
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", mb.Limit))
	case errors.Is(err, engine.ErrBusy):
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusTooManyRequests, msg)
	case errors.Is(err, engine.ErrClosed):
		httpError(w, http.StatusServiceUnavailable, "shutting down")
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		httpError(w, http.StatusGatewayTimeout, fmt.Sprintf("over the %v time limit", s.cfg.timeout))
	case errors.Is(err, context.Canceled), errors.Is(ctx.Err(), context.Canceled):
		// The client went away (whatever failed then, reading its body
		// included); nobody reads the status.
		httpError(w, 499, "cancelled")
	case errors.Is(err, engine.ErrTooLarge):
		httpError(w, http.StatusRequestEntityTooLarge, msg)
	case errors.Is(err, os.ErrNotExist) && path != "":
		httpError(w, http.StatusNotFound, msg)
	case errors.Is(err, engine.ErrInvalidInput), errors.Is(err, engine.ErrUnsupported):
		httpError(w, http.StatusUnprocessableEntity, msg)
	default:
		s.log.Error("predict", "err", msg)
		httpError(w, http.StatusInternalServerError, msg)
	}
}

// writeJSON answers with the class fractions (of the valid pixels) and the
// mask written, if any.
func (s *server) writeJSON(w http.ResponseWriter, res *engine.Result, name, output string) {
	type class struct {
		ID       int     `json:"id"`
		Name     string  `json:"name"`
		Pixels   int64   `json:"pixels"`
		Fraction float64 `json:"fraction"`
	}
	p := res.Plan
	total := int64(p.Size.X) * int64(p.Size.Y)
	valid := total - res.ClassCounts[255]
	out := struct {
		Scene     string   `json:"scene"`
		Size      [2]int   `json:"size"`
		Classes   []class  `json:"classes"`
		NoData    int64    `json:"nodata_pixels"`
		Output    string   `json:"output,omitempty"`
		Warnings  []string `json:"warnings"`
		ElapsedMS int64    `json:"elapsed_ms"`
	}{Scene: name, Size: [2]int{p.Size.X, p.Size.Y}, NoData: res.ClassCounts[255], Output: output,
		Warnings: res.Warnings, ElapsedMS: res.Elapsed.Milliseconds()}
	for _, c := range s.e.Classes() {
		n := res.ClassCounts[c.ID]
		f := 0.0
		if valid > 0 {
			f = float64(n) / float64(valid)
		}
		out.Classes = append(out.Classes, class{c.ID, c.Name, n, f})
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// metrics are the server's Prometheus counters.
type metrics struct {
	mu       sync.Mutex
	byCode   map[reqKey]int64 // requests by route and status
	buckets  [len(latencyBuckets)]int64
	count    int64
	sum      float64
	inFlight atomic.Int64
}

var latencyBuckets = [...]float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

type reqKey struct {
	path string
	code int
}

// routes are the paths metrics name; others count as "other".
var routes = map[string]bool{"/v1/predict": true, "/v1/models": true, "/healthz": true, "/metrics": true}

// observe counts a request; the latency histogram is of predictions.
func (m *metrics) observe(path string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byCode == nil {
		m.byCode = map[reqKey]int64{}
	}
	if !routes[path] {
		path = "other"
	}
	m.byCode[reqKey{path, code}]++
	if path != "/v1/predict" {
		return
	}
	sec := d.Seconds()
	for i, b := range latencyBuckets {
		if sec <= b {
			m.buckets[i]++
		}
	}
	m.count++
	m.sum += sec
}

func (s *server) metrics(w http.ResponseWriter, r *http.Request) {
	m := &s.m
	b := s.e.Budget()
	m.mu.Lock()
	var sb strings.Builder
	sb.WriteString("# HELP omnimask_requests_total HTTP requests answered, by path and status code.\n# TYPE omnimask_requests_total counter\n")
	keys := make([]reqKey, 0, len(m.byCode))
	for k := range m.byCode {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return a.code - b.code
	})
	for _, k := range keys {
		fmt.Fprintf(&sb, "omnimask_requests_total{path=\"%s\",code=\"%d\"} %d\n", k.path, k.code, m.byCode[k])
	}
	sb.WriteString("# HELP omnimask_request_duration_seconds Time to answer a POST /v1/predict.\n# TYPE omnimask_request_duration_seconds histogram\n")
	for i, le := range latencyBuckets {
		fmt.Fprintf(&sb, "omnimask_request_duration_seconds_bucket{le=\"%g\"} %d\n", le, m.buckets[i])
	}
	fmt.Fprintf(&sb, "omnimask_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", m.count)
	fmt.Fprintf(&sb, "omnimask_request_duration_seconds_sum %g\nomnimask_request_duration_seconds_count %d\n", m.sum, m.count)
	m.mu.Unlock()
	// This request is in flight too.
	fmt.Fprintf(&sb, "# HELP omnimask_requests_in_flight Requests being answered.\n# TYPE omnimask_requests_in_flight gauge\nomnimask_requests_in_flight %d\n", m.inFlight.Load())
	fmt.Fprintf(&sb, "# HELP omnimask_memory_budget_bytes The engine's memory budget (--memory-budget less what the process held before loading the models).\n# TYPE omnimask_memory_budget_bytes gauge\nomnimask_memory_budget_bytes %d\n", b.Total)
	fmt.Fprintf(&sb, "# HELP omnimask_memory_budget_reserved_bytes Estimated resident memory of the models and ONNX Runtime, reserved in the budget.\n# TYPE omnimask_memory_budget_reserved_bytes gauge\nomnimask_memory_budget_reserved_bytes %d\n", b.Reserved)
	fmt.Fprintf(&sb, "# HELP omnimask_memory_budget_in_use_bytes Estimated resident memory of the predictions admitted.\n# TYPE omnimask_memory_budget_in_use_bytes gauge\nomnimask_memory_budget_in_use_bytes %d\n", b.InUse)
	fmt.Fprintf(&sb, "# HELP omnimask_memory_budget_peak_bytes The most the budget in use has been.\n# TYPE omnimask_memory_budget_peak_bytes gauge\nomnimask_memory_budget_peak_bytes %d\n", b.Peak)
	fmt.Fprintf(&sb, "# HELP omnimask_memory_budget_waiting Predictions waiting for memory budget.\n# TYPE omnimask_memory_budget_waiting gauge\nomnimask_memory_budget_waiting %d\n", b.Waiting)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	io.WriteString(w, sb.String())
}
