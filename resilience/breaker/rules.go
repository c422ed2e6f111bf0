package breaker

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/internal/window"
)

// kind is how one call ended, as the window counts it.
type kind uint8

const (
	kindSuccess  kind = iota // success, not slow
	kindSlow                 // success that took SlowCallDuration or longer
	kindFailure              // failure that is not a timeout
	kindTimeout              // timeout
	kindExcluded             // the caller's cancellation or deadline, or a rejection inside
	numKinds
)

// tally holds the counters of one closed phase: one cumulative counter per
// kind, which the phase's window.Window turns into window counts, and the
// failures in a row.
type tally struct {
	n           [numKinds]atomic.Uint64
	consecutive atomic.Uint32 // failures and timeouts in a row
}

// add counts one call of kind k.
func (t *tally) add(k kind) {
	t.n[k].Add(1)
	switch k {
	case kindFailure, kindTimeout:
		t.consecutive.Add(1)
	case kindSuccess, kindSlow:
		// Load first: most calls succeed, and a store on every success
		// would make every CPU fight over this cache line.
		if t.consecutive.Load() != 0 {
			t.consecutive.Store(0)
		}
	}
}

// load returns the counters' current values, as window.Window wants them.
func (t *tally) load() window.Counts {
	var c window.Counts
	for k := range t.n {
		c[k] = t.n[k].Load()
	}
	return c
}

// makeCounts turns per-kind counts into Counts with the rates filled in.
func makeCounts(n window.Counts, consecutive uint32) Counts {
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

// Rule names, as they appear in logs.
const (
	ruleConsecutive  = "ConsecutiveFailures"
	ruleFailureRate  = "FailureRate"
	ruleTimeoutRate  = "TimeoutRate"
	ruleSlowCallRate = "SlowCallRate"
)

// tripInfo records which rule fired, and on what counts.
type tripInfo struct {
	rule            string
	observed, limit float64
	counts          Counts
}

// String reads e.g. "TimeoutRate 0.60 >= 0.50 over 10 calls" or
// "ConsecutiveFailures 5 >= 5".
func (t tripInfo) String() string {
	if t.rule == ruleConsecutive {
		return t.rule + " " + strconv.FormatFloat(t.observed, 'f', 0, 64) + " >= " + strconv.FormatFloat(t.limit, 'f', 0, 64)
	}
	return t.rule + " " + strconv.FormatFloat(t.observed, 'f', 2, 64) + " >= " +
		strconv.FormatFloat(t.limit, 'f', 2, 64) + " over " + strconv.FormatUint(t.counts.Calls, 10) + " calls"
}

// evaluate reports whether a rule fires on the closed phase ph at the clock
// reading now, and which. The rate rules take the window's lock.
func (c *config) evaluate(ph *phase, now time.Duration) (tripInfo, bool) {
	if n := c.ConsecutiveFailures; n > 0 {
		if got := ph.tally.consecutive.Load(); got >= n {
			return tripInfo{rule: ruleConsecutive, observed: float64(got), limit: float64(n), counts: ph.ruleCounts(now)}, true
		}
	}
	if !c.rateRules {
		return tripInfo{}, false
	}
	counts := ph.ruleCounts(now)
	if counts.Calls < uint64(c.MinRequests) {
		return tripInfo{}, false
	}
	for _, r := range [...]struct {
		rule        string
		rate, limit float64
	}{
		{ruleTimeoutRate, counts.TimeoutRate, c.TimeoutRate},
		{ruleSlowCallRate, counts.SlowCallRate, c.SlowCallRate},
		{ruleFailureRate, counts.FailureRate, c.FailureRate},
	} {
		if r.limit > 0 && r.rate >= r.limit {
			return tripInfo{rule: r.rule, observed: r.rate, limit: r.limit, counts: counts}, true
		}
	}
	return tripInfo{}, false
}
