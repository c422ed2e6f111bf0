package retry

import (
	"errors"
	"strconv"
	"time"

	"github.com/steadyhq/steady/resilience/budget"
)

// ErrExhausted is matched by a [*Error] when Retry gave up because every
// one of Config.MaxAttempts attempts failed: errors.Is(err, ErrExhausted).
var ErrExhausted = errors.New("retry: attempts exhausted")

// Error is returned by [Retry] when it gives up on an error it would have
// retried: every one of Config.MaxAttempts attempts failed
// (errors.Is(err, [ErrExhausted])), the next delay would pass the
// context's deadline (NextDelay > 0), or Config.Budget denied the retry
// (errors.Is(err, [budget.ErrExhausted])). Its message is one of
//
//	retry: gave up after 4 attempts: <last error>
//	retry: gave up after 2 attempts, next delay 3s would pass the deadline: <last error>
//	retry: gave up after 1 attempt, retry budget exhausted: <last error>
//
// It unwraps to the last attempt's error. An error that is not retryable,
// and the caller's own cancellation or deadline, are not reported as an
// Error: see [Retry].
type Error struct {
	// Attempts is the number of attempts made, at least 1.
	Attempts int
	// Err is the last attempt's error, without a [Permanent] mark at its
	// top.
	Err error
	// NextDelay is the delay that would have passed the context's
	// deadline; zero when the attempts ran out.
	NextDelay time.Duration

	reason reason
}

// reason is why Retry gave up; the zero value is exhaustion, so that an
// Error built by hand with only Attempts and Err reads naturally.
type reason uint8

const (
	exhausted reason = iota
	pastDeadline
	denied // by Config.Budget
)

// Error returns one of the messages shown on [Error].
func (e *Error) Error() string {
	last := "<nil>"
	if e.Err != nil {
		last = e.Err.Error()
	}
	switch e.reason {
	case pastDeadline:
		return "retry: gave up after " + attempts(e.Attempts) + ", next delay " + e.NextDelay.String() +
			" would pass the deadline: " + last
	case denied:
		return "retry: gave up after " + attempts(e.Attempts) + ", retry budget exhausted: " + last
	}
	return "retry: gave up after " + attempts(e.Attempts) + ": " + last
}

// Unwrap returns Err, the last attempt's error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is [ErrExhausted] and Retry gave up because the
// attempts ran out, or target is [budget.ErrExhausted] and the budget
// denied the retry.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrExhausted:
		return e.reason == exhausted
	case budget.ErrExhausted:
		return e.reason == denied
	}
	return false
}

// attempts returns "1 attempt" or "n attempts".
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}
