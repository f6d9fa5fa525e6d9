package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/omnimask/omnimask/engine"
)

// progress draws a one-line bar (patches done, ETA) when stderr is a
// terminal, and nothing otherwise (logs say what happened instead).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	name  string
	tty   bool
	start time.Time
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer, name string, quiet bool) *progress {
	return &progress{w: w, name: name, tty: !quiet && isTerminal(w), start: time.Now()}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(pr engine.Progress) {
	if !p.tty || pr.Total == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && pr.Done < pr.Total {
		return
	}
	p.last = now
	const width = 30
	fill := width * pr.Done / pr.Total
	eta := "--"
	if pr.Done > 0 {
		el := now.Sub(p.start)
		eta = (time.Duration(float64(el) * float64(pr.Total-pr.Done) / float64(pr.Done))).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%-24.24s [%s%s] %d/%d patches  ETA %s ", p.name,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), pr.Done, pr.Total, eta)
	p.drawn = true
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
