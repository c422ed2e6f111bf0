package timeout

import (
	"context"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// WithTimeout returns a Policy that gives each call d from its start: fn
// receives a context that expires d later, or earlier if the caller's
// context does (parent deadlines still win).
//
// By default the policy is cooperative: fn runs in the caller's goroutine,
// no goroutine is started, and the call returns when fn returns. If fn
// returns an error after the policy's limit fired, the call returns an
// [*Error] that wraps it (errors.Is(err, [context.DeadlineExceeded]) holds,
// and [errors.As] with a *Error target reads the limit). If fn succeeds,
// its result is returned, even when it finished after the limit. Any other
// error, including the caller's cancellation ([context.Canceled]) and the
// caller's own shorter deadline, is returned unchanged: only the policy's
// own limit makes an *Error. With [Abandon], the call returns when the
// limit fires even if fn does not.
//
// fn is not called on a context that is already done. If d is so short
// that the limit passes before fn could be called, the call returns at once
// an *Error whose Rejected method is true (see [Error.Rejected]); if the
// caller's context is already done (canceled, or its deadline passed), the
// call returns its ctx.Err(), unchanged. An *Error of WithTimeout is
// retryable ([Error.Retryable]): the next attempt gets a fresh d.
//
// The Policy and the Funcs it builds are safe for concurrent use; build
// them once and reuse them.
//
// Bad input is reported, not panicked on: if d <= 0 or an Option is invalid
// (see [Track]), every call returns a [*resilience.ConfigError] without
// calling fn; a nil next Func yields a Func that returns
// [resilience.ErrNilFunc], and a nil context gives
// [resilience.ErrNilContext].
func WithTimeout[T any](d time.Duration, opts ...Option) resilience.Policy[T] {
	o, err := newOptions(opts)
	if d <= 0 {
		err = &resilience.ConfigError{Pkg: "timeout", Field: "WithTimeout(d)", Value: d, Want: "> 0"}
	}
	return policy[T](&limit{d: d, cause: &Error{Duration: d, Err: context.DeadlineExceeded}}, o, err)
}

// WithDeadline returns a Policy that gives every call the same absolute
// deadline: fn receives a context that expires at deadline, or earlier if
// the caller's context does (parent deadlines still win). A call made when
// deadline has already passed returns an [*Error] at once, without calling
// fn, and that *Error's Rejected method is true (see [Error.Rejected]): the
// dependency was not asked, so a breaker outside does not count it. A call
// whose own context is already done (canceled, or its deadline passed,
// even if earlier than deadline) returns its ctx.Err(), unchanged, without
// calling fn either.
//
// Otherwise it behaves as [WithTimeout] does, in both modes, with the
// *Error's Deadline field set instead of Duration. An *Error of
// WithDeadline is not retryable ([Error.Retryable] is false): a deadline
// that has passed cannot be met by trying again. The Policy and the Funcs
// it builds are safe for concurrent use.
//
// A zero deadline, or an invalid Option, makes every call return a
// [*resilience.ConfigError] without calling fn.
func WithDeadline[T any](deadline time.Time, opts ...Option) resilience.Policy[T] {
	o, err := newOptions(opts)
	if deadline.IsZero() {
		err = &resilience.ConfigError{Pkg: "timeout", Field: "WithDeadline(deadline)", Value: deadline, Want: "a non-zero time.Time"}
	}
	return policy[T](&limit{deadline: deadline, cause: &Error{Deadline: deadline, Err: context.DeadlineExceeded}}, o, err)
}

// limit is one policy's limit and the cause its contexts are canceled with.
type limit struct {
	d        time.Duration // > 0 for WithTimeout
	deadline time.Time     // for WithDeadline (d == 0)

	// cause is allocated once per policy, not per call: it is only
	// compared by identity, to tell our limit from every other reason a
	// context can end, and it is what context.Cause reports inside fn.
	cause *Error
}

// derive returns the context for one call. When the limit has already
// passed, the context is already done with cause as its cause.
func (l *limit) derive(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.d > 0 {
		return context.WithTimeoutCause(ctx, l.d, l.cause)
	}
	return context.WithDeadlineCause(ctx, l.deadline, l.cause)
}

// ended returns the error for a call whose context tctx, made by derive
// from the caller's ctx, is done while fn has not returned to the caller:
// an *Error wrapping context.DeadlineExceeded when this limit fired (marked
// rejected when fn was not called at all), and otherwise the caller's own
// error, unchanged (its cancellation, or its deadline). It must be called
// before the call's cancel func, as fired must.
func (l *limit) ended(ctx, tctx context.Context, rejected bool) error {
	if l.fired(tctx) {
		e := l.cause.wrap(context.DeadlineExceeded)
		e.rejected = rejected
		return e
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return tctx.Err()
}

// fired reports whether tctx, made by derive, ended because of this limit
// (and not the caller's cancellation or the caller's own deadline). It must
// be called before the call's cancel func, which would otherwise be the
// cause for a context that had not ended yet.
func (l *limit) fired(tctx context.Context) bool {
	return context.Cause(tctx) == error(l.cause)
}

// policy builds the Policy of either constructor, reporting err (bad
// configuration) from every call.
func policy[T any](l *limit, o options, err error) resilience.Policy[T] {
	return func(next resilience.Func[T]) resilience.Func[T] {
		switch {
		case err != nil:
			return resilience.Fail[T](err)
		case next == nil:
			return resilience.Fail[T](resilience.ErrNilFunc)
		case o.abandon:
			return abandoning(l, next, o.gauge)
		}
		return cooperative(l, next)
	}
}

// cooperative runs next in the caller's goroutine under the limit. This is
// the hot path: besides what context.WithTimeout costs, it adds one atomic
// load (tctx.Err) on success and nothing on the heap.
func cooperative[T any](l *limit, next resilience.Func[T]) resilience.Func[T] {
	return func(ctx context.Context) (T, error) {
		if ctx == nil {
			var zero T
			return zero, resilience.ErrNilContext
		}
		tctx, cancel := l.derive(ctx)
		// Deferred rather than called after next so that a panicking next
		// does not leave the timer armed until the limit.
		defer cancel()
		if tctx.Err() != nil {
			// Our limit or the caller's: either way fn would start on a
			// dead context, so it is not called.
			var zero T
			return zero, l.ended(ctx, tctx, true)
		}
		v, err := next(tctx)
		if err != nil && l.fired(tctx) {
			err = l.cause.wrap(err)
		}
		return v, err
	}
}
