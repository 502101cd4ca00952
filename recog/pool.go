package recog

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Pool lends engines to detector workers. It starts with one engine and
// loads another, up to Max, only while detection is the bottleneck: when a
// caller has to wait for an engine and the engines were busy for at least
// Growth.At of the last Growth.Window. A HOG engine costs 0.45-0.8 s of CPU
// to load (dlib decompresses its HOG model each time) and 100 MB; on a short
// clip that CPU is better spent on the frames, while a long clip with many
// keyframes wants every core detecting. So growth is rent-or-buy (the ski
// rental rule): workers keep waiting for the engines there are until they
// have waited, in all, as long as the last load took; only then is another
// engine bought. Waiting stays within twice the best choice made knowing the
// future, and a short run never pays for an engine it cannot use.
//
// An engine that loads in under cheapLoad (a CNN engine: 10-20 ms, as its
// engines share the dlib models) is bought as soon as a caller has waited
// that long, with no busy-fraction test: the start of a run, when the first
// keyframes wait for dlib's models, is when a second engine helps most.
//
// Pool is safe for concurrent use.
type Pool struct {
	load   func() (Engine, error)
	max    int
	growth Growth // fixed at NewPool: the loader goroutine reads it

	mu       sync.Mutex
	free     []Engine
	size     int // loaded engines
	loading  bool
	closed   bool
	ready    chan struct{} // closed and replaced whenever an engine is freed or added
	busy     []interval    // recent busy spans, for the growth decision
	inUse    map[Engine]time.Time
	waited   time.Duration // callers' time waiting for a busy engine since the last load
	loadCost time.Duration // how long the last load took
	loadErr  error
	wg       sync.WaitGroup
}

type interval struct{ from, to time.Time }

const cheapLoad = 50 * time.Millisecond

// Growth tunes when a Pool adds an engine; zero fields take the defaults.
type Growth struct {
	At     float64       // busy fraction that justifies another engine (0.75)
	Window time.Duration // how far back the busy fraction looks (2 s)
	// OnLoad, if set, is called after each engine is loaded, with the new
	// size and how long the load took.
	OnLoad func(size int, took time.Duration)
}

// NewPool allows up to limit engines made by load and starts
// loading the first one in the background: a run can decode its first
// frames meanwhile (the load takes about 0.45 s of one core). Check the
// models (package models) first; a load that still fails is returned by
// Get.
func NewPool(load func() (Engine, error), limit int, g Growth) *Pool {
	if g.At <= 0 {
		g.At = 0.75
	}
	if g.Window <= 0 {
		g.Window = 2 * time.Second
	}
	p := &Pool{load: load, max: max(1, limit), growth: g,
		ready: make(chan struct{}), inUse: map[Engine]time.Time{}, loading: true}
	go p.grow()
	return p
}

// Get returns a free engine, waiting for one if all are busy. Give it back
// with Put.
func (p *Pool) Get(ctx context.Context) (Engine, error) {
	var waitingSince time.Time // zero until this caller waits for a busy engine
	for {
		p.mu.Lock()
		now := time.Now()
		if !waitingSince.IsZero() {
			p.waited += now.Sub(waitingSince)
			waitingSince = now
		}
		if p.closed {
			p.mu.Unlock()
			return nil, errors.New("recog: pool closed")
		}
		if p.loadErr != nil && p.size == 0 {
			err := p.loadErr
			p.mu.Unlock()
			return nil, err
		}
		if n := len(p.free); n > 0 {
			e := p.free[n-1]
			p.free = p.free[:n-1]
			p.inUse[e] = now
			p.mu.Unlock()
			return e, nil
		}
		if !p.loading && p.size > 0 && waitingSince.IsZero() {
			waitingSince = now // all engines busy: from now on this caller rents
		}
		if !p.loading && p.size < p.max && p.loadErr == nil && p.waited >= p.loadCost && (p.loadCost < cheapLoad || p.utilisation(now) >= p.growth.At) {
			p.loading = true
			go p.grow()
		}
		ready := p.ready
		// A caller that may yet buy an engine looks again once it has
		// waited as long as a load takes, freed engine or not.
		var recheck *time.Timer
		if !waitingSince.IsZero() && !p.loading && p.size < p.max && p.loadErr == nil && p.waited < p.loadCost {
			recheck = time.NewTimer(p.loadCost - p.waited + time.Millisecond)
		}
		p.mu.Unlock()
		if err := p.wait(ctx, ready, recheck); err != nil {
			return nil, err
		}
	}
}

// wait blocks until ready is closed, the timer (if any) fires, or ctx ends.
func (p *Pool) wait(ctx context.Context, ready <-chan struct{}, recheck *time.Timer) error {
	var fired <-chan time.Time
	if recheck != nil {
		defer recheck.Stop()
		fired = recheck.C
	}
	select {
	case <-ready:
	case <-fired:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Ready waits until the first engine is loaded (or failed to load), with
// whatever it loads in the background (a CNN engine's dlib models): a live
// source starts its clock only when every model is there.
func (p *Pool) Ready(ctx context.Context) error {
	e, err := p.Get(ctx)
	if err != nil {
		return err
	}
	defer p.Put(e)
	return e.Warm(ctx)
}

// Put gives an engine back.
func (p *Pool) Put(e Engine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.busy = append(p.busy, interval{p.inUse[e], now})
	delete(p.inUse, e)
	p.free = append(p.free, e)
	p.signal()
}

// Max is the most engines the pool will load.
func (p *Pool) Max() int { return p.max }

// Size is the number of engines loaded.
func (p *Pool) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size
}

func (p *Pool) grow() {
	start := time.Now()
	e, err := p.load()
	p.mu.Lock()
	p.loading = false
	p.loadCost = time.Since(start)
	p.waited = 0
	if err != nil || p.closed {
		p.loadErr = err
		p.signal()
		p.mu.Unlock()
		if e != nil {
			e.Close()
		}
		return
	}
	p.free = append(p.free, e)
	p.size++
	size, took := p.size, p.loadCost
	p.signal()
	p.mu.Unlock()
	if p.growth.OnLoad != nil {
		p.growth.OnLoad(size, took)
	}
}

// signal wakes every waiter; the caller holds mu.
func (p *Pool) signal() {
	close(p.ready)
	p.ready = make(chan struct{})
}

// utilisation is the busy fraction of the loaded engines over the last
// Window; time before the pool existed counts as idle, so the burst of
// keyframes at the start of a run does not look like a bottleneck.
// The caller holds mu.
func (p *Pool) utilisation(now time.Time) float64 {
	from := now.Add(-p.growth.Window)
	kept := p.busy[:0]
	var busy time.Duration
	for _, iv := range p.busy {
		if iv.to.Before(from) {
			continue
		}
		kept = append(kept, iv)
		busy += iv.to.Sub(later(iv.from, from))
	}
	p.busy = kept
	for _, since := range p.inUse {
		busy += now.Sub(later(since, from))
	}
	return busy.Seconds() / (p.growth.Window.Seconds() * float64(p.size))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Close frees every engine; engines must all have been given back. It does
// not wait for a load in progress (up to 0.9 s: Ctrl-C must be quicker):
// that engine is freed by its loader as soon as it is made.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.signal()
	for _, e := range p.free {
		e.Close()
	}
	p.free = nil
}
