package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// stopSignals are the signals that interrupt a run: Ctrl-C, kill's default
// and the terminal going away. All three exit 130 leaving no file behind.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// notifyContext returns a context cancelled by the first of stopSignals.
// After it the signals get their default action back, so a second one ends
// the process at once should a run ever fail to stop.
func notifyContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// crashMode makes a crash — a Go panic or a fault inside GDAL or ONNX
// Runtime — abort the process (SIGABRT: status 134 in a shell) instead of
// exiting with 2, which is the usage-error code.
func crashMode() { debug.SetTraceback("crash") }
