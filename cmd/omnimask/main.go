// Command omnimask segments clouds, cloud shadows (and whatever the chosen
// model knows) in satellite scenes from any sensor.
//
// Usage:
//
//	omnimask predict SCENE... [flags]   write a georeferenced mask per scene
//	omnimask info SCENE... [flags]      show bands, resolutions and the tiling plan
//	omnimask eval RUNFILE [flags]       score a model against reference masks
//	omnimask serve [flags]              HTTP service on the library
//	omnimask models                     list the built-in models
//	omnimask embed SCENE... [flags]     per-chip embeddings per scene (D-band GeoTIFF)
//	omnimask models check MODEL.onnx    load, validate, probe, print the contract and speed
//	omnimask version                    print versions
//
// Exit codes: 0 success, 1 a scene or file failed, 2 bad usage, 130 interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
)

func main() {
	tuneProcess()
	crashMode()
	ctx, stop := notifyContext()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

// tuneProcess makes the process-wide settings the command's measured
// memory use depends on (the library leaves them to programs), unless the
// user made them in the environment.
func tuneProcess() {
	// The engine's large buffers are recycled and live long; collecting at
	// half the default growth keeps resident memory close to what is live.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	// GDAL reads it on first use.
	if os.Getenv("GDAL_CACHEMAX") == "" {
		os.Setenv("GDAL_CACHEMAX", strconv.Itoa(gdalCacheMB))
	}
}

// gdalCacheMB is GDAL's block cache size in MiB: omnimask reads and writes
// each block about once, so GDAL's default (5 % of the machine's memory)
// would only inflate resident memory.
const gdalCacheMB = 64

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// usageError marks errors in the command line itself; cause, when set, is
// the library error it reports.
type usageError struct {
	msg   string
	cause error
}

func (e usageError) Error() string { return e.msg }
func (e usageError) Unwrap() error { return e.cause }

func usagef(format string, a ...any) error { return usageError{msg: fmt.Sprintf(format, a...)} }

func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	}
	return exitFailed
}

const usage = `omnimask — cloud and cloud-shadow masks for satellite scenes from any sensor

Usage:
  omnimask predict SCENE... [flags]   write a georeferenced mask per scene
  omnimask info SCENE... [flags]      show bands, resolutions and what predict would do
  omnimask eval RUNFILE [flags]       score a model against reference masks
  omnimask serve [flags]              HTTP service: POST /v1/predict, GET /v1/models, /healthz, /metrics
  omnimask models                     list the built-in models
  omnimask embed SCENE... [flags]     per-chip embeddings per scene (D-band GeoTIFF)
  omnimask probe fit|predict|eval EMB.tif... --labels L.tif...|points.csv|.geojson  linear probe on embeddings
  omnimask models check MODEL.onnx    load, validate, probe, print the contract and speed
  omnimask version                    print omnimask, GDAL and ONNX Runtime versions

Run 'omnimask COMMAND -h' for the flags of a command.
Exit codes: 0 ok, 1 failure, 2 bad usage, 130 interrupted.
`

// run is the whole program, testable: it writes to stdout and stderr and
// returns an error instead of exiting.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		err := usagef("no command")
		fmt.Fprintf(stderr, "omnimask: %s\n", oneLine(err.Error()))
		return err
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "predict":
		err = runPredict(ctx, rest, stdout, stderr)
	case "info":
		err = runInfo(ctx, rest, stdout, stderr)
	case "eval":
		err = runEval(ctx, rest, stdout, stderr)
	case "serve":
		err = runServe(ctx, rest, stdout, stderr)
	case "models":
		err = runModels(ctx, rest, stdout, stderr)
	case "embed":
		err = runEmbed(ctx, rest, stdout, stderr)
	case "probe":
		err = runProbe(ctx, rest, stdout, stderr)
	case "version", "--version":
		err = runVersion(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		err = usagef("unknown command %q", cmd)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stderr, "omnimask %s: %s\n", cmd, oneLine(err.Error()))
	}
	return err
}
