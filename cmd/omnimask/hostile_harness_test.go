package main

// The hostile-input matrix of issue 6: every case runs through the library
// (engine.New + engine.PredictFile with Request.Output in a fresh folder) and
// through the CLI (run("predict", …, "--output-dir", folder)). A failing case
// must return an error whose message is one line naming the offending file
// (scene, model, ORT library or output) and the problem, exit with the
// documented code, not panic, and leave nothing — no mask, no temp file — in
// the output folder. A succeeding case checks what it must produce instead.
// What is an error and what is a warning is decided in the table at the top
// of engine/hostile_test.go.
//
// Cases that need a fresh process (the ONNX Runtime library is loaded once per
// process) re-run this test binary on just that subtest, with
// OMNIMASK_TEST_CHILD set.
//
// This file is the harness; the cases are in hostile_cases_test.go.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/omnimask/omnimask/internal/cmdline"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/ort"
	"github.com/omnimask/omnimask/internal/testutil"
)

const childEnv = "OMNIMASK_TEST_CHILD"

// env is what a case's hooks see.
type env struct {
	in       string   // input folder
	scenes   []string // scene paths given to predict
	model    string
	ortLib   string
	outDir   string // output folder
	output   string // mask path
	explicit bool   // output named with -o instead of --output-dir
}

type hostile struct {
	name   string
	setup  func(t *testing.T, in string) []string // writes inputs, returns the scene paths
	flags  []string                               // CLI flags…
	req    engine.Request                         // …and the same for the library
	model  string                                 // default pointwise.onnx
	ortLib func(t *testing.T) string              // run in a fresh process with this library
	ortEnv bool                                   // name the library by $ONNXRUNTIME_LIB, not --ort-lib
	fresh  bool                                   // run in a fresh process (it may crash) with 6 GiB more address space at most
	out    func(t *testing.T, e *env)             // choose the output folder / -o file
	stack  bool

	want  []string            // the problem, as substrings of the one-line message; nil = success
	names func(e *env) string // the file the message must name (default the first scene)
	code  int                 // CLI exit code (default 1 for errors, 0 for success)
	usage string              // the CLI refuses this flag's value as bad usage: exit 2, one line naming the flag and its range
	cause error               // errors.Is target for the library error, if any

	check   func(t *testing.T, e *env, res *engine.Result) // success: res is nil for the CLI
	warn    string                                         // success: warning expected (library warnings, CLI stderr)
	timeout time.Duration                                  // per-run deadline (default 30 s)
	cancel  bool                                           // cancel mid-run
}

func scene(e *env) string  { return e.scenes[0] }
func model(e *env) string  { return e.model }
func ortLib(e *env) string { return e.ortLib }
func output(e *env) string { return e.output }

func TestHostileInputs(t *testing.T) {
	cases := hostileCases()
	if len(cases) < 30 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	child := os.Getenv(childEnv) != ""
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ortLib == nil && !tc.fresh && child {
				t.Skip("child process runs only the case it was started for")
			}
			if (tc.ortLib != nil || tc.fresh) && !child {
				// Both modes in one fresh process: ORT's set-up failing
				// leaves nothing loaded, so the CLI run tries it afresh.
				var env []string
				if tc.ortLib != nil {
					lib := tc.ortLib(t)
					env = append(env, "OMNIMASK_TEST_ORTLIB="+lib)
					if tc.ortEnv {
						env = append(env, ort.LibraryEnv+"="+lib)
					}
				}
				runChild(t, "TestHostileInputs", tc.name, env)
				return
			}
			for _, mode := range []string{"lib", "cli"} {
				t.Run(mode, func(t *testing.T) {
					if child {
						testutil.LimitAddressSpace(t, 6<<30)
					}
					in := t.TempDir() // fresh inputs: a failing case may have written over them
					scenes := tc.setup(t, in)
					e := &env{in: in, scenes: scenes, model: tc.model}
					if e.model == "" {
						e.model = pointwise
					}
					e.model = strings.Replace(e.model, "@in", in, 1)
					if tc.ortLib != nil {
						e.ortLib = os.Getenv("OMNIMASK_TEST_ORTLIB")
					}
					if tc.out != nil {
						tc.out(t, e)
					} else {
						e.outDir = t.TempDir()
						e.output = cmdline.MaskPath(scenes[0], e.outDir)
					}
					before := testutil.DirNames(t, e.outDir)
					var res *engine.Result
					var msg string
					var err error
					noPanic(t, func() {
						if mode == "lib" {
							res, err = runLib(t, &tc, e)
							if err != nil {
								msg = err.Error()
							} else {
								msg = strings.Join(res.Warnings, "\n")
							}
						} else {
							msg, err = runCLI(t, &tc, e)
						}
					})
					if tc.want == nil {
						if err != nil {
							t.Fatalf("failed: %v", err)
						}
						if tc.check != nil {
							tc.check(t, e, res)
						}
						if tc.warn != "" && !strings.Contains(strings.ToLower(msg), tc.warn) {
							t.Errorf("warnings %q lack %q", msg, tc.warn)
						}
						return
					}
					if err == nil {
						t.Fatalf("no error, want one about %q", tc.want)
					}
					if mode == "lib" && tc.cause != nil && !errors.Is(err, tc.cause) {
						t.Errorf("error %v does not wrap %v", err, tc.cause)
					}
					checkMessage(t, msg, &tc, e, mode)
					if got := testutil.DirNames(t, e.outDir); strings.Join(got, "|") != strings.Join(before, "|") {
						t.Errorf("output folder holds %v after the error, held %v", got, before)
					}
				})
			}
		})
	}
}

