package retry

import (
	"time"

	"github.com/steadyhq/steady/resilience"
)

// Permanent marks err as not retryable: [Retry] stops at the first attempt
// that fails with it, whatever ShouldRetry or a Retryable method would say,
// and returns err itself, the mark removed.
//
// The marked error has err's message, and [errors.Is] and [errors.As] see
// through the mark to err. Permanent(nil) returns nil, and marking an error
// twice is the same as marking it once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*permanentError); ok {
		return err
	}
	return &permanentError{err: err}
}

// permanentError is the mark that Permanent puts on an error.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Retryable() bool { return false }

// unmark returns err without the Permanent marks at its top; marks deeper
// in the chain cannot be removed without rebuilding it, and are harmless:
// errors.Is and errors.As see through them.
func unmark(err error) error {
	for {
		p, ok := err.(*permanentError)
		if !ok {
			return err
		}
		err = p.err
	}
}

// RetryableError states explicitly whether Err may be retried. [Retry]
// honours it as a value or a pointer, anywhere in a failed attempt's error
// chain: Retryable false stops like [Permanent]; Retryable true retries,
// without asking Config.ShouldRetry or any Retryable method further down
// the chain. If several marks are in a chain, the outermost one decides.
//
// Its message is Err's, and it unwraps to Err.
type RetryableError struct {
	Err       error // the error being classified
	Retryable bool  // whether Retry may try again after it
}

// Error returns Err's message.
func (e RetryableError) Error() string {
	if e.Err == nil {
		return "retry: RetryableError with nil Err"
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e RetryableError) Unwrap() error { return e.Err }

// IsRetryable reports whether the default classification of [Retry] (the
// one used when Config.ShouldRetry is nil) retries err:
//
//   - nil: false;
//   - a [Permanent] mark or a [RetryableError] anywhere in the chain: the
//     outermost one decides;
//   - otherwise the first error in the chain with a Retryable() bool method
//     decides (breaker's open-circuit error says false; httpx's StatusError
//     says true for 408, 429 and 5xx);
//   - otherwise true: errors are retried unless something says not to,
//     including an attempt's own timeout.
//
// It does not consider a context: the caller's cancellation and deadline
// are never retried, and Retry checks them before classifying.
//
// A ShouldRetry can build on it:
//
//	cfg.ShouldRetry = func(err error) bool {
//		return !errors.Is(err, errQuotaSpent) && retry.IsRetryable(err)
//	}
//
// IsRetryable does not allocate.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var f facts
	f.walk(err)
	return f.defaultRetryable()
}

// verdict is what a part of an error chain says about retrying.
type verdict uint8

const (
	undecided verdict = iota // nothing in the chain said anything
	mayRetry                 // it may be retried
	mustStop                 // it must not be retried
)

func verdictOf(retryable bool) verdict {
	if retryable {
		return mayRetry
	}
	return mustStop
}

// facts is what Retry learns from one walk over a failed attempt's error
// tree: in each case the first (outermost, depth-first) answer wins.
type facts struct {
	mark       verdict       // from Permanent or a RetryableError
	method     verdict       // from a Retryable() bool method
	retryAfter time.Duration // from a RetryAfter() time.Duration method, if > 0
}

// walk learns f from err's tree, outermost answers first.
func (f *facts) walk(err error) {
	resilience.Walk(err, f.visit)
}

// visit learns what one error of the tree says, and reports whether f is
// complete, which ends the walk.
func (f *facts) visit(err error) bool {
	if f.mark == undecided {
		switch e := err.(type) {
		case *permanentError:
			f.mark = mustStop
		case RetryableError:
			f.mark = verdictOf(e.Retryable)
		case *RetryableError:
			if e == nil {
				return true // nothing to learn, and nothing to unwrap
			}
			f.mark = verdictOf(e.Retryable)
		}
	}
	if f.method == undecided {
		if r, ok := err.(resilience.RetryableError); ok {
			f.method = verdictOf(r.Retryable())
		}
	}
	if f.retryAfter == 0 {
		if r, ok := err.(resilience.RetryAfterError); ok {
			if d := r.RetryAfter(); d > 0 {
				f.retryAfter = d
			}
		}
	}
	return f.mark != undecided && f.method != undecided && f.retryAfter != 0
}

// defaultRetryable applies the default rule: a mark decides, else a
// Retryable method, else the error is retried.
func (f *facts) defaultRetryable() bool {
	if f.mark != undecided {
		return f.mark == mayRetry
	}
	return f.method != mustStop
}
