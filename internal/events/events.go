// Package events delivers events outside locks, one at a time and in order.
package events

import "sync"

// Queue holds events until they are delivered. The zero value is ready; a
// Queue must not be copied after first use.
//
// Producers [Queue.Push] an event while they hold their own lock, so events
// keep the order of the changes that made them, and call [Queue.Drain] after
// they release it. Only one goroutine delivers at a time: a goroutine that
// finds another one delivering leaves its events to it. So a handler is never
// called concurrently with itself, never under a producer's lock, and may
// call back into the producer (which may push more events) without deadlock.
type Queue[E any] struct {
	mu      sync.Mutex // guards pending, running
	pending []E
	running bool
}

// Push queues e. It takes only the Queue's own lock, so it may be called with
// the producer's lock held (lock order: the producer's, then the Queue's).
func (q *Queue[E]) Push(e E) {
	q.mu.Lock()
	q.pending = append(q.pending, e)
	q.mu.Unlock()
}

// Drain calls handle for each queued event, oldest first, with no lock held,
// unless another goroutine is already draining. handle must not panic: run
// user code inside it through internal/hook. Should it panic all the same,
// the Queue stays usable and the events behind it wait for the next Drain.
func (q *Queue[E]) Drain(handle func(E)) {
	q.mu.Lock()
	if q.running {
		q.mu.Unlock()
		return
	}
	q.running = true
	returned := false
	defer func() {
		// handle panicked, so the lock is not held here. Only this local
		// says so: once the lock is released, running may belong to
		// another drainer.
		if !returned {
			q.mu.Lock()
			q.running = false
			q.mu.Unlock()
		}
	}()
	for len(q.pending) > 0 {
		e := q.pending[0]
		var zero E
		q.pending[0] = zero
		q.pending = q.pending[1:]
		q.mu.Unlock()
		handle(e)
		q.mu.Lock()
	}
	returned = true
	q.pending = nil
	q.running = false
	q.mu.Unlock()
}
