package timeout

import (
	"context"
	"time"
)

// Error is the error a timeout policy returns when its own limit fired: the
// duration of [WithTimeout] or the deadline of [WithDeadline]. Exactly one
// of Duration and Deadline is set, and it says which limit fired.
//
// An *Error wraps what the call returned ([Error.Unwrap]), and it is also a
// timeout in every sense the standard library knows:
// errors.Is(err, [context.DeadlineExceeded]) is true, and it has the
// Timeout() bool method of [net.Error] (true). Get at the limit with
// [errors.As] and a *Error target:
//
//	var te *timeout.Error
//	if errors.As(err, &te) {
//		log.Printf("gave up after %v", te.Duration)
//	}
//
// A limit that is not the policy's own (a shorter deadline of the caller's
// context, the caller's cancellation) is never reported as an *Error: that
// error is passed through unchanged.
//
// Inside the call, [context.Cause] of the context that fn receives is also
// an *Error (with Err set to [context.DeadlineExceeded]) once the policy's
// limit has fired, so fn can tell the policy's limit from its caller's.
//
// Two methods tell the policies around the call what the *Error means for
// them: [Error.Retryable] (for resilience/retry) is false for a
// [WithDeadline] limit, which no new attempt can meet, and
// [Error.Rejected] (for a breaker or monitor outside) is true when the
// policy refused the call without calling fn, because its limit had
// already passed when the call started.
//
// The zero value reads "timeout" and is usable, but policies always set
// Duration or Deadline. An *Error is not modified after it is returned.
type Error struct {
	// Duration is the limit of a [WithTimeout] policy, counted from the
	// start of each call. It is zero for [WithDeadline].
	Duration time.Duration

	// Deadline is the limit of a [WithDeadline] policy. It is the zero
	// time for [WithTimeout].
	Deadline time.Time

	// Err is what the call returned after the limit fired, or
	// [context.DeadlineExceeded] when the call did not return at all (a
	// limit that had passed before fn was called, or a call abandoned with
	// [Abandon]).
	Err error

	// rejected is true when the limit had passed before fn was called, so
	// fn was not called at all. Only the policies set it; see Rejected.
	rejected bool
}

// Error returns "timeout after <Duration>: <Err>" for a [WithTimeout] limit
// and "deadline <Deadline in RFC 3339> exceeded: <Err>" for a
// [WithDeadline] limit, e.g.
//
//	timeout after 2s: context deadline exceeded
//	deadline 2026-11-23T10:00:00Z exceeded: context deadline exceeded
func (e *Error) Error() string {
	var s string
	switch {
	case !e.Deadline.IsZero():
		s = "deadline " + e.Deadline.Format(time.RFC3339Nano) + " exceeded"
	case e.Duration != 0:
		s = "timeout after " + e.Duration.String()
	default:
		s = "timeout"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err, what the call returned.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is [context.DeadlineExceeded], so that
// errors.Is(err, context.DeadlineExceeded) holds for every *Error, whatever
// the call returned.
func (e *Error) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout returns true: an *Error is a timeout, as [net.Error] defines it.
func (e *Error) Timeout() bool { return true }

// Retryable reports whether trying the call again may succeed, for
// resilience/retry and any code that honours a Retryable() bool method: true
// for a [WithTimeout] limit (Duration set), since the next attempt gets a
// fresh Duration and may be faster; false for a [WithDeadline] limit
// (Deadline set), since a deadline that has passed stays passed, and a
// retry would only be refused at once, or after sleeping through its
// backoff, to no purpose.
func (e *Error) Retryable() bool { return e.Deadline.IsZero() }

// Rejected reports whether the policy refused the call without calling fn,
// because its own limit had already passed when the call started: a
// [WithDeadline] whose deadline was in the past, or a [WithTimeout] so short
// that it expired before fn could be called. Err is then
// [context.DeadlineExceeded].
//
// A rejected call says nothing about the dependency, which was never
// called: [resilience.Classify] reports it as [resilience.OutcomeRejected]
// rather than a timeout, so that a breaker outside does not count it
// against the dependency and monitoring keeps it out of the timeout rate.
// It is false for every other *Error, including one built by hand.
func (e *Error) Rejected() bool { return e.rejected }

// Temporary returns true, as the standard library's timeout errors do. It
// exists only so that an *Error satisfies [net.Error] and is found by
// errors.As(err, &netErr); the method is deprecated there and should not be
// relied on.
func (e *Error) Temporary() bool { return true }

// wrap returns a new *Error for the same limit as e (a policy's cause),
// wrapping err. The cause is shared by every call of a policy, so it is
// never returned from a call itself: a caller that kept or changed the
// *Error it received cannot affect what other calls see. When fn returned
// the cause itself (it read [context.Cause] and passed it on), the new
// *Error wraps [context.DeadlineExceeded] instead, so the limit is not
// printed twice.
func (e *Error) wrap(err error) *Error {
	if err == error(e) {
		err = context.DeadlineExceeded
	}
	return &Error{Duration: e.Duration, Deadline: e.Deadline, Err: err}
}
