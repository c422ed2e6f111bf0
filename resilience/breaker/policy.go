package breaker

import (
	"context"
	"time"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/resilience"
)

// Breaker returns a Policy that sends calls through cb: while cb is closed
// it calls next and counts how the call ended; while cb is open (or
// isolated, or half-open with every probe slot taken) it returns an
// [*OpenError] at once, without calling next (errors.Is(err, [ErrOpen])
// holds); while cb is half-open it lets up to Settings.HalfOpenRequests
// probe calls through.
//
// Otherwise next's result and error are returned unchanged. A panic in next
// counts as a failure and goes on up the stack with its original value.
//
// The Policy and the Funcs it builds are safe for concurrent use; any
// number of them, of any result type, may share one cb.
//
// Put Breaker outside retries and timeouts (see package resilience for the
// recommended order), so that a timeout.WithTimeout inside it makes slow
// calls count as timeouts and the breaker sees each logical call once.
//
// A nil cb makes every call return a [*resilience.ConfigError] without
// calling next; a nil next yields a Func that returns
// [resilience.ErrNilFunc], and a nil context gives
// [resilience.ErrNilContext].
func Breaker[T any](cb *CircuitBreaker) resilience.Policy[T] {
	if cb == nil {
		err := &resilience.ConfigError{Pkg: "breaker", Field: "Breaker(cb)", Want: "a breaker from New"}
		return func(resilience.Func[T]) resilience.Func[T] { return resilience.Fail[T](err) }
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			return resilience.Fail[T](resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (T, error) {
			if ctx == nil {
				var zero T
				return zero, resilience.ErrNilContext
			}
			ph := cb.phase()
			switch ph.mode {
			case modeClosed:
				return callClosed(cb, ph, ctx, next)
			case modeOpen, modeIsolated:
				cb.rejected.Add()
				var zero T
				return zero, ph.rejectErr
			default:
				return callProbe(cb, ph, ctx, next)
			}
		}
	}
}

// callClosed runs next while the breaker is closed: no lock, no gobreaker.
func callClosed[T any](cb *CircuitBreaker, ph *phase, ctx context.Context, next resilience.Func[T]) (T, error) {
	var start time.Duration
	if cb.cfg.SlowCallDuration > 0 {
		start = clock.Now()
	}
	returned := false
	defer func() {
		if !returned {
			// next panicked (or called runtime.Goexit). Not recovering
			// lets the panic go on with its original value and stack.
			cb.record(ph, clock.Now(), kindFailure)
		}
	}()
	v, err := next(ctx)
	returned = true
	now := clock.Now()
	cb.record(ph, now, cb.kindOf(ctx, err, now-start))
	return v, err
}

// kindOf classifies a call that took d and returned err.
func (cb *CircuitBreaker) kindOf(ctx context.Context, err error, d time.Duration) kind {
	if err != nil {
		switch resilience.Classify(ctx, err) {
		case resilience.OutcomeFailure:
			if f := cb.cfg.IsFailure; f == nil || f(err) {
				return kindFailure
			}
		case resilience.OutcomeTimeout:
			return kindTimeout
		default:
			// The caller canceled or its own deadline passed, or a policy
			// inside refused the call without calling the dependency (a
			// nested breaker, a deadline already past): none of it says
			// anything about the dependency's health.
			return kindExcluded
		}
	}
	if s := cb.cfg.SlowCallDuration; s > 0 && d >= s {
		return kindSlow
	}
	return kindSuccess
}

// record counts a call of ph that ended at now as k, and trips the breaker
// if a rule fires.
func (cb *CircuitBreaker) record(ph *phase, now time.Duration, k kind) {
	if cb.cur.Load() != ph {
		return // the state changed while the call ran
	}
	ph.win.add(now, k)
	if cb.cfg.mayTrip[k] {
		if _, ok := cb.evaluate(ph.win, now); ok {
			cb.trip(ph.m)
		}
	}
}

// callProbe runs next through gobreaker, which decides whether it may run
// (half-open: is a probe slot free?) and changes state on its outcome.
func callProbe[T any](cb *CircuitBreaker, ph *phase, ctx context.Context, next resilience.Func[T]) (T, error) {
	var zero T
	if ph.state == StateHalfOpen {
		// Probes in flight never exceed the probes gobreaker admitted, so
		// this rejects without its mutex when every slot is surely taken.
		if int64(ph.probes.Add(1)) > int64(cb.cfg.HalfOpenRequests) {
			ph.probes.Add(-1)
			cb.rejected.Add()
			return zero, ph.rejectErr
		}
		defer ph.probes.Add(-1)
	}
	// Deferred so that a panicking probe's state change is delivered too.
	defer cb.dispatch()

	var (
		v   T
		err error
		ran bool
		// closed is set when gobreaker had closed by the time it admitted
		// the call (another probe closed it since the gate looked). The
		// call is then an ordinary closed-state call: record counts it in
		// the window and trips the breaker if a rule fires, as callClosed
		// does, and gobreaker is told a success, which changes nothing in
		// its closed state. (A panic it sees as a failure, and asks the
		// rules about the window; record then counts the panic.)
		closed   *phase
		end      time.Duration
		k        kind
		returned bool
	)
	defer func() {
		if closed != nil && !returned {
			// next panicked (gobreaker re-panics with its value) or
			// called runtime.Goexit.
			cb.record(closed, clock.Now(), kindFailure)
		}
	}()
	_, _ = ph.m.gb.Execute(func() (struct{}, error) {
		ran = true
		if cur := cb.cur.Load(); cur.mode == modeClosed && cur.m == ph.m {
			closed = cur
		}
		start := clock.Now()
		v, err = next(ctx) // gobreaker counts a panic as a failure and re-panics
		end = clock.Now()
		k = cb.kindOf(ctx, err, end-start)
		if closed != nil || k == kindSuccess || k == kindSlow && cb.cfg.SlowCallRate == 0 {
			return struct{}{}, nil
		}
		return struct{}{}, verdicts[k]
	})
	returned = true
	if !ran {
		cb.rejected.Add()
		return zero, cb.rejection(ph)
	}
	if closed != nil {
		cb.record(closed, end, k)
	}
	return v, err
}

// rejection returns the error for a call that gobreaker turned away.
func (cb *CircuitBreaker) rejection(ph *phase) error {
	if cur := cb.cur.Load(); cur.rejectErr != nil {
		return cur.rejectErr
	}
	return ph.rejectErr
}
