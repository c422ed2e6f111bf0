package monitor

import (
	"math"
	"sync"
	"time"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/internal/hook"
	"github.com/steadyhq/steady/internal/window"
)

// AlertRule is an alert on the timeout rate over a sliding window, set in
// [Config.Alerts]. The package documentation, under Alerts, says when a
// rule fires and resolves.
type AlertRule struct {
	// Window is how far back the rate looks. The default (0) is 30s;
	// otherwise it must be at least 1ms.
	Window time.Duration
	// MinCalls is the fewest calls (canceled and rejected ones left out)
	// the window must hold for the rule to fire or resolve. The default
	// (0) is 10; it must not be negative.
	MinCalls int64
	// Threshold is the timeout rate, as a fraction, above which the rule
	// fires: 0.2 fires when more than 20% of the calls time out. It must be
	// above 0 and below 1.
	Threshold float64
	// Cooldown is the shortest time from one firing to the next. The
	// default (0) is Window; it must not be negative. math.MaxInt64 fires
	// once at most.
	Cooldown time.Duration
	// OnAlert, if not nil, is called with each firing and resolution; see
	// Alerts in the package documentation for from where and how.
	OnAlert func(AlertEvent)
}

// AlertEvent is what an [AlertRule] reports when it fires or resolves. The
// counts are those of the window the rule evaluated.
type AlertEvent struct {
	// Firing is true when the rule fires and false when it resolves.
	Firing bool
	// Rate is Timeouts / Calls, in [0, 1].
	Rate float64
	// Calls is the number of calls in the window, canceled and rejected
	// ones left out; Timeouts is how many of them timed out.
	Calls, Timeouts int64
	// Window and Threshold are the rule's, after defaults.
	Window    time.Duration
	Threshold float64
	// Name is [Config.Name].
	Name string
}

// Indexes in the window.Counts handed to a rule's window: cumulative counts
// of the calls (canceled and rejected ones left out) and of the timeouts.
const (
	winCalls = iota
	winTimeouts
)

// rule is an installed AlertRule (with defaults) and its state.
type rule struct {
	AlertRule
	win *window.Window

	// mu guards firing and quietTill, and keeps the window's ticks, the
	// decisions taken on them and the events queued in one order.
	mu        sync.Mutex
	firing    bool          // the rule fired and has not resolved since
	last      AlertEvent    // the last window decided, with Firing = firing
	quietTill time.Duration // clock reading before which the rule does not fire
}

func newRule(r AlertRule, name string) *rule {
	// Clock readings may be negative (inside a testing/synctest bubble), so
	// "no cool-down yet" is the smallest reading, not 0.
	return &rule{
		AlertRule: r,
		win:       window.New(r.Window),
		quietTill: math.MinInt64,
		last:      AlertEvent{Window: r.Window, Threshold: r.Threshold, Name: name},
	}
}

// Alerts returns the state of each rule of [Config.Alerts], in their
// order: the window the rule decided on last, with Firing telling whether
// the rule is firing now. A rule that has not yet seen a window with
// MinCalls calls reports zero counts. Like Snapshot, it first evaluates
// the rules whose tick has come, so the state is current even while no
// call is recorded; it may then deliver alert events. A nil m, or one
// without rules, returns nil.
func (m *Metrics) Alerts() []AlertEvent {
	if m == nil || len(m.rules) == 0 {
		return nil
	}
	if m.evaluate(clock.Now()) {
		m.deliver()
	}
	out := make([]AlertEvent, len(m.rules))
	for i, r := range m.rules {
		r.mu.Lock()
		out[i] = r.last
		r.mu.Unlock()
	}
	return out
}

// alert is an event queued for delivery with the callback of its rule.
type alert struct {
	ev AlertEvent
	fn func(AlertEvent)
}

// evaluate evaluates, at clock reading now, the rules whose tick has come,
// and queues the events they report. It reports whether it queued one;
// the caller then calls deliver, once it has counted its call.
func (m *Metrics) evaluate(now time.Duration) bool {
	var cur window.Counts
	have, queued := false, false
	for _, r := range m.rules {
		if !r.win.Due(now) {
			continue
		}
		if !have {
			cur, have = m.windowCounts(), true
		}
		if r.step(now, cur, m) {
			queued = true
		}
	}
	return queued
}

// windowCounts adds up the shards' cumulative counts of calls and timeouts.
func (m *Metrics) windowCounts() window.Counts {
	var c window.Counts
	for i := range shardCount {
		s := m.shards.At(i)
		t := uint64(s.n[idxTimeout].Load() + s.n[idxDeadline].Load() + s.n[idxPropagated].Load())
		c[winTimeouts] += t
		c[winCalls] += t + uint64(s.n[idxSuccess].Load()) + uint64(s.n[idxFailure].Load())
	}
	return c
}

// step takes the snapshot of the tick that holds now, if nobody did, with
// the cumulative counts cur, and decides on the window that just closed. It
// queues an event on m if the rule fires or resolves, and reports whether
// it did.
func (r *rule) step(now time.Duration, cur window.Counts, m *Metrics) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	closed, ok := r.win.Advance(now, cur)
	if !ok {
		return false // another call took this tick's snapshot
	}
	ev := AlertEvent{
		Calls:     int64(closed[winCalls]),
		Timeouts:  int64(closed[winTimeouts]),
		Window:    r.Window,
		Threshold: r.Threshold,
		Name:      m.name,
	}
	if ev.Calls < r.MinCalls {
		return false // too few calls to decide either way
	}
	ev.Rate = float64(ev.Timeouts) / float64(ev.Calls)
	above := ev.Rate > r.Threshold
	changed := true
	switch {
	case above && !r.firing && now >= r.quietTill:
		r.firing, r.quietTill = true, addSat(now, r.Cooldown)
	case !above && r.firing:
		r.firing = false
	default:
		changed = false
	}
	ev.Firing = r.firing
	r.last = ev
	if !changed {
		return false
	}
	// Queued under r.mu, so that the events of a rule keep their order.
	m.alerts.Push(alert{ev: ev, fn: r.OnAlert})
	return true
}

// addSat returns a + b (b >= 0), or math.MaxInt64 where that overflows: a
// Cooldown too long to add means never again.
func addSat(a, b time.Duration) time.Duration {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxInt64
}

// deliver logs the queued alert events and calls their OnAlert, one at a
// time and in order, with no lock held (see internal/events). A panic in
// the Logger's handler or in OnAlert is recovered and reported; the events
// behind it are still delivered.
func (m *Metrics) deliver() {
	m.alerts.Drain(func(a alert) {
		m.logAlert(a.ev)
		if a.fn != nil {
			hook.Call(m.logger, "monitor: OnAlert", func() { a.fn(a.ev) })
		}
	})
}
