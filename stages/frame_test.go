package stages

import (
	"context"
	"errors"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// TestMatPoolLimit: with a Limit, Wait hands out at most Limit Mats, blocks
// until one comes back, and gives up when its context ends.
func TestMatPoolLimit(t *testing.T) {
	noMatsLeft(t)
	p := &MatPool{Limit: 2}
	defer p.Close()
	ctx := context.Background()
	a, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Wait(ctx)
	got := make(chan error, 1)
	go func() {
		m, err := p.Wait(ctx)
		if err == nil {
			defer p.Put(m)
		}
		got <- err
	}()
	select {
	case <-got:
		t.Fatal("a third Mat was handed out over the limit of 2")
	case <-time.After(50 * time.Millisecond):
	}
	p.Put(a)
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second): // only catches a hang
		t.Fatal("Wait did not wake when a Mat came back")
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	c, _ := p.Wait(ctx) // two out again
	if _, err := p.Wait(cctx); err == nil {
		t.Error("Wait over the limit returned without the context ending")
	}
	p.Put(b)
	p.Put(c)
	if n := p.Out(); n != 0 {
		t.Errorf("%d Mats out after all came back", n)
	}
}

// TestMatPoolWaitCancelled: a Wait blocked on a full pool returns the
// context's error when it is cancelled, and counts nothing out.
func TestMatPoolWaitCancelled(t *testing.T) {
	noMatsLeft(t)
	p := &MatPool{Limit: 1}
	defer p.Close()
	a, err := p.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		m, err := p.Wait(ctx)
		if err == nil {
			p.Put(m)
		}
		got <- err
	}()
	cancel()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait on a full pool, cancelled: %v, want %v", err, context.Canceled)
		}
	case <-time.After(10 * time.Second): // only catches a hang
		t.Fatal("a cancelled Wait did not return")
	}
	if n := p.Out(); n != 1 {
		t.Errorf("%d out after a cancelled Wait, want 1", n)
	}
	p.Put(a)
}

// TestMatPoolRecycles: Out counts Mats handed out and not put back; a Mat
// put back is the next one handed out; one put back after Close is closed
// (the matprofile count proves it), not kept.
func TestMatPoolRecycles(t *testing.T) {
	noMatsLeft(t)
	var p MatPool
	a, b := p.Get(), p.Get()
	if n := p.Out(); n != 2 {
		t.Fatalf("Out %d after two Gets", n)
	}
	p.Put(a)
	if n := p.Out(); n != 1 {
		t.Fatalf("Out %d after a Put", n)
	}
	c := p.Get()
	if c.Ptr() != a.Ptr() {
		t.Error("Get made a new Mat while one was free")
	}
	p.Put(c)
	p.Close()
	p.Put(b) // closed here, after the pool's Close
	if n := p.Out(); n != 0 {
		t.Errorf("Out %d after every Mat came back", n)
	}
}

// TestFrameReleaseOnce: Release gives the frame's Mat back to its pool
// once, however often it is called, and frees its JPEG; a frame without a
// pool closes its Mat.
func TestFrameReleaseOnce(t *testing.T) {
	noMatsLeft(t)
	p := &MatPool{Limit: 1}
	defer p.Close()
	m, err := p.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := NewFrame(0, 0, m, p)
	f.Release()
	f.Release()
	if n := p.Out(); n != 0 {
		t.Fatalf("Out %d after Release (twice), want 0", n)
	}
	// The pool's limit still holds: one Mat out, a second Wait blocks.
	m, err = p.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Ptr() == nil {
		t.Fatal("the pool handed out an empty Mat")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if extra, err := p.Wait(ctx); err == nil {
		p.Put(extra)
		t.Error("two Mats out of a pool limited to 1 after a double Release")
	}
	p.Put(m)

	// Without a pool: the Mat is closed (matprofile counts it).
	g := NewFrame(1, 0, gocv.NewMat(), nil)
	g.Release()
	g.Release()
}
