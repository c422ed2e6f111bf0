package budget

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/internal/window"
)

// recordEvery is how many counted events (a power of two) the recording
// methods let pass between two looks at the clock. Reading the monotonic
// clock costs more than the rest of a Request or Done together, so those
// advance the window only on every recordEvery-th event; the decisions
// (Retry, Throttle) always look. See ledger.
const recordEvery = 64

// ledger keeps cumulative counters and counts them over a rolling window:
// internal/window keeps a snapshot of the counters at the start of each of
// its ticks, and ledger publishes the snapshot that opens the window, so
// that a decision reads it with one atomic load, without the window's lock.
// The counts in the window are the counters now minus that snapshot: they
// cover the last 10 to 11 ticks (a tick is a tenth of the window's length).
//
// The snapshot is an immutable value, replaced once per tick at most: a
// small allocation every tick (a second for a 10s window), never one per
// call. A decision that loads it just before a newer one is published
// decides on a window longer by a tick, which is harmless.
//
// Counting an event does not read the clock: a recording method advances
// the window on every recordEvery-th event only, and a decision always
// does. When fewer than recordEvery events are counted in a whole window
// and nothing decides, the window is not advanced, and the counts made
// since it last was are attributed to the tick in which it last was: they
// leave the window early, never late. For a Ratio budget that errs toward
// fewer retries: its calls are recorded that way, while the retries it
// allows are counted right after a decision looked at the clock. For a
// Throttler, requests and accepts are recorded alike and leave together.
type ledger struct {
	w    *window.Window
	open atomic.Pointer[opening] // counters at the start of the window
	c    [window.Kinds]counter   // the cumulative counters
}

func (l *ledger) init(length time.Duration) {
	l.w = window.New(length)
	l.open.Store(&opening{at: math.MinInt64})
	l.tick(clock.Now()) // the window starts now, with zero counts
}

// add adds n to counter i and advances the window if i's count crossed a
// multiple of recordEvery and a tick is due.
func (l *ledger) add(i int, n uint64) {
	if v := l.c[i].Add(n); v%recordEvery < n {
		l.tick(clock.Now())
	}
}

// tick advances the window to now if a tick is due, and then publishes the
// snapshot that opens it.
func (l *ledger) tick(now time.Duration) {
	if !l.w.Due(now) {
		return
	}
	cur := l.load()
	closed, ok := l.w.Advance(now, cur)
	if !ok {
		return // another goroutine advanced it
	}
	next := &opening{at: now, Counts: cur.Sub(closed)}
	// Two goroutines that advanced two ticks in a row may get here in
	// either order: the later tick's snapshot wins.
	for {
		prev := l.open.Load()
		if prev.at >= now || l.open.CompareAndSwap(prev, next) {
			return
		}
	}
}

// opening is the snapshot of the counters that opens the window, and the
// clock reading of the tick that published it.
type opening struct {
	at time.Duration
	window.Counts
}

// load returns the counters now.
func (l *ledger) load() window.Counts {
	var c window.Counts
	for i := range c {
		c[i] = l.c[i].Load()
	}
	return c
}

// since returns counter i now minus its value in open (0 if open is ahead,
// which it can only be for a reader that loaded open after the counter).
func (l *ledger) since(open *opening, i int) uint64 {
	v := l.c[i].Load()
	if v < open.Counts[i] {
		return 0
	}
	return v - open.Counts[i]
}

// counter is a cumulative counter on a cache line of its own, so that
// goroutines on two CPUs that count two different things do not slow
// each other down.
type counter struct {
	atomic.Uint64
	_ [56]byte
}
