package pipeline

import (
	"context"
	"errors"
	"io"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// item counts its releases so tests can prove each is released exactly once.
type item struct {
	seq      int
	released atomic.Int32
	trail    []string // steps that saw it, in order
}

func (it *item) Release() { it.released.Add(1) }

// counter is a source of n items that records every item it made.
type counter struct {
	n     int
	mu    sync.Mutex
	made  []*item
	delay time.Duration
}

func (c *counter) Next(ctx context.Context) (*item, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.made) == c.n {
		return nil, io.EOF
	}
	time.Sleep(c.delay)
	it := &item{seq: len(c.made)}
	c.made = append(c.made, it)
	return it, nil
}

func (c *counter) checkReleased(t *testing.T) {
	t.Helper()
	for _, it := range c.made {
		if n := it.released.Load(); n != 1 {
			t.Fatalf("item %d released %d times, want exactly once", it.seq, n)
		}
	}
}

// collect is a last step that records the order items reach it.
type collect struct {
	mu  sync.Mutex
	got []int
}

func (c *collect) Process(_ context.Context, it *item) error {
	c.mu.Lock()
	c.got = append(c.got, it.seq)
	c.mu.Unlock()
	return nil
}

func mark(name string) Stage[*item] {
	return StageFunc[*item](func(_ context.Context, it *item) error {
		it.trail = append(it.trail, name)
		return nil
	})
}

// sleepy sleeps a random time per item, to scramble completion order.
func sleepy(seed int64, max time.Duration) Stage[*item] {
	r := rand.New(rand.NewSource(seed))
	var mu sync.Mutex
	return StageFunc[*item](func(ctx context.Context, it *item) error {
		mu.Lock()
		d := time.Duration(r.Int63n(int64(max)))
		mu.Unlock()
		time.Sleep(d)
		return nil
	})
}

func workers(n int, mk func(i int) Stage[*item]) []Stage[*item] {
	ws := make([]Stage[*item], n)
	for i := range ws {
		ws[i] = mk(i)
	}
	return ws
}

func run(t *testing.T, ctx context.Context, src Source[*item], steps []Step[*item], opt Options) (*Stats, error) {
	t.Helper()
	type result struct {
		st  *Stats
		err error
	}
	ch := make(chan result, 1)
	go func() { st, err := Run(ctx, src, steps, opt); ch <- result{st, err} }()
	select {
	case r := <-ch:
		return r.st, r.err
	case <-time.After(20 * time.Second):
		t.Fatal("pipeline did not finish: deadlock")
		return nil, nil
	}
}

func TestOrderedUnderRandomDelays(t *testing.T) {
	tests := []struct {
		name    string
		items   int
		workers int
		window  int
	}{
		{"two workers", 200, 2, 0},
		{"eight workers", 300, 8, 0},
		{"window of one per worker", 100, 4, 4},
		{"more workers than items", 3, 8, 0},
		{"no items", 0, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &counter{n: tt.items}
			sink := &collect{}
			steps := []Step[*item]{
				Serial("first", mark("first")),
				{Name: "pool", Workers: workers(tt.workers, func(i int) Stage[*item] { return sleepy(int64(i), 2*time.Millisecond) })},
				Serial("sink", sink),
			}
			st, err := run(t, context.Background(), src, steps, Options{Window: tt.window})
			if err != nil {
				t.Fatal(err)
			}
			if len(sink.got) != tt.items {
				t.Fatalf("got %d items, want %d", len(sink.got), tt.items)
			}
			for i, seq := range sink.got {
				if seq != i {
					t.Fatalf("position %d holds item %d: order lost (%v)", i, seq, sink.got[:min(len(sink.got), 20)])
				}
			}
			src.checkReleased(t)
			if st.Steps[2].Items != tt.items || st.Steps[2].Workers != tt.workers {
				t.Errorf("pool stats: %+v", st.Steps[2])
			}
		})
	}
}

func TestWindowBoundsItemsInFlight(t *testing.T) {
	const window = 6
	var inside, maxInside atomic.Int32
	enter := mark("enter")
	enterCount := StageFunc[*item](func(ctx context.Context, it *item) error {
		n := inside.Add(1)
		for {
			m := maxInside.Load()
			if n <= m || maxInside.CompareAndSwap(m, n) {
				break
			}
		}
		return enter.Process(ctx, it)
	})
	leave := StageFunc[*item](func(ctx context.Context, it *item) error { inside.Add(-1); return nil })
	src := &counter{n: 300}
	steps := []Step[*item]{
		Serial("enter", enterCount),
		{Name: "pool", Workers: workers(3, func(i int) Stage[*item] { return sleepy(int64(i), time.Millisecond) })},
		Serial("leave", leave),
	}
	if _, err := run(t, context.Background(), src, steps, Options{Queue: 1, Window: window}); err != nil {
		t.Fatal(err)
	}
	// The window inside the pool, one queue slot on each side, and four items
	// in hand: enter's pending send, the dispatcher's item waiting for a
	// token, the collector's pending send and the item leave has received.
	if m, bound := maxInside.Load(), int32(window+2+4); m > bound {
		t.Errorf("%d items in flight, want at most %d", m, bound)
	}
	src.checkReleased(t)
}

