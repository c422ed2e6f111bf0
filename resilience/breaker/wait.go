package breaker

import (
	"context"
	"math/bits"
	"time"

	"github.com/steadyhq/steady/internal/clock"
)

// The bounds of the pace at which waiters are let through after a probe
// closes the breaker (one probe's duration). The probe is a whole call,
// retries and their backoff included when Retry is inside the breaker, so
// its duration can be far longer than one request's: the cap keeps 1,000
// waiters within 10 rounds of 25ms, well inside their deadlines.
const (
	minRampStep = time.Millisecond
	maxRampStep = 25 * time.Millisecond
)

// Wait is [CircuitBreaker.Allow] for a caller that can wait: when the
// breaker rejects the call and Settings.MaxWaiting allows, the call waits
// for the breaker to let calls through again, for no longer than ctx
// allows, and then gets its Ticket. It returns the rejection at once when
// the breaker is isolated, when MaxWaiting calls are waiting already, and
// when ctx's deadline comes before the next probe (the call could not get
// through in time); and it returns it when ctx ends while it waits. A
// waiting call may become a probe of the half-open breaker. When a probe
// closes the breaker, the waiters are let through in rounds that double,
// one probe's duration apart. With MaxWaiting 0, Wait is Allow.
//
// [Breaker] calls Wait when MaxWaiting is set. The rejection is counted in
// Snapshot.Rejected once, however long the call waited; Snapshot.Waiting
// counts the calls waiting now.
func (cb *CircuitBreaker) Wait(ctx context.Context) (Ticket, error) {
	t, ph := cb.try()
	if ph == nil {
		return t, nil
	}
	if cb.cfg.MaxWaiting == 0 || !mayWait(ctx, ph) {
		return cb.reject(ph)
	}
	if cb.waiting.Add(1) > int64(cb.cfg.MaxWaiting) {
		cb.waiting.Add(-1)
		return cb.reject(ph)
	}
	defer cb.waiting.Add(-1)
	last := ph // the last phase that rejected the call: its error is the one to return
	for {
		select {
		case <-ph.ended:
		case <-ctx.Done():
			return cb.reject(last)
		}
		ph = cb.cur.Load()
		if ph.mode == modeClosed && !cb.rampUp(ctx, ph) {
			if ctx.Err() != nil {
				return cb.reject(last)
			}
			continue // the closed phase ended while the call waited its turn
		}
		t, rejectedBy := cb.try()
		if rejectedBy == nil {
			cb.waited.Add(1)
			return t, nil
		}
		ph, last = rejectedBy, rejectedBy
		if !mayWait(ctx, ph) {
			return cb.reject(ph)
		}
	}
}

// mayWait reports whether a call with ctx may wait for the phase ph to
// end: not while isolated (no probe is coming), and not when its deadline
// comes before the open phase's next probe.
func mayWait(ctx context.Context, ph *phase) bool {
	if ph.mode == modeIsolated {
		return false
	}
	if d, ok := ctx.Deadline(); ok && ph.mode == modeOpen && d.Before(ph.rejectErr.NextProbe) {
		return false
	}
	return true
}

// rampUp waits for the call's turn in the closed phase ph: the n-th waiter
// to arrive goes after ceil(log2(n)) steps of one probe's duration, so the
// first goes at once, then 1, 2, 4, 8... It reports false if ctx ended or
// ph ended first.
func (cb *CircuitBreaker) rampUp(ctx context.Context, ph *phase) bool {
	n := ph.ramp.Add(1)
	step := min(max(ph.step, minRampStep), maxRampStep)
	if ph.step == 0 {
		return true // closed by Reset, not by a probe: no ramp
	}
	turn := ph.origin + time.Duration(bits.Len64(uint64(n-1)))*step
	wait := turn - clock.Now()
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ph.ended:
		return false
	case <-ctx.Done():
		return false
	}
}
