package pipeline

import (
	"context"
	"sync"
)

// Mailbox is a leaky one-item hand-off for live sources: Put never blocks;
// it replaces an item not yet taken, releasing it and counting a drop, so a
// slow consumer (the detector) always gets the newest item and never holds
// up the producer (the camera). Safe for concurrent use.
type Mailbox[T Item] struct {
	mu      sync.Mutex
	item    T
	full    bool
	closed  bool
	wake    chan struct{}
	dropped int
}

// NewMailbox makes an empty mailbox.
func NewMailbox[T Item]() *Mailbox[T] {
	return &Mailbox[T]{wake: make(chan struct{}, 1)}
}

// Put leaves item for the consumer, dropping an older one still waiting.
// After Close it releases item at once.
func (m *Mailbox[T]) Put(item T) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		item.Release()
		return
	}
	old, hadOld := m.item, m.full
	m.item, m.full = item, true
	if hadOld {
		m.dropped++
	}
	m.mu.Unlock()
	if hadOld {
		old.Release()
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Take waits for an item. ok is false once the mailbox is closed and empty,
// or when ctx is done.
func (m *Mailbox[T]) Take(ctx context.Context) (item T, ok bool) {
	for {
		m.mu.Lock()
		if m.full {
			item, m.full = m.item, false
			var zero T
			m.item = zero
			m.mu.Unlock()
			return item, true
		}
		closed := m.closed
		m.mu.Unlock()
		if closed {
			return item, false
		}
		select {
		case <-m.wake:
		case <-ctx.Done():
			return item, false
		}
	}
}

// Dropped is how many items were replaced before being taken.
func (m *Mailbox[T]) Dropped() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}

// Close releases a waiting item and makes Take return false.
func (m *Mailbox[T]) Close() {
	m.mu.Lock()
	m.closed = true
	old, had := m.item, m.full
	var zero T
	m.item, m.full = zero, false
	m.mu.Unlock()
	if had {
		old.Release()
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}
