package breaker

import (
	"errors"
	"strconv"
	"time"
)

// ErrOpen matches every call a [CircuitBreaker] rejects (open, isolated, or
// half-open with every probe slot taken): errors.Is(err, breaker.ErrOpen).
// The error itself is an [*OpenError].
var ErrOpen = errors.New("breaker: circuit open")

// OpenError is the error a [CircuitBreaker] returns for a call it rejects;
// use [errors.As] with an *OpenError target to read when the next probe is
// due. Its message says why, e.g.
//
//	breaker "payments": circuit open, next probe in 4.2s
//	breaker "payments": circuit half-open, probe slots taken
//	breaker "payments": circuit isolated, held open until Reset
//
// It is a rejection ([resilience.RejectedError]) that is not retryable
// ([resilience.RetryableError]), and it has a RetryAfter. One OpenError is
// returned to every call rejected in one phase, so rejecting does not
// allocate: treat it as read-only.
type OpenError struct {
	// Name is the breaker's Settings.Name.
	Name string
	// State is StateOpen, or StateHalfOpen when the breaker is half-open and
	// every probe slot is taken.
	State State
	// Isolated is true when the breaker is held open by
	// [CircuitBreaker.Isolate]; then no probe is scheduled.
	Isolated bool
	// NextProbe is when the open breaker lets the next probe through; zero
	// when State is StateHalfOpen or Isolated is true. Its monotonic clock
	// reading makes RetryAfter immune to wall-clock jumps.
	NextProbe time.Time
}

// Error returns the message described on [OpenError]. The "next probe in"
// part is computed when Error is called.
func (e *OpenError) Error() string {
	var b []byte
	b = append(b, "breaker"...)
	if e.Name != "" {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, e.Name)
	}
	switch {
	case e.Isolated:
		b = append(b, ": circuit isolated, held open until Reset"...)
	case e.State == StateHalfOpen:
		b = append(b, ": circuit half-open, probe slots taken"...)
	default:
		b = append(b, ": circuit open, next probe "...)
		if d := e.RetryAfter(); d > 0 {
			b = append(b, "in "...)
			b = append(b, roundForHumans(d).String()...)
		} else {
			b = append(b, "due now"...)
		}
	}
	return string(b)
}

// Is reports whether target is [ErrOpen].
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// Retryable returns false: retrying cannot get past an open breaker
// sooner, and would only add load.
func (e *OpenError) Retryable() bool { return false }

// Rejected returns true: the dependency was not called.
func (e *OpenError) Rejected() bool { return true }

// RetryAfter returns how long from now until the breaker lets the next
// probe through: 0 when the probe is already due, when the breaker is
// half-open, and when it is isolated (no probe is scheduled).
func (e *OpenError) RetryAfter() time.Duration {
	if e.Isolated || e.State != StateOpen || e.NextProbe.IsZero() {
		return 0
	}
	return max(0, time.Until(e.NextProbe))
}

// roundForHumans rounds d to 100ms above a second and to 1ms below it, so a
// message reads "next probe in 4.2s" rather than "4.213374512s".
func roundForHumans(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	if r := d.Round(time.Millisecond); r > 0 {
		return r
	}
	return d
}
