package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/sync/errgroup"
)

// Item is what flows through a pipeline. Release frees what the item holds;
// the runner calls it exactly once per item.
type Item interface{ Release() }

// Source produces the items in order. Next blocks until an item is ready and
// returns io.EOF after the last one.
type Source[T Item] interface {
	Next(ctx context.Context) (T, error)
}

// Stage handles one item. It may change the item but must not keep it after
// returning. An error stops the whole run; a failure that should not stop the
// run belongs on the item instead.
type Stage[T Item] interface {
	Process(ctx context.Context, item T) error
}

// StageFunc adapts a function to a Stage.
type StageFunc[T Item] func(ctx context.Context, item T) error

// Process calls f.
func (f StageFunc[T]) Process(ctx context.Context, item T) error { return f(ctx, item) }

// SourceFunc adapts a function to a Source.
type SourceFunc[T Item] func(ctx context.Context) (T, error)

// Next calls f.
func (f SourceFunc[T]) Next(ctx context.Context) (T, error) { return f(ctx) }

// Holder is a stage that may keep items for a while before passing them on,
// in order: a look-ahead buffer. Push takes ownership of item and returns
// the items that are ready to go on, oldest first (possibly none). Flush
// returns every item still held: at the end of input, to pass them on; when
// the run stops, with ctx cancelled, for the runner to release. A Holder
// bounds how many items it keeps.
type Holder[T Item] interface {
	Push(ctx context.Context, item T) ([]T, error)
	Flush(ctx context.Context) ([]T, error)
}

// Step is one named stage: one worker, several workers in parallel (one item
// each, order kept), or a Holder. Each worker is its own Stage value, so a
// worker may hold state that is not safe to share (a scratch Mat; detector
// engines are lent by a pool instead, see stages.Detect).
type Step[T Item] struct {
	Name    string
	Workers []Stage[T]
	Holder  Holder[T]
}

// Serial is a step with one worker.
func Serial[T Item](name string, s Stage[T]) Step[T] {
	return Step[T]{Name: name, Workers: []Stage[T]{s}}
}

// Hold is a step that holds items.
func Hold[T Item](name string, h Holder[T]) Step[T] {
	return Step[T]{Name: name, Holder: h}
}

// Options tune the buffering. Zero values take the defaults.
type Options struct {
	// Queue is the capacity of the channel in front of each step (default 2).
	Queue int
	// Window bounds the items inside a parallel step: being processed, queued
	// for a worker or waiting to be emitted in order (default 4 per worker).
	Window int
}

// Run pulls items from src and pushes each one through the steps in order.
// It returns when the source is exhausted and every item has passed the last
// step, or on the first error. The stats are complete when Run returns.
func Run[T Item](ctx context.Context, src Source[T], steps []Step[T], opt Options) (*Stats, error) {
	if len(steps) == 0 {
		return nil, errors.New("pipeline: no steps")
	}
	for _, step := range steps {
		if (len(step.Workers) == 0) == (step.Holder == nil) {
			return nil, fmt.Errorf("pipeline: step %q needs workers or a holder", step.Name)
		}
	}
	if opt.Queue <= 0 {
		opt.Queue = 2
	}
	stats := newStats(steps)
	g, ctx := errgroup.WithContext(ctx)
	start := time.Now()

	first := make(chan T, opt.Queue)
	chans := []chan T{first}
	g.Go(func() error { return runSource(ctx, src, first, &stats.Steps[0]) })
	ch := first
	for i, step := range steps {
		last := i == len(steps)-1
		in := ch
		var out chan T
		if !last {
			out = make(chan T, opt.Queue)
			ch = out
			chans = append(chans, out)
		}
		st := &stats.Steps[i+1]
		switch {
		case step.Holder != nil:
			g.Go(func() error { return runHolder(ctx, step.Holder, in, out, st) })
		case len(step.Workers) == 1:
			g.Go(func() error { return runSerial(ctx, step.Workers[0], in, out, st) })
		default:
			window := opt.Window
			if window <= 0 {
				window = 4 * len(step.Workers)
			}
			g.Go(func() error { return runParallel(ctx, step.Workers, window, in, out, st) })
		}
	}
	err := g.Wait()
	// Every goroutine has stopped and closed its output: release what a
	// stopped run left in the queues.
	for _, c := range chans {
		drain(c)
	}
	stats.Wall = time.Since(start)
	return stats, err
}

