package bulkhead

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// The state word: calls in flight in the low 32 bits, calls queued in the
// high 32 bits.
const (
	queuedOne    = 1 << 32
	inFlightMask = queuedOne - 1

	minusOne    = ^uint64(0)             // adds -1 in flight
	minusQueued = ^uint64(queuedOne - 1) // adds -1 queued
)

// Bulkhead limits how many calls run at once, and how many may wait for a
// slot. Make one with [New] per dependency (or per pool of resources) and
// share it: it is safe for concurrent use and not generic, so pipelines of
// any result type can use it, through [Limit] or through
// [Bulkhead.Acquire] and [Bulkhead.Release]. The zero Bulkhead is not
// usable. See the package documentation for the rules.
type Bulkhead struct {
	// state packs the calls in flight and queued into one word, so that a
	// call takes a free slot with one compare-and-swap, and a call never
	// takes a slot while others are queued for one: with a call queued,
	// state is at least 1<<32, above every MaxConcurrent.
	state atomic.Uint64
	// admitted is next to state, on the same cache line, because a call
	// writes it right after state.
	admitted atomic.Uint64

	max          uint64 // MaxConcurrent
	maxQueue     uint64
	queueTimeout time.Duration
	name         string

	// One error value per kind of rejection, returned to every rejected
	// call, so that rejecting does not allocate.
	errFull, errTimedOut *Error

	rejected      atomic.Uint64
	queueTimeouts atomic.Uint64
	canceled      atomic.Uint64

	// mu guards head and tail, every waiter's links and granted, and the
	// queued half of state: it changes only with mu held.
	mu         sync.Mutex
	head, tail *waiter
}

// waiter is a call in the queue.
type waiter struct {
	prev, next *waiter
	granted    bool          // a slot was handed to it
	ready      chan struct{} // closed when granted
}

// New returns a Bulkhead with the limits of c, or the [*resilience.ConfigError]
// of [Config.Validate] when c is invalid.
func New(c Config) (*Bulkhead, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	e := Error{Name: c.Name, MaxConcurrent: c.MaxConcurrent, MaxQueue: c.MaxQueue, QueueTimeout: c.QueueTimeout}
	timedOut := e
	timedOut.QueueTimedOut = true
	return &Bulkhead{
		max:          uint64(c.MaxConcurrent),
		maxQueue:     uint64(c.MaxQueue),
		queueTimeout: c.QueueTimeout,
		name:         c.Name,
		errFull:      &e,
		errTimedOut:  &timedOut,
	}, nil
}

// Acquire takes a slot for a call, waiting in the queue if every slot is
// taken, and returns nil when it has one; the caller must then call
// [Bulkhead.Release] exactly once when the call has ended. Use it for
// calls that are no [resilience.Func], such as a response body that is
// read after the round trip returned; [Limit] does it for a Func.
//
// Acquire returns an [*Error] (errors.Is(err, [ErrFull])) at once when the
// queue is full, or after Config.QueueTimeout in the queue; ctx.Err() when
// ctx ends while the call is queued, or before it would queue (a free slot
// is taken without looking at ctx); and [resilience.ErrNilContext] for a
// nil ctx. With an error, no slot is held.
func (b *Bulkhead) Acquire(ctx context.Context) error {
	if s := b.state.Load(); s < b.max && ctx != nil && b.state.CompareAndSwap(s, s+1) {
		b.admitted.Add(1)
		return nil
	}
	return b.acquireSlow(ctx)
}

// acquireSlow is Acquire when the first try found no free slot.
func (b *Bulkhead) acquireSlow(ctx context.Context) error {
	if ctx == nil {
		return resilience.ErrNilContext
	}
	// Take a slot freed meanwhile, or reject, without the lock.
	for {
		s := b.state.Load()
		if s < b.max {
			if b.state.CompareAndSwap(s, s+1) {
				b.admitted.Add(1)
				return nil
			}
			continue
		}
		if s>>32 >= b.maxQueue {
			b.rejected.Add(1)
			return b.errFull
		}
		break
	}
	if err := ctx.Err(); err != nil {
		return err // not queued: it would leave at once
	}

	w, err := b.enqueue()
	if w == nil {
		return err
	}
	return b.wait(ctx, w)
}

// enqueue takes a slot freed meanwhile, or rejects the call when the queue
// is full, or else queues it: it returns (nil, nil) with a slot taken,
// (nil, err) when the call is rejected, and the call's waiter when queued.
func (b *Bulkhead) enqueue() (*waiter, error) {
	w := &waiter{ready: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		// Calls that take a slot or release one without the lock change
		// state between these loads; the compare-and-swap orders them.
		s := b.state.Load()
		if s < b.max {
			if b.state.CompareAndSwap(s, s+1) {
				b.admitted.Add(1)
				return nil, nil
			}
			continue
		}
		if s>>32 >= b.maxQueue {
			b.rejected.Add(1)
			return nil, b.errFull
		}
		if b.state.CompareAndSwap(s, s+queuedOne) {
			b.push(w)
			return w, nil
		}
	}
}

