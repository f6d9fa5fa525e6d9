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

	"github.com/omnimask/omnimask/internal/cmdline"
)

func main() {
	cmdline.TuneProcess()
	crashMode()
	ctx, stop := notifyContext()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

// Exit codes, usage errors and the exit code of an error are cmdline's,
// shared with omnimask-batch.
const (
	exitOK          = cmdline.ExitOK
	exitFailed      = cmdline.ExitFailed
	exitUsage       = cmdline.ExitUsage
	exitInterrupted = cmdline.ExitInterrupted
)

type usageError = cmdline.UsageError

func usagef(format string, a ...any) error { return cmdline.Usagef(format, a...) }

func exitCode(err error) int { return cmdline.ExitCode(err) }

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