// checkMessage asserts msg is one line that names the offending file and
// contains the wanted words (for a usage error of the CLI: names the flag
// and gives its range).
func checkMessage(t *testing.T, msg string, tc *hostile, e *env, mode string) {
	t.Helper()
	if strings.Contains(msg, "\n") {
		t.Errorf("message spans several lines: %q", msg)
	}
	name, want := offender(tc, e, mode), tc.want
	if mode == "cli" && tc.usage != "" {
		want = []string{": want "}
	}
	if !strings.Contains(msg, name) {
		t.Errorf("message %q does not name %s", msg, name)
	}
	// Temporary folders are named after the test: keep them out of the match.
	bare := strings.ReplaceAll(msg, tc.name, "")
	for _, w := range want {
		if mode == "lib" && strings.HasPrefix(w, "--") {
			continue // flag advice is the command's, not the library's
		}
		if !strings.Contains(strings.ToLower(bare), strings.ToLower(w)) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
}

// offender is what a failing case's message must name: the flag of a
// usage error in the CLI, else the file (by default the first scene).
func offender(tc *hostile, e *env, mode string) string {
	switch {
	case mode == "cli" && tc.usage != "":
		return "--" + tc.usage + " "
	case tc.names != nil:
		return tc.names(e)
	}
	return scene(e)
}

// noPanic runs f and turns a panic in it into a test failure.
func noPanic(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	f()
}

func caseContext(tc *hostile) (context.Context, context.CancelFunc) {
	d := tc.timeout
	if d == 0 {
		d = 30 * time.Second
	}
	return context.WithTimeout(context.Background(), d)
}

// runLib runs a case through the library: engine.New, then PredictFile.
func runLib(t *testing.T, tc *hostile, e *env) (*engine.Result, error) {
	ctx, cancel := caseContext(tc)
	defer cancel()
	eng, err := engine.New(engine.Options{Models: []string{e.model}, ORTLibrary: libFlag(tc, e), Threads: 1})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := eng.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	req := tc.req
	req.Output = e.output
	if tc.cancel {
		req.Progress = func(p engine.Progress) {
			if p.Done >= 2 {
				cancel()
			}
		}
	}
	res, err := eng.PredictFile(ctx, e.scenes, req)
	if err != nil {
		return nil, err
	}
	t.Logf("warnings: %q", res.Warnings)
	return res, nil
}

// libFlag is the --ort-lib value of a case (empty when named by env).
func libFlag(tc *hostile, e *env) string {
	if tc.ortEnv {
		return ""
	}
	return e.ortLib
}

// runCLI runs a case through run() and returns the error line it printed
// for the offending file (or all of stderr on success).
func runCLI(t *testing.T, tc *hostile, e *env) (string, error) {
	ctx, cancel := caseContext(tc)
	defer cancel()
	args := append([]string{"predict"}, e.scenes...)
	args = append(args, "--model", e.model, "--threads", "1")
	if e.explicit {
		args = append(args, "-o", e.output)
	} else {
		args = append(args, "--output-dir", e.outDir)
	}
	if tc.stack {
		args = append(args, "--stack")
	}
	if l := libFlag(tc, e); l != "" {
		args = append(args, "--ort-lib", l)
	}
	args = append(args, tc.flags...)
	if tc.cancel {
		stop := cancelWhenTempFile(ctx, cancel, e.outDir)
		defer stop()
	}
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, &stdout, &stderr)
	out := stderr.String()
	t.Logf("omnimask %s\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), stdout.String(), out)
	for _, bad := range []string{"panic", "goroutine ", "runtime error"} {
		if strings.Contains(out, bad) {
			t.Errorf("stderr mentions %q", bad)
		}
	}
	want := exitOK
	switch {
	case tc.usage != "":
		want = exitUsage
	case tc.want != nil:
		want = exitFailed
		if tc.code != 0 {
			want = tc.code
		}
	}
	if got := exitCode(err); got != want {
		t.Errorf("exit code %d, want %d (err %v)", got, want, err)
	}
	if err == nil {
		if tc.check != nil && stdout.Len() == 0 {
			t.Errorf("no summary on stdout")
		}
		return out, nil
	}
	// The line about the offending file (or flag).
	name := offender(tc, e, "cli")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "omnimask predict: ") && strings.Contains(line, name) {
			return line, err
		}
	}
	t.Errorf("no 'omnimask predict:' line on stderr names %s", name)
	return out, err
}

// cancelWhenTempFile cancels ctx as soon as a file appears in dir (the
// mask's temporary file: the run is under way).
func cancelWhenTempFile(ctx context.Context, cancel context.CancelFunc, dir string) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				if es, _ := os.ReadDir(dir); len(es) > 0 {
					cancel()
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

var subtestName = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// runChild re-runs test/name (its lib and cli subtests) in a fresh process
// with env added, and fails unless both passed there.
func runChild(t *testing.T, test, name string, env []string) {
	t.Helper()
	pattern := fmt.Sprintf("^%s$/^%s$", test, subtestName.ReplaceAllString(name, "."))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", pattern, "-test.v", "-test.count=1")
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	out, err := cmd.CombinedOutput()
	s := string(out)
	if err == nil && strings.Contains(s, "--- SKIP: "+test+"/"+name) {
		t.Skipf("skipped in the child:\n%s", s)
	}
	for _, mode := range []string{"lib", "cli"} {
		if err != nil || !strings.Contains(s, "--- PASS: "+test+"/"+name+"/"+mode) {
			t.Fatalf("child process (%v):\n%s", err, s)
		}
	}
	t.Logf("child process:\n%s", s)
}
