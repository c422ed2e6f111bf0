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
	minRampStep = 10 * time.Millisecond
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
// closes the breaker, the waiters are let through paced by success (see
// "Waiting for recovery" in the package documentation). With MaxWaiting 0,
// Wait is Allow.
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
	last := ph           // the last phase that rejected the call: its error is the one to return
	var leaseSeen *phase // the half-open phase whose granted lease woke the call already
	for {
		var granted chan struct{} // nil: never ready
		if ph != leaseSeen {
			granted = ph.granted
		}
		select {
		case <-ph.ended:
		case <-granted:
			// The fleet's probe lease came to this half-open phase: its
			// probe slots are open, and the call may take one.
			leaseSeen = ph
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

// rampUp waits for the call's turn in the closed phase ph, which a probe
// has just closed. The release is paced by success, as TCP's slow start
// is by acknowledgements: each call that succeeds after the close lets two
// more waiters through (the n-th waiter goes once 2·(1 + successes) >= n),
// so the dependency meets a load that doubles with each round trip it
// answers, and stops growing as soon as it stops answering. So that
// waiters are not held by a dependency that answers slowly, the n-th also
// goes after ceil(log2 n) steps of one probe's duration (within [10ms,
// 25ms]) at the latest. rampUp reports false if ctx ended or ph ended
// first.
func (cb *CircuitBreaker) rampUp(ctx context.Context, ph *phase) bool {
	n := ph.ramp.Add(1)
	if ph.step == 0 {
		return true // closed by Reset, not by a probe: no ramp
	}
	step := min(max(ph.step, minRampStep), maxRampStep)
	latest := ph.origin + time.Duration(bits.Len64(uint64(n-1)))*step
	var t *time.Timer
	for {
		if 2*(1+ph.rampOK.Load()) >= n {
			return true
		}
		wait := latest - clock.Now()
		if wait <= 0 {
			return true
		}
		progress := ph.progressChan()
		if 2*(1+ph.rampOK.Load()) >= n {
			return true // a success came between the check and the channel
		}
		if t == nil {
			t = time.NewTimer(wait)
			defer t.Stop()
		}
		select {
		case <-progress:
		case <-t.C:
			return true
		case <-ph.ended:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// progressChan returns the channel that the next success closes.
func (ph *phase) progressChan() chan struct{} {
	for {
		if c := ph.progress.Load(); c != nil {
			return *c
		}
		c := make(chan struct{})
		if ph.progress.CompareAndSwap(nil, &c) {
			return c
		}
	}
}

// rampSucceeded counts a success in a closed phase that a probe began, and
// wakes the waiters, if any wait.
func (ph *phase) rampSucceeded() {
	ph.rampOK.Add(1)
	if c := ph.progress.Swap(nil); c != nil {
		close(*c)
	}
}
