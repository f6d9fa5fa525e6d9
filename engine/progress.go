package engine

// progressPump delivers a run's progress to Request.Progress from a
// goroutine of its own, so that a slow callback never stalls the pipeline:
// the pipeline leaves the latest value in a one-slot mailbox, replacing one
// not yet taken.
type progressPump struct {
	fn   func(Progress)
	box  chan Progress
	done chan struct{}
}

// startProgress starts delivering to fn; nil when fn is nil.
func startProgress(fn func(Progress)) *progressPump {
	if fn == nil {
		return nil
	}
	p := &progressPump{fn: fn, box: make(chan Progress, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for v := range p.box {
			p.fn(v)
		}
	}()
	return p
}

// send posts v, never blocking: a value the callback has not taken yet is
// replaced. One goroutine sends.
func (p *progressPump) send(v Progress) {
	if p == nil {
		return
	}
	for {
		select {
		case p.box <- v:
			return
		default:
		}
		select {
		case <-p.box:
		default:
		}
	}
}

// stop delivers the last value posted and waits for the callback to return.
func (p *progressPump) stop() {
	if p == nil {
		return
	}
	close(p.box)
	<-p.done
}
