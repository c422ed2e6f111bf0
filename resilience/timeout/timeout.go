package timeout

import (
	"context"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// WithTimeout returns a Policy that gives each call d from its start: fn
// receives a context that expires d later, or earlier if the caller's
// context does. When fn fails after d has passed, the call returns an
// [*Error] wrapping fn's error; any other result passes through unchanged.
// fn is not called on a context that is already done.
//
// By default fn runs in the caller's goroutine and the call returns when fn
// does; [Abandon] returns at the limit. A d <= 0, or an invalid Option,
// panics with a [*resilience.ConfigError] when the policy is made.
func WithTimeout[T any](d time.Duration, opts ...Option) resilience.Policy[T] {
	if d <= 0 {
		panic(&resilience.ConfigError{Pkg: "timeout", Field: "WithTimeout(d)", Value: d, Want: "> 0"})
	}
	return policy[T](newLimit(d, time.Time{}), newOptions(opts))
}

// WithDeadline returns a Policy that gives every call the same absolute
// deadline, as [WithTimeout] gives each call a duration. A call made after
// deadline fails at once with an [*Error], without calling fn; that error is
// a rejection and is not retryable. A zero deadline, or an invalid Option,
// panics with a [*resilience.ConfigError] when the policy is made.
func WithDeadline[T any](deadline time.Time, opts ...Option) resilience.Policy[T] {
	if deadline.IsZero() {
		panic(&resilience.ConfigError{Pkg: "timeout", Field: "WithDeadline(deadline)", Value: "the zero time", Want: "a time"})
	}
	return policy[T](newLimit(0, deadline), newOptions(opts))
}

// limit is one policy's limit and the cause its contexts are canceled with.
type limit struct {
	d        time.Duration // > 0 for WithTimeout
	deadline time.Time     // for WithDeadline (d == 0)

	// cause is made once per limit and compared by identity, to tell this
	// limit from every other reason a context can end. It is what
	// context.Cause reports inside fn, and it may come back inside fn's
	// error, so it is immutable and reads like context.DeadlineExceeded.
	cause *expiry
}

// expiry is the context cause of a limit. It is not an *Error: a shared
// *Error in a returned chain could be changed by one caller under another,
// and its message would repeat the limit.
type expiry struct{ l *limit }

func (*expiry) Error() string        { return context.DeadlineExceeded.Error() }
func (*expiry) Is(target error) bool { return target == context.DeadlineExceeded }
func (*expiry) Timeout() bool        { return true }

func newLimit(d time.Duration, deadline time.Time) *limit {
	l := &limit{d: d, deadline: deadline}
	l.cause = &expiry{l}
	return l
}

// derive returns the context for one call. When the limit has already
// passed, the context is already done with cause as its cause.
func (l *limit) derive(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.d > 0 {
		return context.WithTimeoutCause(ctx, l.d, l.cause)
	}
	return context.WithDeadlineCause(ctx, l.deadline, l.cause)
}

// fired reports whether tctx, made by derive, ended because of this limit
// rather than the caller's cancellation or deadline. Call it before the
// call's cancel func, which would otherwise be the cause.
func (l *limit) fired(tctx context.Context) bool {
	return context.Cause(tctx) == error(l.cause)
}

// wrap returns the *Error for a call whose limit fired and that returned
// err (nil: it did not return).
func (l *limit) wrap(err error, rejected bool) *Error {
	if err == nil || err == error(l.cause) {
		err = context.DeadlineExceeded
	}
	return &Error{Duration: l.d, Deadline: l.deadline, Err: err, rejected: rejected}
}

// ended returns the error for a call whose context tctx is done while fn
// has not returned to the caller: an *Error when this limit fired, else the
// caller's own error, unchanged.
func (l *limit) ended(ctx, tctx context.Context, rejected bool) error {
	if l.fired(tctx) {
		return l.wrap(nil, rejected)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return tctx.Err()
}

func policy[T any](l *limit, o options) resilience.Policy[T] {
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		if o.abandon {
			return abandoning(l, next, o.gauge)
		}
		return cooperative(l, next)
	}
}

// cooperative runs next in the caller's goroutine under the limit. Besides
// what context.WithTimeout costs, it adds one atomic load on success and
// nothing on the heap.
func cooperative[T any](l *limit, next resilience.Func[T]) resilience.Func[T] {
	return func(ctx context.Context) (T, error) {
		if ctx == nil {
			var zero T
			return zero, resilience.ErrNilContext
		}
		tctx, cancel := l.derive(ctx)
		// Deferred so that a panicking next does not leave the timer armed.
		defer cancel()
		if tctx.Err() != nil {
			var zero T
			return zero, l.ended(ctx, tctx, true)
		}
		v, err := next(tctx)
		if err != nil && l.fired(tctx) {
			return v, l.wrap(err, false)
		}
		return v, err
	}
}
