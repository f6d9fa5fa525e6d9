package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnimask/omnimask/batch"
)

// tracker counts the scenes finished by the workers of this process (the
// pipeline runs in-process on Prism) and shows scenes done / failed / total
// with an ETA on a terminal, or logs each scene otherwise. On a cluster the
// workers log each scene instead (the runner collects their logs).
var tracker atomic.Pointer[progress]

type progress struct {
	mu                           sync.Mutex
	w                            io.Writer
	log                          *slog.Logger
	tty                          bool
	total, done, failed, skipped int
	computed                     int // scenes predicted (not skipped), for the ETA
	start                        time.Time
	drawn                        bool
}

func newProgress(w io.Writer, log *slog.Logger, total int, quiet bool) *progress {
	return &progress{w: w, log: log, tty: !quiet && isTerminal(w), total: total, start: time.Now()}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) record(r batch.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	switch r.Status {
	case batch.StatusFailed:
		p.failed++
	case batch.StatusSkipped:
		p.skipped++
	default:
		p.computed++
	}
	if !p.tty {
		if r.Status == batch.StatusFailed {
			p.log.Error("scene failed", "scene", r.Scene, "error", r.Error, "done", p.done, "total", p.total)
		} else {
			p.log.Info("scene "+r.Status, "scene", r.Scene, "output", r.Output, "done", p.done, "failed", p.failed, "total", p.total)
		}
		return
	}
	if r.Status == batch.StatusFailed {
		fmt.Fprintf(p.w, "\r\033[Kfailed: %s: %s\n", r.Scene, r.Error)
	}
	eta := "--"
	if p.computed > 0 {
		left := p.total - p.done
		eta = (time.Duration(float64(time.Since(p.start)) / float64(p.computed) * float64(left))).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[K%d/%d scenes done (%d skipped, %d failed)  ETA %s ", p.done, p.total, p.skipped, p.failed, eta)
	p.drawn = true
}

// evalScene counts a scene of an evaluation (all its steps).
func (p *progress) evalScene(name string, failedSteps int) {
	st := batch.StatusOK
	if failedSteps > 0 {
		st = batch.StatusFailed
	}
	p.record(batch.Record{Scene: name, Status: st, Error: fmt.Sprintf("%d steps failed", failedSteps)})
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
