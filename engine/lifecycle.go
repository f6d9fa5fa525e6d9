package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// ErrClosed is returned by calls on an Engine that is closed or shutting
// down, and by the calls Shutdown cancelled.
var ErrClosed = errors.New("engine: closed")

// errShutdown is the cause of the calls Shutdown cancels.
var errShutdown = fmt.Errorf("%w: shut down while predicting", ErrClosed)

// enter registers a call in flight and returns its context, which Shutdown
// cancels when its own context expires; done must be called when the call
// ends.
func (e *Engine) enter(ctx context.Context) (context.Context, func(), error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, nil, ErrClosed
	}
	e.inflight.Add(1)
	e.mu.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(e.abort, func() { cancel(errShutdown) })
	return ctx, func() {
		stop()
		cancel(nil)
		e.inflight.Done()
	}, nil
}

// shutErr turns the error of a call that Shutdown cancelled into one that
// says so (errors.Is ErrClosed).
func shutErr(ctx context.Context, err error) error {
	if err != nil && !errors.Is(err, ErrClosed) && context.Cause(ctx) == errShutdown {
		return fmt.Errorf("%w (%v)", errShutdown, err)
	}
	return err
}

// Close refuses new calls at once (they return ErrClosed), waits for the
// calls in flight, then releases the inference sessions. It is safe to
// call more than once, and together with Shutdown.
func (e *Engine) Close() error {
	return e.Shutdown(context.Background())
}

// Shutdown refuses new calls at once (ErrClosed; calls waiting for memory
// budget get it too), lets the calls in flight finish until ctx is done,
// then cancels them (they return an error wrapping ErrClosed, leaving no
// file) and waits for them to return. The inference sessions are released
// last. It returns ctx's error when the calls had to be cancelled.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.closing)
	}
	e.mu.Unlock()
	idle := make(chan struct{})
	go func() { e.inflight.Wait(); close(idle) }()
	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		err = ctx.Err()
		e.abortFn()
		<-idle
	}
	perr := e.shutdownProducts(ctx)
	e.release.Do(func() {
		e.abortFn()
		e.relErr = closeModels(e.models)
	})
	err = errors.Join(err, perr)
	return errors.Join(err, e.relErr)
}

type loggerKey struct{}

// WithLogger returns a context carrying l: the calls made with it log their
// warnings there (unless their Request.Logger is set).
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// logger is a call's logger: Request.Logger, else the context's, else the
// engine's.
func (e *Engine) logger(ctx context.Context, req Request) *slog.Logger {
	if req.Logger != nil {
		return req.Logger
	}
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return e.log
}
