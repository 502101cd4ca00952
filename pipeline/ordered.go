package pipeline

import (
	"context"
	"sync"
	"time"
)

// job is an item with its arrival index, so the collector can restore order.
type job[T Item] struct {
	idx  uint64
	item T
}

// runParallel fans items out to the workers through one shared queue (an idle
// worker takes the next item, so one slow item does not hold up the others)
// and emits them in arrival order through a reorder buffer. A window of
// tokens bounds how many items are inside the step at once; every channel
// inside is as large as the window, so no send inside the step ever blocks.
func runParallel[T Item](ctx context.Context, workers []Stage[T], window int, in <-chan T, out chan<- T, st *StepStats) error {
	if out != nil {
		defer close(out)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	tokens := make(chan struct{}, window)
	jobs := make(chan job[T], window)
	done := make(chan job[T], window)

	// Dispatcher: number the items and queue them while the window has room.
	go func() {
		defer close(jobs)
		for idx := uint64(0); ; idx++ {
			item, ok, err := recv(ctx, in, st)
			if err != nil || !ok {
				return
			}
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				item.Release()
				return
			}
			jobs <- job[T]{idx, item}
		}
	}()

	// Workers: after a failure they keep draining the queue, releasing.
	var mu sync.Mutex // guards st.Busy and st.Items
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					j.item.Release()
					continue
				}
				t0 := time.Now()
				err := w.Process(ctx, j.item)
				mu.Lock()
				st.Busy += time.Since(t0)
				st.Items++
				mu.Unlock()
				if err != nil {
					j.item.Release()
					cancel(err)
					continue
				}
				done <- j
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// Collector: emit in arrival order. It runs until every worker is done,
	// so nothing is left in done when it returns.
	pending := make(map[uint64]T, window)
	var next uint64
	for j := range done {
		if ctx.Err() != nil {
			j.item.Release()
			continue
		}
		pending[j.idx] = j.item
		for ctx.Err() == nil {
			item, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-tokens
			if out == nil {
				item.Release()
				continue
			}
			if err := send(ctx, out, item, st); err != nil {
				cancel(err)
			}
		}
	}
	for _, item := range pending {
		item.Release()
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}
