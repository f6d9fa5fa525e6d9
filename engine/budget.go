package engine

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/omnimask/omnimask/internal/liberr"
)

// budget admits predictions by their estimated working memory (Plan.Memory)
// so that those in flight together stay within a total: a weighted
// semaphore, first come first served (a large scene waiting is not
// overtaken by small ones, which would starve it).
type budget struct {
	total int64
	mu    sync.Mutex
	used  int64
	peak  int64
	wait  list.List // of *waiter, in arrival order
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when admitted
}

// acquire admits n bytes: at once when they fit and nobody waits before,
// else, when wait, once earlier predictions have released enough; without
// wait it returns ErrBusy. It returns ErrTooLarge when n exceeds the
// whole budget, ErrClosed when closing is closed first and the cause of
// ctx when it is done first.
func (b *budget) acquire(ctx context.Context, n int64, wait bool, closing <-chan struct{}) error {
	if n > b.total {
		return liberr.Mark(fmt.Errorf("needs about %s of working memory, more than the engine's whole memory budget of %s (Options.MemoryBudget)", gib(n), gib(b.total)), ErrTooLarge)
	}
	b.mu.Lock()
	if b.used+n <= b.total && b.wait.Len() == 0 {
		b.take(n)
		b.mu.Unlock()
		return nil
	}
	if !wait {
		used := b.used
		b.mu.Unlock()
		return fmt.Errorf("%w: %s in use of %s, this scene needs %s", ErrBusy, gib(used), gib(b.total), gib(n))
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	el := b.wait.PushBack(w)
	b.mu.Unlock()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = context.Cause(ctx)
	case <-closing:
		err = ErrClosed
	}
	b.mu.Lock()
	select {
	case <-w.ready:
		// Admitted meanwhile: give it back.
		b.used -= n
	default:
		b.wait.Remove(el)
	}
	b.admit()
	b.mu.Unlock()
	return err
}

// release returns n bytes acquired before.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.admit()
	b.mu.Unlock()
}

func (b *budget) take(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

// admit lets in the waiters at the head of the queue that fit; b.mu held.
func (b *budget) admit() {
	for el := b.wait.Front(); el != nil; el = b.wait.Front() {
		w := el.Value.(*waiter)
		if b.used+w.n > b.total {
			return
		}
		b.take(w.n)
		b.wait.Remove(el)
		close(w.ready)
	}
}

// BudgetStats is the state of the engine's memory budget.
type BudgetStats struct {
	Total   int64 // Options.MemoryBudget; 0 = no budget
	InUse   int64 // estimated working memory of the predictions admitted
	Peak    int64 // the most InUse has been
	Waiting int   // predictions waiting for budget
}

// Budget reports the memory budget's state (for metrics).
func (e *Engine) Budget() BudgetStats {
	b := e.budget
	if b == nil {
		return BudgetStats{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return BudgetStats{Total: b.total, InUse: b.used, Peak: b.peak, Waiting: b.wait.Len()}
}

// admit takes p's working memory from the engine's budget (if it has one)
// and returns the function that gives it back.
func (e *Engine) admit(ctx context.Context, p *Plan, req Request) (release func(), err error) {
	if e.budget == nil {
		return func() {}, nil
	}
	if err := e.budget.acquire(ctx, p.Memory, !req.NoWait, e.closing); err != nil {
		return nil, err
	}
	return func() { e.budget.release(p.Memory) }, nil
}
