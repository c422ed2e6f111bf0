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
//   - A timeout policy's limit: errors.Is(err, context.DeadlineExceeded),
//     and errors.As(err, new(*timeout.Error)) gives the limit; the message
//     reads "timeout after 2s: ...".
//   - The caller's own cancellation or deadline: the caller's error, as it
//     is. It is never retried and never counted against the dependency.
//   - Retry gave up on an error it would have retried: errors.As(err,
//     new(*retry.Error)) gives the number of attempts. An error that is not
//     retryable comes back as it is.
//   - The breaker rejected the call: errors.Is(err, breaker.ErrOpen).
//
// # Outcomes
//
// Policies agree on how a call ended through [Classify]: success, failure, a
// timeout inside the call, the caller's cancellation, the caller's deadline,
// or a rejection. A call is rejected when a policy refused it without
// calling the dependency: an open breaker, a deadline already past, a
// configuration error. A rejection says nothing about the dependency's
// health, so it is neither a failure nor a timeout: a breaker does not count
// it, monitoring counts it apart and keeps it out of latencies and the
// timeout rate, and retry does not retry it.
//
// # The error protocol
//
// Errors tell the policies what they mean through methods, so that packages
// need not import each other, and errors of your own can take part:
// [TimeoutError] (Timeout() bool, as in [net.Error]), [RejectedError]
// (Rejected() bool), [RetryableError] (Retryable() bool: may retry try
// again?) and [RetryAfterError] (RetryAfter() time.Duration: a delay the
// dependency asked for). [Walk] finds them anywhere in a chain without
// allocating; [IsTimeout] and [IsRejected] are built on it.
//
// # Bad configuration
//
// A mistake in a pipeline's configuration is found when the pipeline is
// built, never reported as a failed call: a breaker or a monitor must not
// blame the dependency for it.
//
//   - Constructors of stateful parts return it: breaker.New,
//     monitor.NewMetrics, httpx.NewClient, httpx.NewTransport.
//   - Combinators that cannot return an error (timeout.WithTimeout,
//     retry.Retry, monitor.Monitor(nil), breaker.Breaker(nil), [Compose]
//     with a nil policy, a policy applied to a nil Func) panic when the
//     pipeline is built, as [time.NewTicker] does, with a [*ConfigError]
//     that names the field: "retry: Config.BaseDelay is -1ns, want >= 0".
//   - Every config type has a Validate method, for configuration read at
//     run time from files or flags. errors.Is(err, [ErrInvalidConfig])
//     holds for its errors.
//
// Calls take data, not structure: httpx's API-call functions return an
// error for a bad URL or limit, and a nil context is [ErrNilContext]. Such
// errors are rejections, so even inside a Monitor or a Breaker they are
// never counted as failures.
//
// # Logging and hooks
//
// steady logs nothing unless asked: a nil Logger in a Config means no log
// lines. With a Logger, it logs state changes and alerts, not every call.
//
// Hooks (breaker's OnStateChange, monitor's OnAlert, retry's OnRetry) run
// without any lock of steady's held. Event hooks (OnStateChange, OnAlert)
// are called one at a time per breaker or Metrics, in the order of the
// events; OnRetry runs in each caller's goroutine, so concurrently when
// calls are concurrent. A
// panic in a hook is recovered and logged at Error, to the part's Logger or,
// when there is none, to [log/slog.Default]: it never crashes the process,
// never changes the result of a call, and never loses the events queued
// behind it. A hook that blocks delays the goroutine that runs it (a caller,
// or a breaker's timer), so hand slow work to a goroutine of your own.
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
