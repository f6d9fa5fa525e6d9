package cmdline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Exit codes of the commands.
const (
	ExitOK          = 0
	ExitFailed      = 1 // a scene or file failed
	ExitUsage       = 2 // bad command line
	ExitInterrupted = 130
)

// UsageError marks errors in the command line itself; Cause, when set, is
// the library error it reports.
type UsageError struct {
	Msg   string
	Cause error
}

func (e UsageError) Error() string { return e.Msg }
func (e UsageError) Unwrap() error { return e.Cause }

// Usagef returns a UsageError with the formatted message.
func Usagef(format string, a ...any) error { return UsageError{Msg: fmt.Sprintf(format, a...)} }

// ExitCode is the exit code for the error a command returned.
func ExitCode(err error) int {
	var ue UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	}
	return ExitFailed
}

// Parse parses flags that may come before or after the positional
// arguments, and returns the positional ones; a bad flag is a UsageError.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, UsageError{Msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// gdalCacheMB is GDAL's block cache size in MiB that TuneProcess sets: the
// commands read and write each block about once, so GDAL's default (5 %
// of the machine's memory) would only inflate resident memory.
const gdalCacheMB = "64"

// TuneProcess makes the process-wide settings the commands' measured
// memory use depends on (the library leaves them to programs), unless the
// user made them in the environment: the engine's large buffers are
// recycled and live long, so collecting at half the default growth keeps
// resident memory close to what is live; GDAL's block cache is 64 MiB
// (GDAL reads it on first use). Only a command's main calls it.
func TuneProcess() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	if os.Getenv("GDAL_CACHEMAX") == "" {
		os.Setenv("GDAL_CACHEMAX", gdalCacheMB)
	}
}

// Logger returns a text logger on w: errors only when quiet, debug logs
// when verbose, else info.
func Logger(w io.Writer, quiet, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	switch {
	case quiet:
		level = slog.LevelError
	case verbose:
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// EvalDir checks eval's --data (when given) and returns the report folder:
// out, or eval-out/RUNNAME without it (slashes made underscores, "run"
// for a name that is no folder name).
func EvalDir(data, out, runName string) (string, error) {
	if data != "" {
		if st, err := os.Stat(data); err != nil || !st.IsDir() {
			return "", fmt.Errorf("--data %s: not a folder", data)
		}
	}
	if out != "" {
		return out, nil
	}
	name := strings.NewReplacer("/", "_", `\`, "_").Replace(runName)
	if name == "" || name == "." || name == ".." {
		name = "run"
	}
	return filepath.Join("eval-out", name), nil
}
