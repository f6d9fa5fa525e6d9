package embed

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// chipBatch is up to Options.Batch normalised chips in inference order and
// the output pixel of each; a batch without chips only says that rows are
// complete.
type chipBatch struct {
	in   []float32 // Batch x C x cs x cs; the first n chips are used
	n    int
	pos  []int // output pixel (row*cols + col) of each chip
	done int   // output rows below done are complete once this batch is inferred
	end  bool  // the last batch of its window
	err  error

	fm    []float32       // the encoder's feature map of the n chips
	shape [4]int64        // fm's shape
	infer time.Duration   // time inside ONNX Runtime
	ready chan error      // inference finished (buffered, one value per batch)
	free  chan *chipBatch // its reader's pool, where it goes back (nil: no buffers)
}

// windows returns the chip rows per window and the number of windows when
// rows chip rows are cut into windows of span (a chipRows' window; 0: one
// window of them all).
func windows(span, rows int) (int, int) {
	if span <= 0 || span > rows {
		span = rows
	}
	return span, (rows + span - 1) / span
}

// runChips embeds the chips of the scene and writes the output rows. The
// chip rows are cut into windows (rds[0].window() chip rows, the last one
// shorter), and window k is read and normalised by reader k % len(rds):
// a goroutine with a chipRows of its own (rds[i], each on its own handle
// of the scene), which fills batches from its own pool, across chip rows
// but ending at its window's end. A dispatcher takes the batches window
// after window, each from its reader, so in scene order whatever the
// number of readers, and hands them in that order to o.Streams inference
// workers and to the caller's goroutine, which waits for each batch's
// feature map in that order, pools it into the output rows and writes the
// rows it completes. Batches are the same for any number of readers, so
// the output is byte for byte the same. A batch holds chips of at most two
// chip rows (it is sent early only when a second row ends before it is
// full), so two output rows are buffered. Each reader has Streams+2 batch
// buffers (one being filled, one queued, one per inference call),
// allocated once, and its window: memory is bounded by readers x (window
// + Streams+2 batches). A reader's error is passed on in order (the first
// error in scene order ends the run); readers, dispatcher and workers all
// end on every return.
func runChips(ctx context.Context, e *Encoder, rds []chipRows, w *vectorWriter, cols, rows int, o Options, res *Result) error {
	C, cs, D := len(e.Manifest.Bands), o.Chip, e.Dim()
	per := C * cs * cs
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: the readers are out of the scene before it closes
	defer cancel()

	st := e.Manifest.OutputStride
	hw := (cs / st) * (cs / st)
	span, nwin := windows(rds[0].window(), rows)
	nr := min(len(rds), nwin)
	nbuf := o.Streams + 2
	outs := make([]chan *chipBatch, nr)
	for i := range nr {
		free := make(chan *chipBatch, nbuf)
		for range nbuf {
			free <- &chipBatch{
				in:    make([]float32, o.Batch*per),
				pos:   make([]int, 0, o.Batch),
				fm:    make([]float32, o.Batch*D*hw),
				ready: make(chan error, 1),
				free:  free,
			}
		}
		outs[i] = make(chan *chipBatch, nbuf)
		wg.Add(1)
		go func() {
			defer wg.Done()
			readWindows(ctx, rds[i], i, nr, span, rows, cols, per, o, free, outs[i])
		}()
	}

	// The dispatcher keeps the order: window after window, every batch
	// goes to ordered, and those with chips first to a worker.
	work := make(chan *chipBatch)
	ordered := make(chan *chipBatch, nbuf)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ordered)
		defer close(work)
		for k := range nwin {
			for end := false; !end; {
				var b *chipBatch
				select {
				case b = <-outs[k%nr]:
				case <-ctx.Done():
					return
				}
				// b is the consumer's once sent to ordered: it may be
				// back in its pool, refilled, before the next line here.
				failed := b.err != nil
				end = b.end
				if b.n > 0 && !failed {
					o.onBatch(b.in[:b.n*per], b.n)
					select {
					case work <- b:
					case <-ctx.Done():
						return
					}
				}
				select {
				case ordered <- b:
				case <-ctx.Done():
					return
				}
				if failed {
					return
				}
			}
		}
	}()
	for range o.Streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				t := time.Now()
				var err error
				b.shape, err = e.runInto(b.in[:b.n*per], [4]int64{int64(b.n), int64(C), int64(cs), int64(cs)}, b.fm)
				b.infer = time.Since(t)
				b.ready <- err // buffered: never blocks
			}
		}()
	}

	// Output rows written and written+1, band-major (D runs of cols
	// values), and which of their columns hold a chip's vector: the others
	// are set to NaN when the row is written, so a row is never cleared.
	var ring [2][]float32
	var have [2][]bool
	for i := range ring {
		ring[i], have[i] = make([]float32, D*cols), make([]bool, cols)
	}
	written := 0
	for b := range ordered {
		if b.err != nil {
			return b.err
		}
		if b.n > 0 {
			if err := <-b.ready; err != nil {
				return err
			}
			res.Infer += b.infer
			for _, p := range b.pos {
				if r := p / cols; r < written || r > written+1 {
					return fmt.Errorf("embed: internal error: chip of row %d with %d rows written", r, written)
				}
			}
			poolBands(&ring, cols, b.fm, b.shape, b.pos)
			for _, p := range b.pos {
				have[p/cols%2][p%cols] = true
			}
			res.Chips += b.n
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		done := b.done
		if b.free != nil {
			b.free <- b // never blocks: nbuf buffers, nbuf places
		}
		for ; written < done; written++ {
			row, h := ring[written%2], have[written%2]
			nan := float32(math.NaN())
			for c, ok := range h {
				if !ok {
					for d := range D {
						row[d*cols+c] = nan
					}
				}
			}
			if err := w.writeRow(written, row); err != nil {
				return err
			}
			clear(h)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if written != rows {
		return fmt.Errorf("embed: internal error: %d of %d rows written", written, rows)
	}
	res.NoDataChips = rows*cols - res.Chips
	return nil
}

// readWindows reads and normalises, with src, the windows i, i+step, … of
// span chip rows into batches from free, sent on out in order, the last of
// each window marked end. It sends a read error as a batch and returns; it
// returns when ctx is done.
func readWindows(ctx context.Context, src chipRows, i, step, span, rows, cols, per int, o Options, free, out chan *chipBatch) {
	send := func(b *chipBatch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	get := func() *chipBatch {
		select {
		case b := <-free:
			b.n, b.pos, b.done, b.end = 0, b.pos[:0], 0, false
			return b
		case <-ctx.Done():
			return nil
		}
	}
	for k := i; k*span < rows; k += step {
		if ctx.Err() != nil {
			return
		}
		r1 := min((k+1)*span, rows)
		var cur *chipBatch // taken once the window's first chip row is read
		first := 0         // chip row of cur's first chip
		for r := k * span; r < r1; r++ {
			err := src.read(r * o.Stride)
			if err == nil && o.readErr != nil {
				err = o.readErr(r)
			}
			if err != nil {
				send(&chipBatch{err: err})
				return
			}
			for c := range cols {
				if cur == nil {
					if cur = get(); cur == nil {
						return
					}
				}
				if !src.chip(cur.in[cur.n*per:(cur.n+1)*per], c*o.Stride, o.MaxNoData) {
					continue
				}
				if cur.n == 0 {
					first = r
				}
				cur.pos = append(cur.pos, r*cols+c)
				cur.n++
				if cur.n == o.Batch {
					cur.done = r
					if !send(cur) {
						return
					}
					cur = nil
				}
			}
			// Row r is complete; the window's last row ends its batch.
			end := r == r1-1
			switch {
			case cur == nil || cur.n == 0:
				if !send(&chipBatch{done: r + 1, end: end}) {
					return
				}
			case first < r || end:
				cur.done, cur.end = r+1, end
				if !send(cur) {
					return
				}
				cur = nil
			}
		}
		if cur != nil {
			free <- cur // taken but unused: never blocks
		}
	}
}

func fillNaN(v []float32) {
	nan := float32(math.NaN())
	for i := range v {
		v[i] = nan
	}
}

// poolBands averages each chip k of the feature map fm (N x D x h x w)
// over h and w, exactly as poolInto does, into the band-major output row
// ring[r%2] at column c, where pos[k] = r*cols + c: a transposition done in
// tiles of 16 chips by 16 bands, whose source and destination stay in cache.
// A 1x1 feature map (h = w = 1) is copied: the average of one value is
// that value.
func poolBands(ring *[2][]float32, cols int, fm []float32, shape [4]int64, pos []int) {
	const t = 16
	d, hw := int(shape[1]), int(shape[2]*shape[3])
	for k0 := 0; k0 < len(pos); k0 += t {
		k1 := min(k0+t, len(pos))
		for b0 := 0; b0 < d; b0 += t {
			b1 := min(b0+t, d)
			for k := k0; k < k1; k++ {
				r, c := pos[k]/cols, pos[k]%cols
				row := ring[r%2]
				if hw == 1 {
					for b, x := range fm[k*d+b0 : k*d+b1] {
						row[(b0+b)*cols+c] = x
					}
					continue
				}
				for b := b0; b < b1; b++ {
					var s float64
					for _, x := range fm[(k*d+b)*hw : (k*d+b+1)*hw] {
						s += float64(x)
					}
					row[b*cols+c] = float32(s / float64(hw))
				}
			}
		}
	}
}

// poolInto averages chip k of the feature map fm (N x D x h x w) over h and
// w exactly as Pool does, into v (D values).
func poolInto(v []float32, fm []float32, shape [4]int64, k int) {
	d, hw := int(shape[1]), int(shape[2]*shape[3])
	for i := range d {
		var s float64
		for _, x := range fm[(k*d+i)*hw : (k*d+i+1)*hw] {
			s += float64(x)
		}
		v[i] = float32(s / float64(hw))
	}
}
