package recog

import (
	"context"
	"image"
	"sync"
	"testing"
	"time"

	"github.com/vidtag/vidtag/internal/testenv"
)

// hold borrows an engine for d, as a keyframe detection would.
func hold(t *testing.T, p *Pool, d time.Duration) {
	e, err := p.Get(context.Background())
	if err != nil {
		t.Error(err)
		return
	}
	time.Sleep(d)
	p.Put(e)
}

func TestPoolGrowsOnlyWhenDetectionIsTheBottleneck(t *testing.T) {
	dir := testenv.Models(t)
	t.Run("light load stays at one engine", func(t *testing.T) {
		p := NewPool(hogLoader(dir), 2, Growth{Window: 500 * time.Millisecond})
		defer p.Close()
		hold(t, p, 0) // wait for the first engine
		// Two keyframes overlap once (a start-up burst), then the engine
		// is mostly idle.
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); hold(t, p, 100*time.Millisecond) }()
		}
		wg.Wait()
		for i := 0; i < 5; i++ {
			hold(t, p, 20*time.Millisecond)
			time.Sleep(80 * time.Millisecond)
		}
		if n := p.Size(); n != 1 {
			t.Errorf("%d engines, want 1: the burst alone must not add one", n)
		}
	})
	t.Run("waiting less than a load costs buys no engine", func(t *testing.T) {
		took := make(chan time.Duration, 1)
		p := NewPool(hogLoader(dir), 2, Growth{Window: 100 * time.Millisecond, OnLoad: func(_ int, d time.Duration) { took <- d }})
		defer p.Close()
		hold(t, p, 0)
		// Two workers on one engine: one of them is always waiting, so the
		// waiting adds up as fast as the clock, and the engine is 100% busy.
		end := time.Now().Add(<-took * 4 / 10)
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					hold(t, p, 20*time.Millisecond)
				}
			}()
		}
		wg.Wait()
		p.mu.Lock()
		bought := p.loading || p.size > 1
		p.mu.Unlock()
		if bought {
			t.Error("another engine was loaded after waiting 0.4x a load")
		}
	})
	t.Run("sustained contention adds engines up to Max", func(t *testing.T) {
		grown := make(chan int, 2)
		p := NewPool(hogLoader(dir), 2, Growth{Window: 300 * time.Millisecond, OnLoad: func(n int, _ time.Duration) {
			if n > 1 {
				grown <- n
			}
		}})
		defer p.Close()
		hold(t, p, 0)
		var wg sync.WaitGroup
		deadline := time.Now().Add(30 * time.Second) // ends as soon as the pool grows
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) && p.Size() < 2 {
					hold(t, p, 50*time.Millisecond)
				}
			}()
		}
		wg.Wait()
		if n := p.Size(); n != 2 {
			t.Fatalf("%d engines after 30 s of contention, want 2", n)
		}
		if n := <-grown; n != 2 {
			t.Errorf("OnLoad(%d)", n)
		}
		// Max is a hard cap.
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() { defer wg.Done(); hold(t, p, 400*time.Millisecond) }()
		}
		wg.Wait()
		if n := p.Size(); n != 2 {
			t.Errorf("%d engines, want the cap of 2", n)
		}
	})
	t.Run("a waiting Get honours cancellation", func(t *testing.T) {
		p := NewPool(hogLoader(dir), 1, Growth{})
		defer p.Close()
		e, _ := p.Get(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := p.Get(ctx); err == nil {
			t.Error("Get returned an engine that was in use")
		}
		p.Put(e)
	})
}

func TestPoolReportsALoadFailure(t *testing.T) {
	p := NewPool(hogLoader(t.TempDir()), 2, Growth{}) // no models here
	defer p.Close()
	if _, err := p.Get(context.Background()); err == nil {
		t.Fatal("Get succeeded without models")
	}
}

// Close must not wait for an engine being loaded (Ctrl-C stops within a
// second; a load takes up to 0.9 s); the loader frees it when done.
func TestPoolCloseDoesNotWaitForALoad(t *testing.T) {
	p := NewPool(hogLoader(testenv.Models(t)), 1, Growth{})
	p.Close()
	p.mu.Lock()
	loading := p.loading
	p.mu.Unlock()
	if !loading {
		t.Fatal("Close returned after the load finished")
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		p.mu.Lock()
		loading, free := p.loading, len(p.free)
		p.mu.Unlock()
		if !loading {
			if free != 0 || p.Size() != 0 {
				t.Errorf("a closed pool kept the engine it loaded (%d free)", free)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the load never finished")
		}
	}
}

// hogLoader loads go-face engines: the slowest to load, which the growth
// tests want.
func hogLoader(dir string) func() (Engine, error) {
	load, _ := Loader(dir, HOGName, "", 29)
	return load
}

// stubEngine is an engine that loads in no time (as a CNN engine nearly
// does) and detects nothing.
type stubEngine struct{}

func (stubEngine) Detect(Input) ([]Detection, error)                       { return nil, nil }
func (stubEngine) FacesInPhoto(string, int) ([]Detection, error)           { return nil, nil }
func (stubEngine) NeedsJPEG() bool                                         { return false }
func (stubEngine) Coverage(int, int, int, bool) func(image.Rectangle) bool { return nil }
func (stubEngine) Warm(context.Context) error                              { return nil }
func (stubEngine) Close()                                                  {}

// A cheap engine is bought as soon as a caller has waited as long as one
// takes to load, even though the first engine is still held (the first
// keyframe waiting for dlib's models) and no engine was ever given back:
// the waiting caller looks again by itself.
func TestPoolBuysACheapEngineWithoutWaitingForAPut(t *testing.T) {
	p := NewPool(func() (Engine, error) { return stubEngine{}, nil }, 2, Growth{Window: time.Hour})
	defer p.Close()
	ctx := context.Background()
	first, err := p.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		e, err := p.Get(ctx)
		if err == nil {
			p.Put(e)
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // a hang bound only
		t.Fatal("the second caller waited for the first engine instead of a second one")
	}
	if n := p.Size(); n != 2 {
		t.Errorf("pool has %d engines, want 2", n)
	}
	p.Put(first)
}
