package resilience

import "time"

// The error protocol: methods by which an error tells the policies around a
// call what it means, so that packages agree without importing each other.
// An error may implement any of them; [Walk] finds them anywhere in a chain
// of wrapped errors, the outermost answer first. See "Errors" in the package
// documentation for who implements what.

// TimeoutError is an error that says whether it is a timeout, as [net.Error]
// does. [IsTimeout] and [Classify] honour it.
type TimeoutError interface {
	error
	Timeout() bool
}

// RejectedError is an error that says whether a policy refused the call
// without calling the dependency (an open breaker, a deadline already past,
// a configuration error). [IsRejected] and [Classify] honour it.
type RejectedError interface {
	error
	Rejected() bool
}

// RetryableError is an error that says whether trying the call again may
// succeed. Package retry honours it (its own RetryableError struct, a value
// that wraps an error with an explicit verdict, is a different thing).
type RetryableError interface {
	error
	Retryable() bool
}

// RetryAfterError is an error that carries a delay the dependency asked for
// (an HTTP Retry-After header, a breaker's next probe). Package retry waits
// that long instead of its own backoff.
type RetryAfterError interface {
	error
	RetryAfter() time.Duration
}

// Walk calls visit for err and each error it wraps, depth first, outermost
// first (Unwrap() error and Unwrap() []error, as [errors.Is] does), until
// visit returns true, and reports whether it did. Unlike [errors.As] with an
// interface target, Walk does not allocate, so it serves hot failure paths.
func Walk(err error, visit func(error) bool) bool {
	for err != nil {
		if visit(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if Walk(e, visit) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
