package bulkhead

import (
	"context"

	"github.com/steadyhq/steady/resilience"
)

// Fallback returns a Policy that answers for next when it fails: when next
// returns an error while the caller's context is live, Fallback returns
// fn(ctx, err) instead, where err is next's error, unchanged (test it with
// [errors.Is] and [errors.As], e.g. for [ErrFull] or breaker.ErrOpen). fn
// may return a substitute (a cached value, a default) with a nil error, or
// an error of its own, which may wrap err. A success of next, and next's
// value with its error, are not passed to fn.
//
// fn is called for failures, timeouts inside the call and rejections (an
// open breaker, a full bulkhead): they are what a fallback is for. It is
// not called when the caller's own context has ended (canceled, or its
// deadline passed): the caller has given up and would not use a substitute,
// and a substitute would pass a canceled call off as a success to the
// policies outside. Put a timeout inside Fallback to answer slow calls.
// See "Fallback" in the package documentation.
//
// fn runs in the caller's goroutine with the caller's context, as part of
// the call: a panic in it goes up the caller's stack, as a panic in next
// does (Fallback does not recover either). A nil fn panics with a
// [*resilience.ConfigError], and applying the Policy to a nil next panics
// with [resilience.ErrNilFunc], when the pipeline is built. A nil context
// at call time returns [resilience.ErrNilContext] without calling fn.
func Fallback[T any](fn func(ctx context.Context, err error) (T, error)) resilience.Policy[T] {
	if fn == nil {
		panic(&resilience.ConfigError{Pkg: "bulkhead", Field: "Fallback(fn)", Want: "a fallback function"})
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (T, error) {
			if ctx == nil {
				var zero T
				return zero, resilience.ErrNilContext
			}
			v, err := next(ctx)
			if err == nil || ctx.Err() != nil {
				return v, err
			}
			return fn(ctx, err)
		}
	}
}