// wait waits for w to be handed a slot, for ctx to end or for the queue
// timeout, whichever comes first.
func (b *Bulkhead) wait(ctx context.Context, w *waiter) error {
	var timeout <-chan time.Time
	if b.queueTimeout > 0 {
		t := time.NewTimer(b.queueTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-w.ready:
		b.admitted.Add(1)
		return nil
	case <-ctx.Done():
		if !b.leave(w) {
			// Handed a slot as ctx ended: the caller is gone, so the
			// slot goes to the next in the queue.
			b.Release()
		}
		b.canceled.Add(1)
		return ctx.Err()
	case <-timeout:
		if !b.leave(w) {
			// Handed a slot as the timeout fired: take it.
			b.admitted.Add(1)
			return nil
		}
		b.rejected.Add(1)
		b.queueTimeouts.Add(1)
		return b.errTimedOut
	}
}

// Release gives back the slot of a call that [Bulkhead.Acquire] admitted.
// The slot goes to the call at the head of the queue, if any, else it is
// free. Release panics if no slot is held, as a mistake in the program.
func (b *Bulkhead) Release() {
	if s := b.state.Load(); s != 0 && s < queuedOne && b.state.CompareAndSwap(s, s-1) {
		return
	}
	b.releaseSlow()
}

// releaseSlow is Release when the first try did not free the slot.
func (b *Bulkhead) releaseSlow() {
	for {
		s := b.state.Load()
		if s&inFlightMask == 0 {
			panic("bulkhead: Release without a slot held")
		}
		if s >= queuedOne {
			break
		}
		if b.state.CompareAndSwap(s, s-1) {
			return
		}
	}
	// Calls are queued, so every slot is taken (they queued because none
	// was free) and no call takes or releases one without the lock.
	b.mu.Lock()
	w := b.head
	if w == nil {
		// The queued calls left before the lock was ours.
		b.state.Add(minusOne)
		b.mu.Unlock()
		return
	}
	b.unlink(w)
	w.granted = true
	b.state.Add(minusQueued) // one queued fewer; the slot passes to w
	b.mu.Unlock()
	close(w.ready)
}

// leave takes w out of the queue, and reports whether it was still
// queued; false means it was handed a slot, which it now holds.
func (b *Bulkhead) leave(w *waiter) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w.granted {
		return false
	}
	b.unlink(w)
	b.state.Add(minusQueued)
	return true
}

// push appends w to the queue. b.mu must be held.
func (b *Bulkhead) push(w *waiter) {
	w.prev = b.tail
	if b.tail == nil {
		b.head = w
	} else {
		b.tail.next = w
	}
	b.tail = w
}

// unlink takes w, which is queued, out of the queue. b.mu must be held.
func (b *Bulkhead) unlink(w *waiter) {
	if w.prev == nil {
		b.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		b.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
}

// Snapshot is what a [Bulkhead] holds now and has seen since [New].
type Snapshot struct {
	// Name, MaxConcurrent, MaxQueue and QueueTimeout are the Config.
	Name          string
	MaxConcurrent int
	MaxQueue      int
	QueueTimeout  time.Duration

	// InFlight is the number of slots held now; Queued the number of
	// calls waiting for one. Both are read at one instant.
	InFlight int
	Queued   int

	// Admitted counts the calls that got a slot, at once or after queuing.
	Admitted uint64
	// Rejected counts the calls rejected with an [*Error]: the queue was
	// full, or they waited QueueTimeout in it.
	Rejected uint64
	// QueueTimeouts counts the calls of Rejected that waited QueueTimeout.
	QueueTimeouts uint64
	// Canceled counts the calls whose context ended while they were
	// queued; they are in neither Admitted nor Rejected.
	Canceled uint64
}

// Snapshot returns b's limits, its calls in flight and queued, and its
// counts since [New].
func (b *Bulkhead) Snapshot() Snapshot {
	s := b.state.Load()
	return Snapshot{
		Name:          b.name,
		MaxConcurrent: int(b.max),
		MaxQueue:      int(b.maxQueue),
		QueueTimeout:  b.queueTimeout,
		InFlight:      int(s & inFlightMask),
		Queued:        int(s >> 32),
		Admitted:      b.admitted.Load(),
		Rejected:      b.rejected.Load(),
		QueueTimeouts: b.queueTimeouts.Load(),
		Canceled:      b.canceled.Load(),
	}
}
