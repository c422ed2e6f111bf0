package retry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"

	mark "github.com/steadyhq/steady/internal/attempt"
	"github.com/steadyhq/steady/internal/hook"
	"github.com/steadyhq/steady/resilience"
)

// minTimerDelay is the shortest delay worth a timer: below it, arming,
// waiting for and waking from a timer costs far more than the delay itself,
// so Retry only checks whether the caller's context is done and goes on.
const minTimerDelay = time.Microsecond

// Retry returns a Policy that calls next again when it fails with a
// retryable error, waiting with exponential backoff between attempts, as cfg
// describes. It returns the first success; when it gives up on an error it
// would have retried, a [*Error]; when an attempt's error is not retryable,
// that error unchanged; and when the caller's context ends, an error that
// matches ctx.Err() and wraps the last attempt's (see the package
// documentation). An invalid cfg panics with its [Config.Validate] error.
//
// The Policy and its Funcs are safe for concurrent use. A call that succeeds
// at once costs one call of next (and, with Config.Budget, its Request and
// Done): no allocation, no clock read.
func Retry[T any](cfg Config) resilience.Policy[T] {
	s, err := cfg.settings()
	if err != nil {
		panic(err)
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (T, error) {
			if ctx == nil {
				var zero T
				return zero, resilience.ErrNilContext
			}
			if s.budget != nil {
				s.budget.Request()
			}
			v, err := next(ctx)
			if err == nil {
				if s.budget != nil {
					s.budget.Done(false, true)
				}
				return v, nil
			}
			// Everything that retrying needs lives in retryLoop, so
			// that the success path above stays this small.
			return retryLoop(ctx, next, &s, v, err)
		}
	}
}

// retryLoop runs the attempts after the first one, which failed with err.
func retryLoop[T any](ctx context.Context, next resilience.Func[T], s *settings, v T, err error) (T, error) {
	done := ctx.Done()

	// The backoff is not safe for concurrent use, so each call has its
	// own, on the stack. It reads its clock only for MaxElapsedTime, which
	// Retry does not use, so noClock makes those reads free.
	b := backoff.ExponentialBackOff{
		InitialInterval:     s.baseDelay,
		RandomizationFactor: s.jitter,
		Multiplier:          s.multiplier,
		MaxInterval:         s.maxDelay,
		Stop:                backoff.Stop,
		Clock:               noClock{},
	}
	b.Reset()

	// One timer serves every wait of the call: it is created on the first
	// wait long enough to need one, and reset (not re-created) for later
	// waits. Since Go 1.23 Reset and Stop discard a pending expiry, so a
	// reset timer never delivers a stale tick.
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()

	// The attempts after the first run under a marked context, so that
	// an adaptive timeout does not learn from them (Karn's rule). The mark
	// is made once per call, and only in a program that has such a
	// learner (see internal/attempt).
	var later context.Context

	for attempt := 1; ; attempt++ {
		// The caller's cancellation or deadline is never retried, and is
		// checked first: an attempt's error after it is the caller's.
		if cerr := ctx.Err(); cerr != nil {
			return v, callerError(cerr, attempt, err)
		}
		var f facts
		f.walk(err)
		retryable := s.retryable(&f, err)
		if s.budget != nil {
			// An error that retrying cannot help is an answer from the
			// dependency (ok), unless a policy inside refused the call.
			s.budget.Done(attempt > 1, !retryable && !resilience.IsRejected(err))
		}
		if !retryable {
			return v, unmark(err)
		}
		if attempt >= s.maxAttempts {
			return v, &Error{Attempts: attempt, Err: unmark(err), reason: exhausted}
		}

		delay := b.NextBackOff()
		if delay > s.maxDelay || delay < 0 {
			// Jitter can lift a delay above MaxInterval, which caps
			// only the un-jittered value; and a float conversion of a
			// delay near the int64 limit can come back negative.
			delay = s.maxDelay
		}
		if f.retryAfter > 0 {
			delay = min(f.retryAfter, s.maxRetryAfter)
		}

		if deadline, ok := ctx.Deadline(); ok {
			left := time.Until(deadline)
			if left <= 0 {
				return v, callerError(context.DeadlineExceeded, attempt, err)
			}
			if delay >= left {
				return v, &Error{Attempts: attempt, Err: unmark(err), NextDelay: delay, reason: pastDeadline}
			}
		}

		// Asked last, so that a retry that the rules above stop takes
		// nothing from the budget; and before the wait, so that a denied
		// call ends at once instead of after waiting.
		if s.budget != nil && !s.budget.Retry() {
			return v, &Error{Attempts: attempt, Err: unmark(err), reason: denied}
		}

		if s.onRetry != nil {
			hook.Call(s.logger, "retry: OnRetry", func() { s.onRetry(attempt, err, delay) })
		}

		if delay < minTimerDelay {
			select {
			case <-done:
				return v, callerError(ctx.Err(), attempt, err)
			default:
			}
		} else {
			if timer == nil {
				timer = time.NewTimer(delay)
			} else {
				timer.Reset(delay)
			}
			select {
			case <-done:
				return v, callerError(ctx.Err(), attempt, err)
			case <-timer.C:
			}
		}

		if later == nil {
			later = mark.Later(ctx)
		}
		v, err = next(later)
		if err == nil {
			if s.budget != nil {
				s.budget.Done(true, true)
			}
			return v, nil
		}
	}
}

// retryable decides whether a failed attempt's error, whose chain gave f,
// is retried: a mark decides, then ShouldRetry, then the default rule.
func (s *settings) retryable(f *facts, err error) bool {
	if f.mark != undecided {
		return f.mark == mayRetry
	}
	if s.shouldRetry != nil {
		// A panic in it is reported, and the error is not retried: the
		// call ends with the attempt's own error, as without a verdict.
		retry := false
		hook.Call(s.logger, "retry: ShouldRetry", func() { retry = s.shouldRetry(err) })
		return retry
	}
	return f.defaultRetryable()
}

// callerError returns the error for a call whose context ended (cerr, the
// context's error) after n attempts, the last of which failed with last:
// last itself if it already says so, or both, so that errors.Is finds
// cerr and the last attempt's error alike.
func callerError(cerr error, n int, last error) error {
	last = unmark(last)
	if errors.Is(last, cerr) {
		return last
	}
	return fmt.Errorf("retry: %w after %s: %w", cerr, attempts(n), last)
}

// noClock is the backoff's clock. ExponentialBackOff reads its clock in
// Reset and NextBackOff only to enforce MaxElapsedTime, which Retry leaves
// at 0 (the context's deadline bounds a call instead), so a zero-size
// clock that reads nothing saves two clock reads per retry.
type noClock struct{}

func (noClock) Now() time.Time { return time.Time{} }