func runSource[T Item](ctx context.Context, src Source[T], out chan<- T, st *StepStats) error {
	defer close(out)
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t0 := time.Now()
		item, err := src.Next(ctx)
		st.Busy += time.Since(t0)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		st.Items++
		if err := send(ctx, out, item, st); err != nil {
			return err
		}
	}
}

// runSerial runs one worker. out is nil for the last step, which releases
// every item it has processed.
func runSerial[T Item](ctx context.Context, s Stage[T], in <-chan T, out chan<- T, st *StepStats) (err error) {
	if out != nil {
		defer close(out)
	}
	for {
		item, ok, werr := recv(ctx, in, st)
		if werr != nil {
			return werr
		}
		if !ok {
			return nil
		}
		t0 := time.Now()
		err := s.Process(ctx, item)
		st.Busy += time.Since(t0)
		st.Items++
		if err != nil {
			item.Release()
			return err
		}
		if out == nil {
			item.Release()
			continue
		}
		if err := send(ctx, out, item, st); err != nil {
			return err
		}
	}
}

// runHolder feeds a Holder and passes on what it releases, in order.
func runHolder[T Item](ctx context.Context, h Holder[T], in <-chan T, out chan<- T, st *StepStats) (err error) {
	if out != nil {
		defer close(out)
	}
	emit := func(items []T) error {
		for i, item := range items {
			if out == nil {
				item.Release()
				continue
			}
			if err := send(ctx, out, item, st); err != nil {
				releaseAll(items[i+1:])
				return err
			}
		}
		return nil
	}
	defer func() {
		if err != nil { // the run stopped: release what is still held
			held, _ := h.Flush(ctx)
			releaseAll(held)
		}
	}()
	for {
		item, ok, err := recv(ctx, in, st)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		t0 := time.Now()
		ready, err := h.Push(ctx, item)
		st.Busy += time.Since(t0)
		st.Items++
		if err != nil {
			releaseAll(ready)
			return err
		}
		if err := emit(ready); err != nil {
			return err
		}
	}
	t0 := time.Now()
	rest, err := h.Flush(ctx)
	st.Busy += time.Since(t0)
	if err != nil {
		releaseAll(rest)
		return err
	}
	return emit(rest)
}

func releaseAll[T Item](items []T) {
	for _, item := range items {
		item.Release()
	}
}

// send hands item to out, or releases it if the run stops first.
func send[T Item](ctx context.Context, out chan<- T, item T, st *StepStats) error {
	select {
	case out <- item:
		return nil
	default:
	}
	t0 := time.Now()
	defer func() { st.WaitOut += time.Since(t0) }()
	select {
	case out <- item:
		return nil
	case <-ctx.Done():
		item.Release()
		return ctx.Err()
	}
}

// recv takes the next item from in; ok is false at the end of input.
func recv[T Item](ctx context.Context, in <-chan T, st *StepStats) (item T, ok bool, err error) {
	st.sampleQueue(len(in))
	select {
	case item, ok = <-in:
		return item, ok, nil
	default:
	}
	t0 := time.Now()
	defer func() { st.WaitIn += time.Since(t0) }()
	select {
	case item, ok = <-in:
		return item, ok, nil
	case <-ctx.Done():
		return item, false, ctx.Err()
	}
}

// drain releases whatever is still queued in a closed channel.
func drain[T Item](in <-chan T) {
	for item := range in {
		item.Release()
	}
}
