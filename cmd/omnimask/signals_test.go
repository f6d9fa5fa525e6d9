package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omnimask/omnimask/internal/testutil"
)

// startChild runs main() with args in a child process (see TestMainChild).
func startChild(t *testing.T, args []string, stderr *bytes.Buffer) (*exec.Cmd, chan error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestMainChild$")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join(args, "\x1f"))
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, done
}

// TestSignalsStopRuns: SIGINT, SIGTERM and SIGHUP during a prediction each
// end the process with 130 within seconds, leaving nothing in the output
// folder (SIGHUP left temporaries and overview files before).
func TestSignalsStopRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes; not for -short")
	}
	in := t.TempDir()
	scene := tif{w: 800, h: 800}.write(t, filepath.Join(in, "big.tif"))
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			out := t.TempDir()
			args := []string{"predict", scene, "--model", pointwise, "--output-dir", out, "--patch-size", "32", "--overlap", "0",
				"--threads", "1", "--confidence", "uint8"}
			var stderr bytes.Buffer
			cmd, done := startChild(t, args, &stderr)
			deadline := time.Now().Add(30 * time.Second)
			for len(testutil.DirNames(t, out)) == 0 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("no temporary file after 30 s:\n%s", stderr.String())
				}
				select {
				case err := <-done:
					t.Fatalf("finished before the signal (%v):\n%s", err, stderr.String())
				case <-time.After(2 * time.Millisecond):
				}
			}
			sent := time.Now()
			cmd.Process.Signal(sig)
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 30 s after %v", sig)
			}
			t.Logf("exited %v after %v (%v)", time.Since(sent).Round(time.Millisecond), sig, err)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
				t.Fatalf("exit %v, want code 130:\n%s", err, stderr.String())
			}
			if n := testutil.DirNames(t, out); len(n) > 0 {
				t.Fatalf("left behind after %v: %v", sig, n)
			}
		})
	}
}

// TestCrashChild panics after crashMode when run as a child of
// TestCrashIsNotUsageError.
func TestCrashChild(t *testing.T) {
	switch os.Getenv("OMNIMASK_TEST_CRASH") {
	case "panic":
		crashMode()
		go panic("boom")
		time.Sleep(time.Minute)
	case "segv":
		crashMode()
		syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(time.Minute)
	default:
		t.Skip("runs only as a child of TestCrashIsNotUsageError")
	}
}

// TestCrashIsNotUsageError: a crash of any kind (a Go panic, a fault) must
// not exit with 2, the usage-error code; it aborts (SIGABRT).
func TestCrashIsNotUsageError(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes; not for -short")
	}
	for _, kind := range []string{"panic", "segv"} {
		t.Run(kind, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashChild$")
			cmd.Env = append(os.Environ(), "OMNIMASK_TEST_CRASH="+kind, "GOTRACEBACK=")
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("child: %v\n%s", err, out)
			}
			st := ee.Sys().(syscall.WaitStatus)
			if ee.ExitCode() == exitUsage || !st.Signaled() || st.Signal() != syscall.SIGABRT {
				t.Errorf("crash ended with %v (code %d), want SIGABRT, never code 2", err, ee.ExitCode())
			}
		})
	}
}
