package monitor

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// AlertRule is an alert on the timeout rate: the share of the calls in a
// recent window that timed out, with calls the caller canceled and calls a
// policy rejected without calling the dependency left out (as in
// [Stats.TimeoutRate]). Install one with the [Alert] option.
//
// A rule fires once per crossing: it fires (an [AlertEvent] with Firing
// true) when the window holds at least MinCalls calls and the rate is above
// Threshold, and does not fire again while the rate stays above. It
// resolves (Firing false) when the window holds at least MinCalls calls and
// the rate is at Threshold or below. A window with fewer than MinCalls
// calls decides nothing: an alert that is firing stays firing, one that is
// not stays quiet. So an alert does not resolve just because the calls
// stopped reaching the dependency (an open circuit breaker rejects them and
// lets only a few probes through), nor because traffic stopped. After a
// firing, the next one waits until Cooldown has passed, however often the
// rate crosses in between.
//
// The window is split into 10 buckets of Window/10 and slides one bucket at
// a time: a rule is evaluated at most once per bucket (its tick), by the
// first Record or Snapshot after the tick starts, over the calls of the 10
// whole buckets just ended. So an alert fires or resolves up to Window/10
// after the calls that cause it, and never while nothing records or reads
// the Metrics (no goroutine runs in the background). Calls recorded
// concurrently with an evaluation, in the first instant of a tick, may
// count in the window just ended rather than the next.
type AlertRule struct {
	// Window is how far back the rate looks. The default (0) is 30s;
	// otherwise it must be at least 1ms.
	Window time.Duration
	// MinCalls is the fewest calls (canceled and rejected ones left out)
	// the window must hold for the rule to decide anything, so that 1
	// timeout in 2 calls does not page anyone. Below it the rule neither
	// fires nor resolves: an alert that is firing stays firing until a
	// window holds MinCalls calls again and their rate is at Threshold or
	// below. The default (0) is 10; it must not be negative.
	MinCalls int64
	// Threshold is the timeout rate, as a fraction, above which the rule
	// fires: 0.2 fires when more than 20% of the calls time out. It must be
	// above 0 and below 1 (at 1 the rate could never be above it).
	Threshold float64
	// Cooldown is the shortest time from one firing to the next. The
	// default (0) is Window; it must not be negative. A rule with a
	// Cooldown of math.MaxInt64 fires once at most.
	Cooldown time.Duration
	// OnAlert, if not nil, is called with each firing and resolution,
	// after the event is logged. It is called from whichever goroutine's
	// Record or Snapshot evaluated the rule, never under a lock of the
	// Metrics (so it may call Snapshot), and calls for one Metrics are made
	// one at a time, in order. Keep it quick: the goroutine calling it is
	// one of your callers; hand slow work to a goroutine.
	OnAlert func(AlertEvent)
}

// AlertEvent is what an [AlertRule] reports when it fires or resolves. The
// counts are those of the window the rule evaluated.
type AlertEvent struct {
	// Firing is true when the rule fires (the rate went above Threshold)
	// and false when it resolves.
	Firing bool
	// Rate is Timeouts / Calls, in [0, 1].
	Rate float64
	// Calls is the number of calls in the window, canceled and rejected
	// ones left out (at least the rule's MinCalls); Timeouts is how many of
	// them timed out.
	Calls, Timeouts int64
	// Window and Threshold are the rule's (after defaults).
	Window    time.Duration
	Threshold float64
	// Name is the name of the Metrics (see [Name]).
	Name string
}

const (
	windowBuckets   = 10
	defaultWindow   = 30 * time.Second
	minWindow       = time.Millisecond
	defaultMinCalls = 10
)

// normalize applies the defaults and checks the ranges.
func (r AlertRule) normalize() (AlertRule, error) {
	bad := func(field string, v any, want string) (AlertRule, error) {
		return AlertRule{}, &resilience.ConfigError{Pkg: "monitor", Field: "AlertRule." + field, Value: v, Want: want}
	}
	switch {
	case r.Window == 0:
		r.Window = defaultWindow
	case r.Window < minWindow:
		return bad("Window", r.Window, "0 (30s) or >= 1ms")
	}
	switch {
	case r.MinCalls == 0:
		r.MinCalls = defaultMinCalls
	case r.MinCalls < 0:
		return bad("MinCalls", r.MinCalls, "0 (10) or > 0")
	}
	if !(r.Threshold > 0 && r.Threshold < 1) { // also rejects NaN
		return bad("Threshold", r.Threshold, "> 0 and < 1")
	}
	switch {
	case r.Cooldown == 0:
		r.Cooldown = r.Window
	case r.Cooldown < 0:
		return bad("Cooldown", r.Cooldown, "0 (Window) or > 0")
	}
	return r, nil
}

// rule is an installed AlertRule and its state.
type rule struct {
	AlertRule              // normalized
	width     int64        // ns per tick: Window / windowBuckets
	nextAt    atomic.Int64 // clock reading at which the next tick starts

	mu sync.Mutex // guards the fields below
	// ring holds the cumulative counts at the start of each of the last
	// windowBuckets+1 ticks, indexed by tick modulo its length.
	ring      [windowBuckets + 1]counts
	tick      int64         // the tick last evaluated; math.MinInt64: none yet
	firing    bool          // the rule fired and has not resolved since
	quietTill time.Duration // clock reading before which the rule does not fire (Cooldown)
}

