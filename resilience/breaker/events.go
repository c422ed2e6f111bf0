package breaker

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// Rule names, as they appear in logs.
const (
	ruleConsecutive  = "ConsecutiveFailures"
	ruleFailureRate  = "FailureRate"
	ruleTimeoutRate  = "TimeoutRate"
	ruleSlowCallRate = "SlowCallRate"
)

// tripInfo records which rule tripped the breaker, and on what counts.
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

// verdict is what a call through gobreaker tells it: nil for a success, or
// one of verdicts for the other kinds.
type verdict struct{ k kind }

func (v *verdict) Error() string { return "breaker: call ended as " + v.k.String() }

var verdicts = [numKinds]*verdict{
	kindSlow:     {kindSlow},
	kindFailure:  {kindFailure},
	kindTimeout:  {kindTimeout},
	kindExcluded: {kindExcluded},
}

// describeProbe says why a probe failed, from the error gobreaker was told.
func describeProbe(err error) string {
	switch v, _ := err.(*verdict); {
	case v == nil && err != nil:
		// gobreaker recovered a panic and passed it on as an error.
		return "probe panicked: " + err.Error()
	case v == nil:
		return "probe failed"
	case v.k == kindTimeout:
		return "probe timed out"
	case v.k == kindSlow:
		return "probe was slow"
	default:
		return "probe failed"
	}
}

type eventKind uint8

const (
	eventTrip eventKind = iota
	eventReopen
	eventHalfOpen
	eventClose
	eventIsolate
	eventReset
)

// event is one change of state (or Isolate, Reset) waiting to be logged and
// passed to OnStateChange.
type event struct {
	kind      eventKind
	from, to  State
	counts    Counts
	trip      tripInfo  // eventTrip
	verdict   error     // eventReopen
	nextProbe time.Time // eventTrip, eventReopen
}

func (e *event) message() string {
	switch e.kind {
	case eventTrip:
		return "circuit breaker opened"
	case eventReopen:
		return "circuit breaker reopened"
	case eventHalfOpen:
		return "circuit breaker half-open"
	case eventClose:
		return "circuit breaker closed"
	case eventIsolate:
		return "circuit breaker isolated"
	default:
		return "circuit breaker reset"
	}
}

func (e *event) reason(halfOpenRequests uint32) string {
	switch e.kind {
	case eventTrip:
		return e.trip.String()
	case eventReopen:
		return describeProbe(e.verdict)
	case eventHalfOpen:
		return "open timeout passed"
	case eventClose:
		n := strconv.FormatUint(uint64(halfOpenRequests), 10)
		return n + " of " + n + " probes succeeded"
	case eventIsolate:
		return "Isolate called"
	default:
		return "Reset called"
	}
}

// enqueue queues e for dispatch. mu must be held.
func (cb *CircuitBreaker) enqueue(e event) {
	cb.pending = append(cb.pending, e)
	cb.hasPending.Store(true)
}

// dispatch logs the pending events and passes them to OnStateChange, with
// no lock held. Only one goroutine delivers at a time, so events arrive in
// order and the hook is never called concurrently; a goroutine that finds
// another one delivering leaves its events to it.
func (cb *CircuitBreaker) dispatch() {
	if !cb.hasPending.Load() {
		return
	}
	for {
		cb.mu.Lock()
		if cb.dispatching || len(cb.pending) == 0 {
			cb.mu.Unlock()
			return
		}
		evs := cb.pending
		cb.pending = nil
		cb.hasPending.Store(false)
		cb.dispatching = true
		cb.mu.Unlock()
		cb.deliver(evs)
	}
}

func (cb *CircuitBreaker) deliver(evs []event) {
	// Deferred so that a panicking hook does not stop every later
	// delivery.
	defer func() {
		cb.mu.Lock()
		cb.dispatching = false
		cb.mu.Unlock()
	}()
	for i := range evs {
		e := &evs[i]
		cb.log(e)
		if hook := cb.cfg.OnStateChange; hook != nil && e.from != e.to {
			hook(cb.cfg.Name, e.from, e.to)
		}
	}
}

func (cb *CircuitBreaker) log(e *event) {
	l := cb.cfg.logger()
	level := slog.LevelInfo
	if e.to == StateOpen {
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !l.Enabled(ctx, level) {
		return
	}
	c := &e.counts
	attrs := []slog.Attr{
		slog.String("breaker", cb.cfg.Name),
		slog.String("from", e.from.String()),
		slog.String("to", e.to.String()),
		slog.String("reason", e.reason(cb.cfg.HalfOpenRequests)),
		slog.Group("counts",
			slog.Uint64("calls", c.Calls),
			slog.Uint64("successes", c.Successes),
			slog.Uint64("failures", c.Failures),
			slog.Uint64("timeouts", c.Timeouts),
			slog.Uint64("slow", c.SlowCalls),
			slog.Uint64("excluded", c.Excluded),
			slog.Uint64("consecutive_failures", uint64(c.ConsecutiveFailures)),
			slog.Float64("failure_rate", c.FailureRate),
			slog.Float64("timeout_rate", c.TimeoutRate),
			slog.Float64("slow_call_rate", c.SlowCallRate),
		),
	}
	if !e.nextProbe.IsZero() {
		attrs = append(attrs, slog.Time("next_probe", e.nextProbe))
	}
	l.LogAttrs(ctx, level, e.message(), attrs...)
}
