package stages

import (
	"context"
	"testing"
	"time"
)

// TestMatPoolLimit: with a Limit, Wait hands out at most Limit Mats, blocks
// until one comes back, and gives up when its context ends.
func TestMatPoolLimit(t *testing.T) {
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
