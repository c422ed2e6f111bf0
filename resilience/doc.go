// Package resilience is the core of steady: the one function shape every
// policy decorates, and the tools to run and compose policies.
//
// A call to a slow or failing dependency is a [Func]:
//
//	type Func[T any] func(ctx context.Context) (T, error)
//
// A [Policy] takes a Func and returns a Func that does more: bounds it in
// time (package timeout), tries it again (retry), records it (monitor), or
// refuses it while the dependency is down (breaker). Policies are plain
// functions, so they compose like functions.
//
// # Composing
//
// [Do] runs one call under some policies, policies[0] outermost:
//
//	user, err := resilience.Do(ctx, fetchUser,
//		monitor.Monitor[User](metrics),
//		retry.Retry[User](retry.DefaultConfig()),
//		timeout.WithTimeout[User](2*time.Second),
//	)
//
// [Compose] folds policies into one Policy. Build a pipeline once, at start
// up, and reuse it for every call and from every goroutine; that is cheaper
// than Do, which builds the chain on each call:
//
//	var userPipeline = resilience.Compose(
//		monitor.Monitor[User](metrics),
//		breaker.Breaker[User](userBreaker),
//		retry.Retry[User](retry.DefaultConfig()),
//		timeout.WithTimeout[User](2*time.Second),
//	)
//
//	getUser := userPipeline(fetchUser) // a Func[User]
//	user, err := getUser(ctx)
//
// # The recommended order
//
// Outermost first: Monitor, Breaker, Retry, Timeout.
//
//   - Timeout innermost bounds each attempt, so one hung attempt cannot use
//     up the whole budget, and retry can try again after it. A timeout
//     outside Retry bounds the whole logical call instead (both can be
//     used: an overall deadline usually comes from the caller's ctx).
//   - Retry inside Breaker: the breaker sees one logical call, not every
//     attempt, and while it is open a call is rejected before any attempt
//     or retry is made.
//   - Breaker inside Monitor: the monitor sees what the caller saw,
//     including calls the breaker rejected fast.
//
// # Errors
//
// Every policy keeps one chain of wrapped errors, so [errors.Is] and
// [errors.As] reach the root cause through any pipeline:
//
//   - A timeout policy's limit: errors.Is(err, context.DeadlineExceeded) is
//     true and errors.As(err, new(*timeout.Error)) gives the limit that
//     fired; the message reads "timeout after 2s: ...".
//   - The caller's own cancellation: errors.Is(err, context.Canceled). It
//     is never retried and never counted against the dependency. When the
//     caller's own deadline passes, the caller's error comes back as it is,
//     not as a *timeout.Error.
//   - Retry gave up: errors.As(err, new(*retry.Error)) tells the number of
//     attempts, and the error wraps the last attempt's error.
//   - The breaker rejected the call: errors.Is(err, breaker.ErrOpen).
//   - Bad configuration: errors.Is(err, [ErrInvalidConfig]), with a
//     [*ConfigError] naming the field and value. Combinators that cannot
//     return an error yield Funcs that fail every call with it, at once.
//
// Policies agree on what an error means through [Classify]: success,
// failure, a timeout inside the call, the caller's cancellation or
// deadline, or a call a policy rejected without calling the dependency.
// Errors carry these hints as methods, so that packages need not import
// each other: Timeout() bool (a timeout, as in [net.Error]), Rejected()
// bool (refused without a call), Retryable() bool (whether retry may try
// again), and RetryAfter() time.Duration (a delay the server asked for).
//
// # What is safe to share
//
// Policies, composed pipelines and the Funcs they return are safe for
// concurrent use; build them once. The stateful parts, *monitor.Metrics and
// *breaker.CircuitBreaker, are created once per dependency, are safe for
// concurrent use, and are not generic: one Metrics or breaker can serve
// pipelines of different result types. Per-call state (an attempt counter,
// a backoff) lives inside each call and is never shared.
//
// # Testing your own pipelines
//
// Timers in the policies follow the fake clock of [testing/synctest], so a
// pipeline with second-long timeouts and backoffs can be tested in
// microseconds:
//
//	synctest.Test(t, func(t *testing.T) {
//		_, err := pipeline(slowFn)(t.Context())
//		// time.Since(start) reports fake time here
//	})
package resilience