// counts are cumulative counts of calls (canceled and rejected ones left
// out) and timeouts, never reset, from which window counts are differences.
type counts struct{ calls, timeouts int64 }

func newRule(r AlertRule) *rule {
	// Clock readings may be negative (inside a testing/synctest bubble), so
	// "before any reading" is the smallest value, not 0.
	rl := &rule{
		AlertRule: r,
		width:     int64(r.Window / windowBuckets),
		tick:      math.MinInt64,
		quietTill: math.MinInt64,
	}
	rl.nextAt.Store(math.MinInt64) // evaluate at the first chance
	return rl
}

// evaluate evaluates the rules whose tick has come, and delivers what they
// report. Of the goroutines that notice a new tick, the one whose
// CompareAndSwap moves nextAt on evaluates it; the others go on.
func (m *Metrics) evaluate(now time.Duration) {
	var cur counts
	have, posted := false, false
	for _, r := range m.rules {
		for {
			next := r.nextAt.Load()
			if int64(now) < next {
				break
			}
			tick := floorDiv(int64(now), r.width)
			if !r.nextAt.CompareAndSwap(next, (tick+1)*r.width) {
				continue
			}
			if !have {
				cur, have = m.counts(), true
			}
			if r.step(tick, now, cur, m) {
				posted = true
			}
			break
		}
	}
	if posted {
		m.drainAlerts()
	}
}

// counts adds up the shards' cumulative counts.
func (m *Metrics) counts() counts {
	var c counts
	for i := range m.shards {
		s := &m.shards[i]
		t := s.n[idxTimeout].Load()
		c.timeouts += t
		c.calls += t + s.n[idxSuccess].Load() + s.n[idxFailure].Load()
	}
	return c
}

// step evaluates r at the start of tick, when the cumulative counts are cur,
// and queues an event on m if the rule fires or resolves. It reports
// whether it queued one.
func (r *rule) step(tick int64, now time.Duration, cur counts, m *Metrics) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if tick <= r.tick {
		return false // a later tick was evaluated first
	}
	// No call was recorded in the ticks skipped since r.tick (its Record
	// would have evaluated them), so each started with cur. At the first
	// evaluation (r.tick is math.MinInt64, far below any tick, as the width
	// is at least 100µs) that fills the whole ring: the window starts now.
	for t, n := tick, 0; t > r.tick && n < len(r.ring); t, n = t-1, n+1 {
		r.ring[ringIndex(t)] = cur
	}
	r.tick = tick
	old := r.ring[ringIndex(tick-windowBuckets)]
	ev := AlertEvent{
		Calls:     cur.calls - old.calls,
		Timeouts:  cur.timeouts - old.timeouts,
		Window:    r.Window,
		Threshold: r.Threshold,
		Name:      m.name,
	}
	if ev.Calls < r.MinCalls {
		return false // too few calls to decide either way
	}
	ev.Rate = float64(ev.Timeouts) / float64(ev.Calls)
	above := ev.Rate > r.Threshold
	switch {
	case above && !r.firing && now >= r.quietTill:
		r.firing, r.quietTill = true, addSat(now, r.Cooldown)
		ev.Firing = true
	case !above && r.firing:
		r.firing = false
	default:
		return false
	}
	// Queued under r.mu so that events of one rule keep their order.
	m.notify.post(notice{ev: ev, fn: r.OnAlert})
	return true
}

func ringIndex(tick int64) int {
	const n = windowBuckets + 1
	i := tick % n
	if i < 0 {
		i += n
	}
	return int(i)
}

// addSat returns a + b (b >= 0), or math.MaxInt64 where that overflows: a
// Cooldown too long to add means never again.
func addSat(a, b time.Duration) time.Duration {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxInt64
}

// floorDiv is a / b rounded toward minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// notifier delivers alert events outside any lock, one at a time and in
// the order they were queued.
type notifier struct {
	mu      sync.Mutex // guards queue, running
	queue   []notice
	running bool // a goroutine is delivering the queue
}

type notice struct {
	ev AlertEvent
	fn func(AlertEvent)
}

func (n *notifier) post(nt notice) {
	n.mu.Lock()
	n.queue = append(n.queue, nt)
	n.mu.Unlock()
}

// drainAlerts logs the queued events and calls their OnAlert, unless
// another goroutine is already doing so: that one delivers ours too, after
// its current event, which keeps them in order and lets an OnAlert call
// Snapshot (which may queue an event) without deadlock.
func (m *Metrics) drainAlerts() {
	n := &m.notify
	n.mu.Lock()
	if n.running {
		n.mu.Unlock()
		return
	}
	n.running = true
	done := false
	defer func() {
		if !done { // an OnAlert panicked: let the next drain deliver the rest
			n.mu.Lock()
			n.running = false
			n.mu.Unlock()
		}
	}()
	for len(n.queue) > 0 {
		nt := n.queue[0]
		n.queue[0] = notice{}
		n.queue = n.queue[1:]
		n.mu.Unlock()
		m.logAlert(nt.ev)
		if nt.fn != nil {
			nt.fn(nt.ev)
		}
		n.mu.Lock()
	}
	n.queue = nil
	n.running = false
	done = true
	n.mu.Unlock()
}
