package budget

import (
	"math"
	"sync"
	"time"

	"github.com/steadyhq/steady/internal/clock"
)

// Defaults of [RatioConfig], Finagle's RetryBudget defaults.
const (
	// DefaultRatio is the default of RatioConfig.Ratio: 20% of the calls.
	DefaultRatio = 0.2
	// DefaultMinPerSecond is the default of RatioConfig.MinPerSecond.
	DefaultMinPerSecond = 10
	// DefaultTTL is the default of RatioConfig.TTL.
	DefaultTTL = 10 * time.Second
)

// Limits of [RatioConfig]. The TTL range is Finagle's.
const (
	minTTL   = time.Second
	maxTTL   = time.Minute
	maxRatio = 10
)

// RatioConfig configures a [Ratio] budget. The zero RatioConfig is valid
// and means Finagle's defaults: retries up to 20% of the calls, plus 10
// retries a second, over 10 seconds.
type RatioConfig struct {
	// Ratio is the share of calls that may be retried: each call started
	// in the last TTL adds Ratio of a retry to the budget. Default (0):
	// 0.2. Range: (0, 10] (above 1, more than one retry per call).
	Ratio float64

	// MinPerSecond is the floor: MinPerSecond×TTL retries are allowed in
	// any TTL, however few calls there were, so that a client that calls
	// rarely can still retry. Default (0): 10. Range: > 0 (a floor under
	// 1/TTL, such as 0.01, adds less than a whole retry: no floor).
	MinPerSecond float64

	// TTL is how long a call's deposit and a retry's withdrawal count.
	// Default (0): 10s. Range: [1s, 1m].
	TTL time.Duration
}

// Validate reports the first field of c that is out of range, as a
// [*resilience.ConfigError] naming it, e.g. "budget: RatioConfig.TTL is
// 100ms, want between 1s and 1m0s (or 0 for 10s)"; nil if [NewRatio]
// accepts c.
func (c RatioConfig) Validate() error {
	_, err := c.withDefaults()
	return err
}

func (c RatioConfig) withDefaults() (RatioConfig, error) {
	switch {
	case c.Ratio == 0:
		c.Ratio = DefaultRatio
	case !(c.Ratio > 0 && c.Ratio <= maxRatio): // NaN too
		return c, configError("RatioConfig", "Ratio", c.Ratio, "in (0, 10] (or 0 for 0.2)")
	}
	switch {
	case c.MinPerSecond == 0:
		c.MinPerSecond = DefaultMinPerSecond
	case !(c.MinPerSecond > 0) || math.IsInf(c.MinPerSecond, 1):
		return c, configError("RatioConfig", "MinPerSecond", c.MinPerSecond, "> 0 and finite (or 0 for 10)")
	}
	switch {
	case c.TTL == 0:
		c.TTL = DefaultTTL
	case c.TTL < minTTL || c.TTL > maxTTL:
		return c, configError("RatioConfig", "TTL", c.TTL, "between 1s and 1m0s (or 0 for 10s)")
	}
	return c, nil
}

// Ratio is a retry budget in the manner of Finagle's RetryBudget and
// Linkerd's: over the last TTL, retries may be at most Ratio of the calls
// started, plus a floor of MinPerSecond×TTL. It counts calls and retries;
// it does not look at how attempts end, so it limits retries the same
// way whether they help or not (see [Adaptive] for one that tells).
//
// Make one with [NewRatio]; the zero value is a Ratio budget with the zero
// RatioConfig. It must not be copied after first use. It is safe for
// concurrent use: a decision is a few atomic loads and one
// compare-and-swap, so no two goroutines can both take the last retry.
// Retry reads the monotonic clock to move the window on; Request does so
// once every 64 calls.
type Ratio struct {
	ratio float64
	floor float64   // MinPerSecond×TTL
	once  sync.Once // runs init, from NewRatio or on first use of a zero value
	l     ledger
}

// Counters of a Ratio's ledger.
const (
	rRequests = iota
	rRetries
	rDenied
	rSucceeded
)

// NewRatio returns a [Ratio] budget configured by c, or c's
// [RatioConfig.Validate] error.
func NewRatio(c RatioConfig) (*Ratio, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	b := new(Ratio)
	b.once.Do(func() { b.init(c) })
	return b, nil
}

// init sets b up for c, which has its defaults filled in.
func (b *Ratio) init(c RatioConfig) {
	b.ratio = c.Ratio
	b.floor = c.MinPerSecond * c.TTL.Seconds()
	b.l.init(c.TTL)
}

// ready initializes a zero Ratio on its first use.
func (b *Ratio) ready() { b.once.Do(b.initZero) }

func (b *Ratio) initZero() {
	c, _ := RatioConfig{}.withDefaults()
	b.init(c)
}

// Request records a call's first attempt: it adds Ratio of a retry to the
// budget for the next TTL.
func (b *Ratio) Request() {
	b.ready()
	b.l.add(rRequests, 1)
}

// Retry allows a retry, and takes it from the budget, if the retries of
// the last TTL are fewer than Ratio×calls + MinPerSecond×TTL by at least
// one.
func (b *Ratio) Retry() bool {
	b.ready()
	b.l.tick(clock.Now())
	open := b.l.open.Load()
	for {
		r := b.l.c[rRetries].Load()
		if b.headroom(open, r) < 1 {
			b.l.c[rDenied].Add(1)
			return false
		}
		if b.l.c[rRetries].CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// headroom returns the retries left in the window that open opens, with r
// the retries counter now.
func (b *Ratio) headroom(open *opening, r uint64) float64 {
	used := uint64(0)
	if r > open.Counts[rRetries] {
		used = r - open.Counts[rRetries]
	}
	return b.floor + b.ratio*float64(b.l.since(open, rRequests)) - float64(used)
}

// Done counts a retry that was ok in Snapshot's Succeeded; it does not
// change the budget, which does not look at outcomes.
func (b *Ratio) Done(retry, ok bool) {
	b.ready()
	if retry && ok {
		b.l.c[rSucceeded].Add(1)
	}
}

// Snapshot returns the counts since b was made and, as Headroom, the
// retries left in the current window (it may be fractional: a retry needs
// a whole one).
func (b *Ratio) Snapshot() Stats {
	b.ready()
	b.l.tick(clock.Now())
	open := b.l.open.Load()
	return Stats{
		Requests:  int64(b.l.c[rRequests].Load()),
		Retries:   int64(b.l.c[rRetries].Load()),
		Denied:    int64(b.l.c[rDenied].Load()),
		Succeeded: int64(b.l.c[rSucceeded].Load()),
		Headroom:  max(0, b.headroom(open, b.l.c[rRetries].Load())),
	}
}
