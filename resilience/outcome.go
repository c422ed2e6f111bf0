package resilience

import (
	"context"
	"os"
	"strconv"
)

// Outcome is how a call ended, as the policies that count calls (monitor,
// breaker) and decide on retries see it. [Classify] computes it.
type Outcome uint8

const (
	// OutcomeSuccess: fn returned a nil error.
	OutcomeSuccess Outcome = iota
	// OutcomeFailure: fn returned an error that is none of the below.
	OutcomeFailure
	// OutcomeTimeout: a limit inside the call fired (a timeout policy
	// nested inside, an http.Client.Timeout, a net deadline) while the
	// caller's own context was still live. This is the dependency's
	// slowness, and retries may try again.
	OutcomeTimeout
	// OutcomeCanceled: the caller canceled its context. Not the
	// dependency's fault; never retried, never counted as a failure.
	OutcomeCanceled
	// OutcomeDeadline: the caller's own deadline passed. The caller ran out
	// of time; a retry cannot help, and a breaker does not hold it against
	// the dependency. Monitoring counts it as a timeout.
	OutcomeDeadline
	// OutcomeRejected: a policy refused the call without calling the
	// dependency — an open circuit breaker, or a deadline that had already
	// passed. It says nothing about the dependency's health now: it is
	// neither a failure nor a timeout, and monitoring keeps it out of the
	// timeout rate and the latency figures. Errors say so with a
	// Rejected() bool method (see [IsRejected]).
	OutcomeRejected
)

var outcomeNames = [...]string{"success", "failure", "timeout", "canceled", "deadline", "rejected"}

// String returns "success", "failure", "timeout", "canceled", "deadline" or
// "rejected".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Classify returns the Outcome of a call that was made with ctx and returned
// err. It looks at ctx first: once the caller's context is done, any error
// is the caller's (OutcomeCanceled or OutcomeDeadline), whatever fn made of
// it. Otherwise an error for which [IsRejected] is true is OutcomeRejected,
// one for which [IsTimeout] is true is OutcomeTimeout, and any other error
// is OutcomeFailure.
//
// Classify does not allocate.
func Classify(ctx context.Context, err error) Outcome {
	if err == nil {
		return OutcomeSuccess
	}
	if ctx != nil {
		switch ctx.Err() {
		case nil:
		case context.Canceled:
			return OutcomeCanceled
		default:
			return OutcomeDeadline
		}
	}
	if IsRejected(err) {
		return OutcomeRejected
	}
	if IsTimeout(err) {
		return OutcomeTimeout
	}
	return OutcomeFailure
}

// IsRejected reports whether err, or any error it wraps, is a
// [RejectedError] whose Rejected method returns true: a call that a policy
// refused without calling the dependency. It does not allocate.
func IsRejected(err error) bool {
	return Walk(err, isRejected)
}

func isRejected(err error) bool {
	r, ok := err.(RejectedError)
	return ok && r.Rejected()
}

// IsTimeout reports whether err, or any error it wraps, is a timeout:
// [context.DeadlineExceeded], [os.ErrDeadlineExceeded], or a [TimeoutError]
// whose Timeout method returns true (as [net.Error] values and steady's
// *timeout.Error are). It does not allocate.
func IsTimeout(err error) bool {
	return Walk(err, isTimeout)
}

func isTimeout(err error) bool {
	if err == context.DeadlineExceeded || err == os.ErrDeadlineExceeded {
		return true
	}
	if t, ok := err.(TimeoutError); ok && t.Timeout() {
		return true
	}
	// An error with an Is method may match a deadline without wrapping it.
	x, ok := err.(interface{ Is(error) bool })
	return ok && x.Is(context.DeadlineExceeded)
}
