package dashboard

import (
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/steadyhq/steady/internal/hook"
	"github.com/steadyhq/steady/internal/typednil"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// Parts are the parts of one dependency that a card shows; any subset may
// be set. The dashboard only reads their Snapshot (and Stats) methods once
// per tick: registering a part adds nothing to its calls.
type Parts struct {
	Metrics  *monitor.Metrics
	Breaker  *breaker.CircuitBreaker
	Hedger   *hedge.Hedger
	Budget   budget.Budget
	Adaptive *timeout.Adaptive
	Bulkhead *bulkhead.Bulkhead
}

// empty reports whether p has no part set. A Budget that holds a nil
// pointer counts as unset (it would panic when read).
func (p Parts) empty() bool {
	return p.Metrics == nil && p.Breaker == nil && p.Hedger == nil &&
		typednil.Is(p.Budget) && p.Adaptive == nil && p.Bulkhead == nil
}

// reading is what one card's parts said at one tick.
type reading struct {
	at       time.Time
	metrics  monitor.Stats
	hist     *monitor.Histogram
	breaker  breaker.Snapshot
	hedge    hedge.Stats
	budget   budget.Stats
	bulkhead bulkhead.Snapshot
}

// maxTransitions is how many breaker transitions a card keeps.
const maxTransitions = 10

// card is a registered name. name and parts never change; prev, cur,
// tick and transitions are the sampler's; Dashboard.mu guards the rest.
type card struct {
	name   string
	parts  Parts
	logger *slog.Logger // the Dashboard's: where a panic in a part is reported

	// budgetFailed is set once the Budget's Snapshot panicked: a Budget
	// may be the user's own, and is not read again (sampler only).
	budgetFailed bool

	prev, cur   reading
	tick        *monitor.Histogram // the durations of the last tick's calls
	transitions []Transition       // published slices are never written again

	// guarded by Dashboard.mu
	rate []float64 // ring of the sparkline points, History/Tick of them
	p99  []float64 // NaN: no calls in the tick
	head int       // where the next point goes
	n    int       // points held
	last Card      // the last tick's figures
}

func newCard(name string, p Parts, points int, now time.Time, logger *slog.Logger) *card {
	c := &card{name: name, parts: p, logger: logger, rate: make([]float64, points), p99: make([]float64, points)}
	if p.Metrics != nil {
		c.prev.hist, c.cur.hist, c.tick = new(monitor.Histogram), new(monitor.Histogram), new(monitor.Histogram)
	}
	c.read(&c.prev, now)
	c.last = c.figures(&c.prev, &c.prev)
	return c
}

// read fills r with what the parts say now.
func (c *card) read(r *reading, now time.Time) {
	p := &c.parts
	r.at = now
	if p.Metrics != nil {
		r.metrics = p.Metrics.Snapshot()
		p.Metrics.Histogram(r.hist)
	}
	if p.Breaker != nil {
		r.breaker = p.Breaker.Snapshot()
	}
	if p.Hedger != nil {
		r.hedge = p.Hedger.Snapshot()
	}
	if !typednil.Is(p.Budget) && !c.budgetFailed {
		// A panic in a Budget of the user's own is reported once (to the
		// Logger, or slog.Default), and the card shows no budget from
		// then on; the sampler goes on.
		c.budgetFailed = !hook.Call(c.logger, "dashboard: Budget.Snapshot of "+strconv.Quote(c.name), func() {
			r.budget = p.Budget.Snapshot()
		})
	}
	if p.Bulkhead != nil {
		r.bulkhead = p.Bulkhead.Snapshot()
	}
}

// sample reads the parts at now and returns the tick's figures, the
// differences from the reading before.
func (c *card) sample(now time.Time) Card {
	c.read(&c.cur, now)
	f := c.figures(&c.prev, &c.cur)
	c.prev, c.cur = c.cur, c.prev
	return f
}

// figures returns the card for the tick from reading a to reading b (a
// == b for the first, which has no tick behind it).
func (c *card) figures(a, b *reading) Card {
	p := &c.parts
	f := Card{Name: c.name, Alerts: []Alert{}}
	secs := b.at.Sub(a.at).Seconds()
	if p.Metrics != nil {
		c.metricsFigures(&f, a, b, secs)
		f.Alerts = firingAlerts(p.Metrics, f.Alerts)
	}
	if p.Adaptive != nil {
		f.Limit = ptr(p.Adaptive.Current().Seconds())
	}
	if p.Breaker != nil {
		if a != b {
			c.transitionsBetween(&a.breaker, &b.breaker, b.at)
		}
		f.Breaker = &Breaker{
			State:       b.breaker.State.String(),
			Rejected:    int64(b.breaker.Rejected - a.breaker.Rejected),
			Transitions: c.transitions,
		}
		if f.Breaker.Transitions == nil {
			f.Breaker.Transitions = []Transition{}
		}
	}
	if p.Hedger != nil {
		h := &Hedge{
			Hedges: b.hedge.Hedges - a.hedge.Hedges,
			Wins:   b.hedge.Wins - a.hedge.Wins,
			Delay:  b.hedge.Delay.Seconds(),
		}
		if calls := b.hedge.Calls - a.hedge.Calls; calls > 0 {
			h.Rate = ptr(float64(h.Hedges) / float64(calls))
		}
		f.Hedge = h
	}
	if !typednil.Is(p.Budget) && !c.budgetFailed {
		f.Budget = &Budget{
			// A Budget may be the user's own: JSON has no NaN or Inf.
			Headroom:   finite(b.budget.Headroom),
			RejectRate: finite(b.budget.RejectRate),
			Retries:    b.budget.Retries - a.budget.Retries,
			Denied:     b.budget.Denied - a.budget.Denied,
		}
	}
	if p.Bulkhead != nil {
		f.Bulkhead = &Bulkhead{
			InFlight:      b.bulkhead.InFlight,
			Queued:        b.bulkhead.Queued,
			MaxConcurrent: b.bulkhead.MaxConcurrent,
			MaxQueue:      b.bulkhead.MaxQueue,
			Rejected:      int64(b.bulkhead.Rejected - a.bulkhead.Rejected),
		}
	}
	f.Health = health(&f)
	return f
}

// metricsFigures sets f's call figures for the tick from a to b, secs
// long.
func (c *card) metricsFigures(f *Card, a, b *reading, secs float64) {
	s, t := &a.metrics, &b.metrics
	f.Total = ptr(t.Total)
	calls := t.Total - s.Total
	ah := a.hist
	if calls < 0 { // the Metrics was Reset: start over from this reading
		s, calls, ah = &monitor.Stats{}, t.Total, &noDurations
	}
	if secs > 0 {
		f.Rate = ptr(float64(calls) / secs)
	} else {
		f.Rate = ptr(0.0)
	}
	canceled := t.Canceled - s.Canceled
	rejected := t.Rejected - s.Rejected
	to := timeoutsBetween(s, t)
	f.Timeouts = to
	if n := calls - canceled; n > 0 {
		f.Success = ptr(float64(t.Successes-s.Successes) / float64(n))
	}
	if n := calls - canceled - rejected; n > 0 {
		f.TimeoutRate = ptr(float64(to.Total) / float64(n))
	}
	if a != b {
		f.P50, f.P99 = tickQuantiles(c.tick, ah, b.hist)
	}
}

// health returns "bad" for a card whose breaker is open, with an alert
// firing, or with less than 90% success; "warn" for a half-open breaker,
// more than 1% timeouts or less than 99% success; else "ok".
func health(f *Card) string {
	switch {
	case f.Breaker != nil && f.Breaker.State == breaker.StateOpen.String(),
		len(f.Alerts) > 0,
		f.Success != nil && *f.Success < 0.90:
		return "bad"
	case f.Breaker != nil && f.Breaker.State == breaker.StateHalfOpen.String(),
		f.TimeoutRate != nil && *f.TimeoutRate > 0.01,
		f.Success != nil && *f.Success < 0.99:
		return "warn"
	}
	return "ok"
}

func ptr[T any](v T) *T { return &v }

// noDurations is an empty histogram, never written: the reading before
// the first after a Reset of the Metrics.
var noDurations monitor.Histogram

// finite returns v, or 0 for a NaN or an infinity, which JSON cannot
// carry.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
