// Package retry calls a failing function again, with exponential backoff
// and jitter, for as long as retrying can help and no longer.
//
// [Retry] is a [resilience.Policy]: it wraps any func(context.Context)
// (T, error) and composes with the other policies. Place it outside the
// timeout, so that each attempt gets its own limit and a slow attempt is
// retried:
//
//	call := resilience.Compose(
//		retry.Retry[*Reply](retry.DefaultConfig()),
//		timeout.WithTimeout[*Reply](2*time.Second),
//	)(fetch)
//
// # Which errors are retried
//
// After a failed attempt, Retry decides in this order:
//
//  1. The caller's context is done (canceled, or its deadline passed): stop
//     and return an error for which errors.Is(err, ctx.Err()) holds. The
//     caller's cancellation is never retried and never reported as a
//     [*Error].
//  2. The error carries a mark: [Permanent] stops; a [RetryableError] stops
//     or retries as its Retryable field says. The outermost mark wins.
//  3. Config.ShouldRetry, if set, decides.
//  4. Otherwise the first [resilience.RetryableError] in the chain decides
//     (an open breaker says no, httpx says yes for 408, 429 and 5xx, a
//     WithDeadline limit says no), and any other error is retried,
//     including an attempt's own timeout: the next attempt may be faster.
//
// [IsRetryable] gives the answer of steps 2 and 4 for use in a ShouldRetry.
// Chains are walked with [resilience.Walk], so classifying does not
// allocate.
//
// # How long Retry waits
//
// Delays come from backoff.ExponentialBackOff of
// github.com/cenkalti/backoff/v4: BaseDelay, then times Multiplier after each
// retry, capped at MaxDelay; with Jitter, each is drawn from [d/2, 3d/2]
// and capped at MaxDelay again. When an error in the chain has a method
// RetryAfter() time.Duration ([resilience.RetryAfterError]) that returns
// more than 0, as httpx's StatusError does for a Retry-After header, that
// delay, capped at MaxRetryAfter, replaces the computed one for that wait.
//
// Retry never sleeps past the context's deadline: if the next delay would
// reach it, Retry stops at once and returns a [*Error] that says so,
// instead of sleeping and then failing, or making an attempt that has no
// time left. Cancellation during a wait ends the wait at once.
//
// A delay under a microsecond starts no timer; longer ones share one timer
// per call, created on first use and stopped when the call returns. A zero
// BaseDelay does not mean "no delay": like every zero field of [Config], it
// means the default, 100ms. For retries without a wait, give the delays a
// nanosecond, so that none of them reaches a microsecond:
//
//	retry.Config{MaxAttempts: 3, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond}
//
// (MaxRetryAfter then defaults to that MaxDelay too: set it if a server's
// Retry-After should still be honoured.)
//
// # Retry budgets
//
// MaxAttempts limits the retries of one call; Config.Budget, a
// [budget.Budget], limits the retries of all the calls that share it, so
// that an outage is not met with MaxAttempts times the load (package
// budget's [budget.Adaptive] lets the retries of transient faults through
// and clamps those of an outage). Retry records each call with the budget, asks it before
// each retry (after every other rule allowed it, and before the wait),
// and reports each attempt's outcome; a denied retry ends the call at
// once with a [*Error] that matches [budget.ErrExhausted].
//
// # Errors
//
// A call ends in one of three shapes:
//
//   - Retry gave up on an error it would have retried: a [*Error] with the
//     number of attempts, wrapping the last attempt's error.
//     errors.Is(err, [ErrExhausted]) tells that the attempts ran out;
//     NextDelay > 0 that the next wait would have passed the deadline;
//     errors.Is(err, [budget.ErrExhausted]) that Config.Budget denied the
//     retry.
//   - An attempt failed with an error that is not retryable: that error, as
//     it is (a [Permanent] mark removed), whichever attempt it was.
//   - The caller's context ended: an error that matches ctx.Err() and wraps
//     the last attempt's error.
//
// So errors.As(err, new(*retry.Error)) holds exactly when retrying did not
// help. A bad [Config] is reported by [Config.Validate], and [Retry] panics
// with that error, so the mistake shows when the pipeline is built.
//
// # Hooks
//
// ShouldRetry and OnRetry run in the caller's goroutine, concurrently when
// calls are. They follow the rule for hooks of package resilience: a panic
// is recovered and reported to Config.Logger; after a panicking OnRetry the
// call goes on as if it had returned, and an error whose ShouldRetry
// panicked is not retried.
//
// # Cost and concurrency
//
// A Policy from Retry and the Funcs it builds are safe for concurrent use;
// each call has its own backoff state, on the stack. A call that succeeds
// at once costs a function call: no allocation, no clock read (with a
// Budget, two more method calls, which package budget's budgets make
// without allocating or reading the clock). Failed attempts with
// sub-microsecond delays allocate nothing either, except in a program that
// uses an adaptive timeout (timeout.NewAdaptive): there a retried call
// makes one small allocation, a context value that marks its later
// attempts so that the timeout does not learn from them.
//
// # Testing code that retries
//
// Waits are ordinary timers, so tests of code that uses Retry can run under
// [testing/synctest], where an hour of backoff passes in no real time.
package retry
