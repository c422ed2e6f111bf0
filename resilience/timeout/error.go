package timeout

import (
	"context"
	"time"
)

// Error is the error of a timeout policy whose own limit fired. Exactly one
// of Duration ([WithTimeout], [Limit], [WithAdaptive], [WithPredicted]) and
// Deadline ([WithDeadline]) is set.
// errors.Is(err, [context.DeadlineExceeded]) holds for it, and it is a
// [net.Error] whose Timeout method returns true. See "Errors" in the
// package documentation.
//
// Each call gets an *Error of its own; it is not changed after it is
// returned.
type Error struct {
	// Duration is the limit of WithTimeout, counted from each call's start,
	// or the limit an adaptive or predicted call had.
	Duration time.Duration
	// Deadline is the limit of WithDeadline.
	Deadline time.Time
	// Err is what the call returned after the limit fired, or
	// [context.DeadlineExceeded] when it did not return (fn was not called,
	// or it was abandoned).
	Err error

	rejected bool // fn was not called; see Rejected
}

// Error returns "timeout after <Duration>: <Err>" or "deadline <Deadline
// in RFC 3339> exceeded: <Err>".
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

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is [context.DeadlineExceeded].
func (e *Error) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout returns true.
func (e *Error) Timeout() bool { return true }

// Temporary returns true. It exists only so that an *Error is a
// [net.Error]; the method is deprecated there.
func (e *Error) Temporary() bool { return true }

// Retryable reports whether a new attempt may succeed: true for a duration,
// which the next attempt gets afresh; false for a deadline, which stays
// passed.
func (e *Error) Retryable() bool { return e.Deadline.IsZero() }

// Rejected reports whether the limit had passed before fn could be called,
// so fn was not called (see [resilience.OutcomeRejected]).
func (e *Error) Rejected() bool { return e.rejected }
