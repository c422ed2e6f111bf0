// Package window keeps rolling windows over cumulative counters.
//
// A Window does not count anything itself. The caller keeps counters that
// only grow (atomics, or sums over shards) and hands their current values to
// the Window, which keeps a snapshot of them at the start of each tick. The
// counts over a window are then the difference between the values now and
// the snapshot of an earlier tick, so recording a call costs the caller one
// atomic add to its own counter and one atomic load ([Window.Due]).
//
// A caller takes the snapshot ([Window.Due], then [Window.Advance]) before it
// counts a call, so that the call falls in the tick it happened in. The
// snapshot is taken by the first caller that notices a new tick, so calls
// counted in the instant between the tick's start and that caller land in
// the tick before. Ticks in which nobody looked are filled with the values
// seen when somebody next does: nothing was counted in them.
package window

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Buckets is the number of ticks a window is split into.
const Buckets = 10

// Kinds is the number of counters a [Counts] holds.
const Kinds = 8

// Counts holds the values of up to [Kinds] counters; what each index means
// is the caller's business.
type Counts [Kinds]uint64

// Sub returns c - o, counter by counter, and 0 where o is the larger: a
// caller that loaded c just before another call advanced the window past it
// gets an empty count, not a wrapped-around one.
func (c Counts) Sub(o Counts) Counts {
	for i := range c {
		if o[i] > c[i] {
			c[i] = 0
		} else {
			c[i] -= o[i]
		}
	}
	return c
}

// Window is a rolling window of [Buckets] ticks over cumulative counters.
// It is safe for concurrent use. Make one with [New].
type Window struct {
	width  int64        // ns per tick
	nextAt atomic.Int64 // clock reading at which the next unrecorded tick starts

	mu   sync.Mutex // guards ring, tick
	ring [Buckets + 1]Counts
	tick int64 // the last tick recorded; math.MinInt64 before the first
}

// New returns a Window of the given length, which must be at least Buckets
// nanoseconds. Clock readings passed to its methods are those of
// internal/clock (they may be negative in a testing/synctest bubble).
func New(length time.Duration) *Window {
	w := &Window{width: int64(length / Buckets), tick: math.MinInt64}
	if w.width <= 0 {
		w.width = 1
	}
	w.nextAt.Store(math.MinInt64)
	return w
}

// Length returns the length of the window.
func (w *Window) Length() time.Duration { return time.Duration(w.width * Buckets) }

// Due reports whether a tick has started at now that no snapshot was taken
// for yet. It is one atomic load.
func (w *Window) Due(now time.Duration) bool { return int64(now) >= w.nextAt.Load() }

// Advance takes the snapshot cur for the tick that contains now, if none was
// taken yet, and then returns the counts over the [Buckets] whole ticks that
// ended when that tick started, with ok true. If the tick already had its
// snapshot it returns ok false: some other call advanced it first.
func (w *Window) Advance(now time.Duration, cur Counts) (closed Counts, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := floorDiv(int64(now), w.width)
	if !w.advance(t, cur) {
		return Counts{}, false
	}
	return cur.Sub(w.ring[index(t-Buckets)]), true
}

// Sum returns the counts over the window that ends at now: cur minus the
// snapshot of Buckets-1 ticks ago, so the calls of the current tick and the
// Buckets-1 before it. A call thus leaves the window between
// (Buckets-1)/Buckets of its length and its whole length after it was
// counted. Sum takes the snapshot of the current tick if it is due.
func (w *Window) Sum(now time.Duration, cur Counts) Counts {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := floorDiv(int64(now), w.width)
	w.advance(t, cur)
	if t < w.tick {
		t = w.tick // a reading older than the last tick: use the newest
	}
	return cur.Sub(w.ring[index(t-(Buckets-1))])
}

// advance records cur for tick t and the ticks skipped since the last one
// recorded. It reports whether t was new. mu must be held.
func (w *Window) advance(t int64, cur Counts) bool {
	if t <= w.tick {
		return false
	}
	// Nothing was counted in the ticks skipped since w.tick (a count would
	// have advanced them), so each of them starts with cur. The first call
	// fills the whole ring: the window starts now.
	for s, n := t, 0; s > w.tick && n < len(w.ring); s, n = s-1, n+1 {
		w.ring[index(s)] = cur
	}
	w.tick = t
	next := int64(math.MaxInt64)
	if t < math.MaxInt64/w.width-1 {
		next = (t + 1) * w.width
	}
	w.nextAt.Store(next)
	return true
}

func index(tick int64) int {
	const n = Buckets + 1
	i := tick % n
	if i < 0 {
		i += n
	}
	return int(i)
}

// floorDiv is a / b rounded toward minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
