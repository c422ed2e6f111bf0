package budget

import (
	"math"
	"sync"
	"sync/atomic"
)

// Defaults of [AdaptiveConfig].
const (
	// DefaultCapacity is the default of AdaptiveConfig.Capacity, in tokens.
	DefaultCapacity = 100
	// DefaultAdaptiveRatio is the default of AdaptiveConfig.Ratio: a
	// tenth of a token per successful call.
	DefaultAdaptiveRatio = 0.1
)

// Limits of [AdaptiveConfig].
const (
	maxCapacity      = 1_000_000
	minAdaptiveRatio = 0.001
	maxAdaptiveRatio = 10
)

// milli is the number of units in a token: an Adaptive budget counts
// thousandths of a token in one int64, so that a deposit of Ratio is exact
// to three decimals and a decision is one compare-and-swap.
const milli = 1000

// AdaptiveConfig configures an [Adaptive] budget. The zero AdaptiveConfig
// is valid and is the recommended budget: 100 tokens, and a tenth of a
// token for every call whose first attempt succeeds.
type AdaptiveConfig struct {
	// Capacity is the most tokens the budget holds, and what it starts
	// with. A retry takes a token, so Capacity bounds the retries that a
	// sudden outage gets. It also bounds the retries in flight before the
	// first of them come back to pay: when a fault starts, the retries
	// asked for within about one backoff delay (plus an attempt's
	// latency). After that, retries that succeed refill the bucket at any
	// rate. With retry.DefaultConfig, size it to at least calls per second
	// × failure share × 0.2s: 100 covers 30% failures at about 1,500 calls
	// a second (see the package documentation for measurements). Default
	// (0): 100. Range: [1, 1e6].
	Capacity int

	// Ratio is the tokens a call earns when its first attempt succeeds:
	// while retries fail, they are at most about Ratio of the successful
	// calls. Default (0): 0.1. Range: [0.001, 10].
	Ratio float64
}

// Validate reports the first field of c that is out of range, as a
// [*resilience.ConfigError] naming it; nil if [NewAdaptive] accepts c.
func (c AdaptiveConfig) Validate() error {
	_, err := c.withDefaults()
	return err
}

func (c AdaptiveConfig) withDefaults() (AdaptiveConfig, error) {
	switch {
	case c.Capacity == 0:
		c.Capacity = DefaultCapacity
	case c.Capacity < 1 || c.Capacity > maxCapacity:
		return c, configError("AdaptiveConfig", "Capacity", c.Capacity, "in [1, 1000000] (or 0 for 100)")
	}
	switch {
	case c.Ratio == 0:
		c.Ratio = DefaultAdaptiveRatio
	case !(c.Ratio >= minAdaptiveRatio && c.Ratio <= maxAdaptiveRatio): // NaN too
		return c, configError("AdaptiveConfig", "Ratio", c.Ratio, "in [0.001, 10] (or 0 for 0.1)")
	}
	return c, nil
}

// Adaptive is a retry budget that tells a transient fault from an outage
// by whether retries succeed. It is a bucket of tokens:
//
//   - a retry takes one token, and is denied when less than one is left;
//   - a retry that succeeds gives its token back and earns one more;
//   - a call whose first attempt succeeds earns Ratio of a token;
//   - the bucket holds at most Capacity tokens, and starts full.
//
// So retries pay for themselves while at least half of them succeed: a
// transient fault, where a retry is a fresh draw, keeps the bucket full and
// every retry allowed. When more than half fail, as in an outage, they
// drain it: after Capacity retries, a failing dependency gets only the
// retries that successful calls earn, Ratio of them, and none if no call
// succeeds. A failed attempt that retrying cannot help (ok in
// [Budget.Done]) counts as a success: the dependency answered. A retry or
// hedge whose outcome is never reported (canceled) keeps its token, as a
// failed one does.
//
// Make one with [NewAdaptive]; the zero value is an Adaptive budget with
// the zero AdaptiveConfig. It must not be copied after first use. It is
// safe for concurrent use; a decision is one compare-and-swap on one
// counter, so no two goroutines can take the last token, and it never
// reads the clock: the bucket's memory is its Capacity, not a time
// window, which is why it needs no internal/window.
type Adaptive struct {
	capacity int64     // thousandths
	deposit  int64     // thousandths earned by a successful first attempt
	once     sync.Once // runs init, from NewAdaptive or on first use of a zero value

	// Each on a cache line of its own: every call writes requests and
	// reads tokens.
	tokens   paddedInt64 // thousandths of a token, in [0, capacity]
	requests paddedInt64

	retries   atomic.Int64
	denied    atomic.Int64
	succeeded atomic.Int64
}

// paddedInt64 is an atomic.Int64 on a cache line of its own.
type paddedInt64 struct {
	_ [64]byte
	atomic.Int64
	_ [56]byte
}

// NewAdaptive returns an [Adaptive] budget configured by c, or c's
// [AdaptiveConfig.Validate] error.
func NewAdaptive(c AdaptiveConfig) (*Adaptive, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	b := new(Adaptive)
	b.once.Do(func() { b.init(c) })
	return b, nil
}

// init sets b up for c, which has its defaults filled in.
func (b *Adaptive) init(c AdaptiveConfig) {
	b.capacity = int64(c.Capacity) * milli
	b.deposit = max(1, int64(math.Round(c.Ratio*milli)))
	b.tokens.Store(b.capacity)
}

// ready initializes a zero Adaptive on its first use.
func (b *Adaptive) ready() { b.once.Do(b.initZero) }

func (b *Adaptive) initZero() {
	c, _ := AdaptiveConfig{}.withDefaults()
	b.init(c)
}

// Request counts a call; the count is only reported in [Adaptive.Snapshot].
func (b *Adaptive) Request() {
	b.ready()
	b.requests.Add(1)
}

// Retry takes a token for a retry, if there is a whole one.
func (b *Adaptive) Retry() bool {
	b.ready()
	for {
		t := b.tokens.Load()
		if t < milli {
			b.denied.Add(1)
			return false
		}
		if b.tokens.CompareAndSwap(t, t-milli) {
			b.retries.Add(1)
			return true
		}
	}
}

// Done credits the bucket for an attempt that was ok: Ratio of a token for
// a first attempt, two tokens for a retry (its own back, and one more). A
// failed attempt changes nothing: a failed retry keeps the token it took.
func (b *Adaptive) Done(retry, ok bool) {
	b.ready()
	switch {
	case !ok:
	case retry:
		b.succeeded.Add(1)
		b.credit(2 * milli)
	default:
		b.credit(b.deposit)
	}
}

// credit adds n thousandths of a token, up to the capacity. A full bucket,
// the usual case, costs a load and no write.
func (b *Adaptive) credit(n int64) {
	for {
		t := b.tokens.Load()
		if t >= b.capacity || b.tokens.CompareAndSwap(t, min(b.capacity, t+n)) {
			return
		}
	}
}

// Snapshot returns the counts since b was made and, as Headroom, the
// tokens in the bucket.
func (b *Adaptive) Snapshot() Stats {
	b.ready()
	return Stats{
		Requests:  b.requests.Load(),
		Retries:   b.retries.Load(),
		Denied:    b.denied.Load(),
		Succeeded: b.succeeded.Load(),
		Headroom:  float64(b.tokens.Load()) / milli,
	}
}
