package breaker

import (
	"context"

	"github.com/steadyhq/steady/resilience"
)

// Breaker returns a Policy that sends calls through cb: [CircuitBreaker.Allow]
// (or [CircuitBreaker.Wait], with Settings.MaxWaiting) decides whether next
// is called, and the call's outcome is reported to
// [Ticket.Done]. A rejected call returns cb's [*OpenError] without calling
// next; otherwise next's result and error come back unchanged. A panic in
// next counts as a failure and goes on up with its original value.
//
// The Policy and its Funcs are safe for concurrent use, and any number of
// them, of any result type, may share cb.
//
// With Settings.MaxWaiting, a call the breaker rejects waits for it to let
// calls through again (see [CircuitBreaker.Wait]); a waiting call may be a
// half-open probe, and then it returns the probe's result, success or
// failure (it is never run twice: it may not be idempotent).
//
// A nil cb panics with a [*resilience.ConfigError], and applying the Policy
// to a nil next panics with [resilience.ErrNilFunc]: both are mistakes in
// the program, found when the pipeline is built. A nil context at call time
// returns [resilience.ErrNilContext].
func Breaker[T any](cb *CircuitBreaker) resilience.Policy[T] {
	if cb == nil {
		panic(&resilience.ConfigError{Pkg: "breaker", Field: "Breaker(cb)", Want: "a breaker from New"})
	}
	cb.phase() // initializes a zero CircuitBreaker, so cfg is set for good
	wait := cb.cfg.MaxWaiting > 0
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (v T, err error) {
			if ctx == nil {
				return v, resilience.ErrNilContext
			}
			if !wait {
				t, err := cb.Allow()
				if err != nil {
					return v, err
				}
				return call(ctx, t, next)
			}
			t, err := cb.Wait(ctx)
			if err != nil {
				return v, err
			}
			return call(ctx, t, next)
		}
	}
}

// call calls next under the Ticket t and reports its outcome to t. A panic
// in next counts as a failure and goes on up with its original value.
func call[T any](ctx context.Context, t Ticket, next resilience.Func[T]) (v T, err error) {
	returned := false
	defer func() {
		if !returned {
			// Recovered only to be counted: the panic goes on with its
			// original value (nil after runtime.Goexit, which goes on by
			// itself).
			r := recover()
			t.panicked(r)
			if r != nil {
				panic(r)
			}
		}
	}()
	v, err = next(ctx)
	returned = true
	t.Done(ctx, err)
	return v, err
}
