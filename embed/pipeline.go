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
	err  error

	fm    []float32     // the encoder's feature map of the n chips
	shape [4]int64      // fm's shape
	infer time.Duration // time inside ONNX Runtime
	ready chan error    // inference finished (buffered, one value per batch)
}

// runChips embeds the chips of s and writes the output rows. A producer
// reads and normalises the scene one chip row at a time into fixed batch
// buffers, filling every batch across chip rows; a dispatcher hands the
// batches, in order, to o.Streams inference workers and to the caller's
// goroutine, which waits for each batch's feature map in that order, pools
// it into the output rows and writes the rows it completes. A batch holds
// chips of at most two chip rows (it is sent early only when a second row
// ends before it is full), so two output rows are buffered; Streams+2
// batch buffers (one being filled, one queued, one per inference call) are
// allocated once.
func runChips(ctx context.Context, e *Encoder, src chipRows, w *vectorWriter, cols, rows int, o Options, res *Result) error {
	C, cs, D := len(e.Manifest.Bands), o.Chip, e.Dim()
	per := C * cs * cs
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: the producer is out of the scene before it closes
	defer cancel()

	st := e.Manifest.OutputStride
	hw := (cs / st) * (cs / st)
	nbuf := o.Streams + 2
	free := make(chan *chipBatch, nbuf)
	for range nbuf {
		free <- &chipBatch{
			in:    make([]float32, o.Batch*per),
			pos:   make([]int, 0, o.Batch),
			fm:    make([]float32, o.Batch*D*hw),
			ready: make(chan error, 1),
		}
	}
	full := make(chan *chipBatch, nbuf)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(full)
		send := func(b *chipBatch) bool {
			select {
			case full <- b:
				return true
			case <-ctx.Done():
				return false
			}
		}
		get := func() *chipBatch {
			select {
			case b := <-free:
				b.n, b.pos, b.done = 0, b.pos[:0], 0
				return b
			case <-ctx.Done():
				return nil
			}
		}
		cur := get()
		if cur == nil {
			return
		}
		first := 0 // chip row of cur's first chip
		for r := range rows {
			if err := src.read(r * o.Stride); err != nil {
				send(&chipBatch{err: err})
				return
			}
			for c := range cols {
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
					if cur = get(); cur == nil {
						return
					}
				}
			}
			// Row r is complete.
			switch {
			case cur.n == 0:
				if !send(&chipBatch{done: r + 1}) {
					return
				}
			case first < r:
				cur.done = r + 1
				if !send(cur) {
					return
				}
				if cur = get(); cur == nil {
					return
				}
			}
		}
		if cur.n > 0 {
			cur.done = rows
			send(cur)
		}
	}()

	// The dispatcher keeps the order: every batch goes to ordered, and
	// those with chips first to a worker.
	work := make(chan *chipBatch)
	ordered := make(chan *chipBatch, nbuf)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ordered)
		defer close(work)
		for b := range full {
			if b.n > 0 && b.err == nil {
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
		if b.in != nil {
			free <- b // never blocks: nbuf buffers, nbuf places
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
