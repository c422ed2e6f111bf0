package bulkhead

import (
	"errors"
	"strconv"
	"time"
)

// ErrFull matches every call a [Bulkhead] rejects, whether its queue was
// full or the call waited QueueTimeout in it: errors.Is(err, bulkhead.ErrFull).
// The error itself is an [*Error].
var ErrFull = errors.New("bulkhead: full")

// Error is the error a [Bulkhead] returns for a call it rejects; use
// [errors.As] with an *Error target to read the limits. Its message names
// them, e.g.
//
//	bulkhead "payments": full (MaxConcurrent 10 in flight, MaxQueue 20 queued)
//	bulkhead "payments": full (MaxConcurrent 10 in flight, no queue)
//	bulkhead "payments": no slot within QueueTimeout 50ms (MaxConcurrent 10 in flight)
//
// It is a rejection ([resilience.RejectedError]): the dependency was not
// called. It is not retryable ([resilience.RetryableError]): the queue is
// the place to wait for a slot, and retrying around it would add load
// exactly when the bulkhead sheds it. A Bulkhead returns one Error value
// per kind to every rejected call, so rejecting does not allocate: treat
// it as read-only.
type Error struct {
	// Name is the bulkhead's Config.Name.
	Name string
	// QueueTimedOut is true when the call waited Config.QueueTimeout in
	// the queue without getting a slot, false when it found the queue full
	// (or no queue) on arrival.
	QueueTimedOut bool
	// MaxConcurrent, MaxQueue and QueueTimeout are the bulkhead's limits.
	MaxConcurrent int
	MaxQueue      int
	QueueTimeout  time.Duration
}

// Error returns the message described on [Error].
func (e *Error) Error() string {
	b := []byte("bulkhead")
	if e.Name != "" {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, e.Name)
	}
	if e.QueueTimedOut {
		b = append(b, ": no slot within QueueTimeout "...)
		b = append(b, e.QueueTimeout.String()...)
		b = append(b, " (MaxConcurrent "...)
	} else {
		b = append(b, ": full (MaxConcurrent "...)
	}
	b = strconv.AppendInt(b, int64(e.MaxConcurrent), 10)
	b = append(b, " in flight"...)
	switch {
	case e.QueueTimedOut:
	case e.MaxQueue == 0:
		b = append(b, ", no queue"...)
	default:
		b = append(b, ", MaxQueue "...)
		b = strconv.AppendInt(b, int64(e.MaxQueue), 10)
		b = append(b, " queued"...)
	}
	b = append(b, ')')
	return string(b)
}

// Is reports whether target is [ErrFull].
func (e *Error) Is(target error) bool { return target == ErrFull }

// Rejected returns true: the dependency was not called.
func (e *Error) Rejected() bool { return true }

// Retryable returns false; see [Error].
func (e *Error) Retryable() bool { return false }
