package breaker

import (
	"sync"
	"sync/atomic"
	"time"
)

// kind is how one call ended, as the window counts it.
type kind uint8

const (
	kindSuccess  kind = iota // success, not slow
	kindSlow                 // success that took SlowCallDuration or longer
	kindFailure              // failure that is not a timeout
	kindTimeout              // timeout
	kindExcluded             // caller canceled, or its own deadline passed
	numKinds
)

var kindNames = [numKinds]string{"success", "slow", "failure", "timeout", "excluded"}

func (k kind) String() string { return kindNames[k] }

// window is the rolling window of one closed period: WindowBuckets buckets
// of counters, each covering width of time, plus the consecutive-failure
// counter. Recording is lock-free; a bucket's mutex is taken only when the
// bucket is reused for a newer period (once per width, at most).
type window struct {
	origin time.Duration // internal/clock reading at which bucket period 0 starts
	width  time.Duration // Window / WindowBuckets

	consecutive atomic.Uint32 // failures and timeouts in a row

	buckets [WindowBuckets]bucket
}

// bucket holds the counts of the calls that ended in one bucket period.
type bucket struct {
	// period is the number of the bucket period these counts belong to,
	// counted in widths since origin. Reset to a newer period only with mu
	// held and only after the counts are zeroed, so a writer that reads the
	// period it wants adds to counts that are its own.
	period atomic.Int64
	counts [numKinds]atomic.Uint64

	mu sync.Mutex // serializes reuse of the bucket for a newer period

	_ [64 - 8 - 8*numKinds - 8]byte // one bucket per cache line
}

func newWindow(now, length time.Duration) *window {
	return &window{origin: now, width: length / WindowBuckets}
}

// periodAt returns the bucket period that the clock reading now falls in.
// A reading older than the window (a breaker used across a synctest
// bubble's clock) is put in period 0 instead of indexing out of range.
func (w *window) periodAt(now time.Duration) int64 {
	d := now - w.origin
	if d < 0 {
		return 0
	}
	return int64(d / w.width)
}

// add counts one call of kind k that ended at now.
func (w *window) add(now time.Duration, k kind) {
	p := w.periodAt(now)
	b := &w.buckets[p%WindowBuckets]
	if b.period.Load() != p && !b.reuse(p) {
		return
	}
	// Between the check above and this Add the bucket can only be reused
	// for period p+WindowBuckets, a whole window later; a writer stalled
	// that long adds one aged-out call to the new period. That is the only
	// inexactness, and it needs a stall of about 0.9×Window.
	b.counts[k].Add(1)

	switch k {
	case kindFailure, kindTimeout:
		w.consecutive.Add(1)
	case kindSuccess, kindSlow:
		// Load first: most calls succeed, and a store on every success
		// would make every core fight over this cache line.
		if w.consecutive.Load() != 0 {
			w.consecutive.Store(0)
		}
	}
}

// reuse makes b hold period p, zeroing the counts of the older period it
// held. It returns false when b already holds a newer period, in which case
// the call being recorded has aged out and is dropped.
func (b *bucket) reuse(p int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.period.Load()
	if cur > p {
		return false
	}
	if cur < p {
		for i := range b.counts {
			b.counts[i].Store(0)
		}
		b.period.Store(p)
	}
	return true
}

// sum returns the counts of the calls in the window that ends at now.
func (w *window) sum(now time.Duration) Counts {
	p := w.periodAt(now)
	var n [numKinds]uint64
	for i := range w.buckets {
		b := &w.buckets[i]
		bp := b.period.Load()
		if bp > p || p-bp >= WindowBuckets {
			continue // aged out (or newer than this reading)
		}
		for k := range n {
			n[k] += b.counts[k].Load()
		}
	}
	return makeCounts(n, w.consecutive.Load())
}

// makeCounts turns per-kind counts into Counts with the rates filled in.
func makeCounts(n [numKinds]uint64, consecutive uint32) Counts {
	c := Counts{
		Successes:           n[kindSuccess] + n[kindSlow],
		SlowCalls:           n[kindSlow],
		Failures:            n[kindFailure],
		Timeouts:            n[kindTimeout],
		Excluded:            n[kindExcluded],
		ConsecutiveFailures: consecutive,
	}
	c.Calls = c.Successes + c.Failures + c.Timeouts
	if c.Calls > 0 {
		calls := float64(c.Calls)
		c.FailureRate = float64(c.Failures+c.Timeouts) / calls
		c.TimeoutRate = float64(c.Timeouts) / calls
		c.SlowCallRate = float64(c.SlowCalls) / calls
	}
	return c
}
