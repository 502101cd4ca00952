package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestMailboxKeepsTheNewest(t *testing.T) {
	m := NewMailbox[*item]()
	var made []*item
	put := func(seq int) {
		it := &item{seq: seq}
		made = append(made, it)
		m.Put(it)
	}
	put(0)
	put(1)
	put(2) // 0 and 1 are dropped unseen
	got, ok := m.Take(context.Background())
	if !ok || got.seq != 2 || m.Dropped() != 2 {
		t.Fatalf("took %v (ok %v), dropped %d; want the newest, 2 dropped", got.seq, ok, m.Dropped())
	}
	got.Release()
	put(3)
	m.Close() // releases 3
	if _, ok := m.Take(context.Background()); ok {
		t.Error("Take after Close returned an item")
	}
	put(4) // after Close: released at once
	for _, it := range made {
		if it.released.Load() != 1 {
			t.Errorf("item %d released %d times", it.seq, it.released.Load())
		}
	}
}

// TestMailboxNeverBlocksTheProducer: a producer at full speed and a slow
// consumer; the producer never waits and the consumer sees rising items.
func TestMailboxNeverBlocksTheProducer(t *testing.T) {
	m := NewMailbox[*item]()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var seen []int
	go func() {
		defer wg.Done()
		for {
			it, ok := m.Take(ctx)
			if !ok {
				return
			}
			seen = append(seen, it.seq)
			it.Release()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	start := time.Now()
	for i := 0; i < 5000; i++ {
		m.Put(&item{seq: i})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("5000 puts took %v: the producer waited", d)
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	wg.Wait()
	m.Close()
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("consumer saw %d after %d", seen[i], seen[i-1])
		}
	}
	if len(seen) == 0 || m.Dropped() == 0 || len(seen)+m.Dropped() > 5000 {
		t.Errorf("seen %d, dropped %d", len(seen), m.Dropped())
	}
}
