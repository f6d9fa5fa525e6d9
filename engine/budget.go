package engine

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/omnimask/omnimask/internal/liberr"
)

// budget admits predictions by their estimated resident memory
// (Plan.Memory) so that those in flight together, with what the engine
// reserved for its models, stay within a total: a weighted semaphore, first
// come first served (a large scene waiting is not overtaken by small ones,
// which would starve it).
type budget struct {
	total    int64
	mu       sync.Mutex
	reserved int64 // the models and ONNX Runtime (reserve), for good
	used     int64 // the predictions admitted
	peak     int64
	wait     list.List // of *waiter, in arrival order
}

// reserve takes n bytes for good (loaded models). It returns ErrTooLarge
// when they do not fit in the budget with what was reserved before.
func (b *budget) reserve(n int64, what string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reserved+n > b.total {
		also := ""
		if b.reserved > 0 {
			also = fmt.Sprintf(" beside the %s reserved already", mib(b.reserved))
		}
		return liberr.Mark(fmt.Errorf("%s need about %s resident%s, more than the memory budget of %s (Options.MemoryBudget), which must also hold the predictions",
			what, mib(n), also, mib(b.total)), ErrTooLarge)
	}
	b.reserved += n
	return nil
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
	b.mu.Lock()
	if free := b.total - b.reserved; n > free {
		b.mu.Unlock()
		return liberr.Mark(fmt.Errorf("needs about %s of memory, more than the %s the engine's memory budget of %s (Options.MemoryBudget) leaves beside its models (%s)",
			mib(n), mib(free), mib(b.total), mib(b.reserved)), ErrTooLarge)
	}
	if b.reserved+b.used+n <= b.total && b.wait.Len() == 0 {
		b.take(n)
		b.mu.Unlock()
		return nil
	}
	if !wait {
		used := b.used
		b.mu.Unlock()
		return fmt.Errorf("%w: %s in use of %s (beside %s for the models), this scene needs %s", ErrBusy, mib(used), mib(b.total), mib(b.reserved), mib(n))
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
		if b.reserved+b.used+w.n > b.total {
			return
		}
		b.take(w.n)
		b.wait.Remove(el)
		close(w.ready)
	}
}

// BudgetStats is the state of the engine's memory budget.
type BudgetStats struct {
	Total    int64 // Options.MemoryBudget; 0 = no budget
	Reserved int64 // estimated resident memory of the models and ONNX Runtime, taken at New
	InUse    int64 // estimated resident memory of the predictions admitted (Plan.Memory)
	Peak     int64 // the most InUse has been
	Waiting  int   // predictions waiting for budget
}

// Budget reports the memory budget's state (for metrics).
func (e *Engine) Budget() BudgetStats {
	b := e.budget
	if b == nil {
		return BudgetStats{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return BudgetStats{Total: b.total, Reserved: b.reserved, InUse: b.used, Peak: b.peak, Waiting: b.wait.Len()}
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", (b+1<<20-1)>>20) }

// admit takes p's memory from the engine's budget (if it has one)
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
