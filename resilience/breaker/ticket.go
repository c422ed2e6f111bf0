package breaker

import (
	"context"
	"time"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/internal/hook"
	"github.com/steadyhq/steady/resilience"
)

// Ticket is the breaker's permission for one call, from
// [CircuitBreaker.Allow]. It remembers the phase of the breaker that let the
// call through and, with Settings.SlowCallDuration, when the call started.
// It is a small value: copy it freely, and hand it to [Ticket.Done] exactly
// once when the call has ended. The zero Ticket's Done does nothing.
//
// A Ticket whose Done never comes holds nothing while the breaker is
// closed: its call is just not counted. A half-open probe's Ticket holds a
// probe slot, but not for ever: once every slot is taken and no probe has
// been let through for OpenTimeout, the next call takes the probes out as
// failed and reopens the breaker ("probe did not report within
// OpenTimeout"). A Done that comes after that is not counted.
type Ticket struct {
	cb    *CircuitBreaker
	ph    *phase
	start time.Duration // clock reading at Allow; set only with SlowCallDuration
}

// Allow asks the breaker whether a call may go ahead. If it may, Allow
// returns a [Ticket] whose [Ticket.Done] must be called with the call's
// outcome; a probe's Ticket whose Done never comes counts as failed after
// OpenTimeout (see [Ticket]). If not (open, isolated, or half-open with
// every probe slot taken), it returns the [*OpenError] to give the caller
// and counts the call in Snapshot.Rejected. Use Allow to guard what is not
// a [resilience.Func], such as an HTTP response whose body is still being
// read; [Breaker] does this for a Func.
//
// A closed breaker lets a call through without a lock or an allocation,
// and an open one rejects it the same way.
func (cb *CircuitBreaker) Allow() (Ticket, error) {
	t, ph := cb.try()
	if ph != nil {
		return cb.reject(ph)
	}
	return t, nil
}

// try lets a call through, or returns the phase that rejects it, without
// counting the rejection.
func (cb *CircuitBreaker) try() (Ticket, *phase) {
	ph := cb.phase()
	switch ph.mode {
	case modeClosed:
		return cb.ticket(ph), nil
	case modeHalfOpen:
		return cb.tryProbe(ph)
	}
	return Ticket{}, ph
}

// tryProbe lets a call through as a probe of the half-open phase ph if a
// probe slot is free. If every slot is taken it returns ph, the phase that
// rejects the call, unless the probes are lost (see expireProbes).
func (cb *CircuitBreaker) tryProbe(ph *phase) (Ticket, *phase) {
	for n := ph.probes.Load(); n < cb.cfg.HalfOpenRequests; n = ph.probes.Load() {
		// Noted before the slot is taken, so that a call that finds every
		// slot taken also finds when the last was.
		ph.lastProbe.Store(int64(clock.Now()))
		if !ph.probes.CompareAndSwap(n, n+1) {
			continue
		}
		if cb.cur.Load() == ph {
			return cb.ticket(ph), nil
		}
		// ph ended after Allow loaded it (a probe reopened or closed the
		// breaker): the slot was taken too late. Give it back, and ask the
		// phase that followed.
		ph.probes.Add(^uint32(0))
		return cb.try()
	}
	if ph.leaseWait && !ph.demand.Load() && ph.demand.CompareAndSwap(false, true) {
		cb.kickSync() // a call wants through: ask the fleet for the probe lease now
	}
	if cb.cur.Load() == ph && !cb.expireProbes(ph) {
		return Ticket{}, ph
	}
	return cb.try() // ph has ended, or a slot was freed
}

// reject counts a call rejected in phase ph and returns ph's error.
func (cb *CircuitBreaker) reject(ph *phase) (Ticket, error) {
	cb.rejected.Add(1)
	return Ticket{}, ph.rejectErr
}

func (cb *CircuitBreaker) ticket(ph *phase) Ticket {
	t := Ticket{cb: cb, ph: ph}
	if cb.cfg.SlowCallDuration > 0 {
		t.start = clock.Now()
	}
	return t
}

// Done reports how the call of t ended: err is its error (nil for a
// success) and ctx the context the caller made it with, so that the
// caller's own cancellation and deadline are not held against the
// dependency (see "What counts" in the package documentation). Done may
// change the breaker's state; it does not count the outcome if the state
// changed while the call ran.
func (t Ticket) Done(ctx context.Context, err error) {
	if t.ph == nil {
		return
	}
	now := clock.Now()
	t.cb.record(t.ph, now, t.cb.cfg.kindOf(ctx, err, now-t.start), nil)
}

// panicked reports that the call of t panicked with v (nil after
// runtime.Goexit): a failure.
func (t Ticket) panicked(v any) {
	t.cb.record(t.ph, clock.Now(), kindFailure, v)
}

// kindOf classifies a call that took d and returned err.
func (c *config) kindOf(ctx context.Context, err error, d time.Duration) kind {
	if err != nil {
		switch resilience.Classify(ctx, err) {
		case resilience.OutcomeFailure:
			if c.IsFailure == nil || c.isFailure(err) {
				return kindFailure
			}
		case resilience.OutcomeTimeout:
			return kindTimeout
		default:
			// The caller canceled or its own deadline passed, or a policy
			// inside refused the call: nothing about the dependency.
			return kindExcluded
		}
	}
	if c.SlowCallDuration > 0 && d >= c.SlowCallDuration {
		return kindSlow
	}
	return kindSuccess
}

// isFailure asks Settings.IsFailure about err. A panic in it is recovered
// and reported like any hook's, and the call counts as a failure: the
// caller still gets the call's own result, and a probe still reports.
func (c *config) isFailure(err error) bool {
	fail := true
	hook.Call(c.Logger, "breaker: IsFailure", func() { fail = c.IsFailure(err) })
	return fail
}