func TestErrorStopsRunAndReleasesEverything(t *testing.T) {
	boom := errors.New("boom")
	failAt := func(n int) Stage[*item] {
		return StageFunc[*item](func(_ context.Context, it *item) error {
			if it.seq == n {
				return boom
			}
			return nil
		})
	}
	tests := []struct {
		name  string
		steps []Step[*item]
	}{
		{"serial step fails", []Step[*item]{Serial("a", mark("a")), Serial("fail", failAt(40)), Serial("sink", &collect{})}},
		{"pool worker fails", []Step[*item]{{Name: "pool", Workers: workers(3, func(i int) Stage[*item] { return failAt(40) })}, Serial("sink", &collect{})}},
		{"every worker fails", []Step[*item]{{Name: "pool", Workers: workers(2, func(i int) Stage[*item] {
			return StageFunc[*item](func(context.Context, *item) error { return boom })
		})}}},
		{"last step fails", []Step[*item]{Serial("a", mark("a")), Serial("fail", failAt(10))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &counter{n: 100000}
			_, err := run(t, context.Background(), src, tt.steps, Options{})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want boom", err)
			}
			if len(src.made) > 1000 {
				t.Errorf("source made %d items after the failure: the run did not stop", len(src.made))
			}
			src.checkReleased(t)
		})
	}
}

func TestSourceErrorAndCancel(t *testing.T) {
	t.Run("source error", func(t *testing.T) {
		bad := errors.New("bad frame")
		n := 0
		src := SourceFunc[*item](func(ctx context.Context) (*item, error) {
			n++
			if n > 5 {
				return nil, bad
			}
			return &item{seq: n}, nil
		})
		_, err := run(t, context.Background(), src, []Step[*item]{Serial("sink", &collect{})}, Options{})
		if !errors.Is(err, bad) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("cancel mid-run", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		src := &counter{n: 1 << 30, delay: 100 * time.Microsecond}
		go func() { time.Sleep(50 * time.Millisecond); cancel() }()
		steps := []Step[*item]{
			{Name: "pool", Workers: workers(2, func(i int) Stage[*item] { return sleepy(int64(i), time.Millisecond) })},
			Serial("sink", &collect{}),
		}
		start := time.Now()
		_, err := run(t, ctx, src, steps, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("stopping took %v", d)
		}
		src.checkReleased(t)
	})
}

func TestStepsSeeItemsInOrder(t *testing.T) {
	src := &counter{n: 10}
	sink := &collect{}
	steps := []Step[*item]{Serial("a", mark("a")), Serial("b", mark("b")), Serial("sink", sink)}
	st, err := run(t, context.Background(), src, steps, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range src.made {
		if len(it.trail) != 2 || it.trail[0] != "a" || it.trail[1] != "b" {
			t.Fatalf("item %d trail %v", it.seq, it.trail)
		}
	}
	if st.Steps[0].Items != 10 || st.Steps[3].Items != 10 {
		t.Errorf("stats %+v", st.Steps)
	}
}

// delay holds up to n items and lets the oldest go when a newer one arrives.
type delay struct {
	n    int
	held []*item
}

func (d *delay) Push(_ context.Context, it *item) ([]*item, error) {
	d.held = append(d.held, it)
	if len(d.held) <= d.n {
		return nil, nil
	}
	out := d.held[:1:1]
	d.held = d.held[1:]
	return out, nil
}

func (d *delay) Flush(context.Context) ([]*item, error) {
	out := d.held
	d.held = nil
	return out, nil
}

func TestHolder(t *testing.T) {
	t.Run("keeps order and passes everything at the end", func(t *testing.T) {
		src := &counter{n: 50}
		sink := &collect{}
		if _, err := run(t, context.Background(), src, []Step[*item]{Hold[*item]("look-ahead", &delay{n: 7}), Serial("sink", sink)}, Options{}); err != nil {
			t.Fatal(err)
		}
		if len(sink.got) != 50 {
			t.Fatalf("got %d items", len(sink.got))
		}
		for i, seq := range sink.got {
			if seq != i {
				t.Fatalf("order lost at %d", i)
			}
		}
		src.checkReleased(t)
	})
	t.Run("releases what it holds when the run fails", func(t *testing.T) {
		boom := errors.New("boom")
		src := &counter{n: 100}
		fail := StageFunc[*item](func(_ context.Context, it *item) error {
			if it.seq == 20 {
				return boom
			}
			return nil
		})
		_, err := run(t, context.Background(), src, []Step[*item]{Hold[*item]("look-ahead", &delay{n: 7}), Serial("fail", fail)}, Options{})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		src.checkReleased(t)
	})
}
