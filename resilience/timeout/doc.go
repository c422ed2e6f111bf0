// Package timeout bounds how long a call may take: [WithTimeout] gives each
// call a duration from its start, [WithDeadline] gives every call the same
// absolute deadline. Both are [resilience.Policy] values, so they compose
// with the other policies of steady:
//
//	call := resilience.Compose(
//		retry.Retry[*User](retry.DefaultConfig()),
//		timeout.WithTimeout[*User](2*time.Second), // bounds each attempt
//	)(fetchUser)
//
// The call's function receives a context that expires at the limit. A
// shorter deadline of the caller's context still wins: the policy never
// extends it.
//
// # Two modes
//
// Go cannot stop a goroutine, so a limit only ends work that watches its
// context. The package offers the two behaviours that follow from this.
//
// Cooperative (the default): fn runs in the caller's goroutine with the
// derived context, and the call returns when fn returns. No goroutine is
// started. This is the right mode for anything that takes a context
// seriously (net/http, database/sql, gRPC, anything that selects on
// ctx.Done()). A fn that ignores its context runs to its end, and the call
// with it.
//
// Abandon (the [Abandon] option): fn runs in its own goroutine, and the
// call returns as soon as fn returns, the limit fires or the caller's
// context is done, whichever is first. When the caller leaves first, fn
// keeps running until it returns by itself (its context is done, so a fn
// that checks it later stops then). That work is not hidden: [Abandoned]
// counts it process-wide, and [Track] counts a policy's share in a gauge
// of yours (monitor's Metrics.Abandoned gauge, or an [expvar.Int]). A
// count that keeps rising is a goroutine leak in the making.
//
// # Cost
//
// Cooperative mode costs what the hand-written
//
//	ctx, cancel := context.WithTimeout(ctx, d)
//	defer cancel()
//	v, err := fn(ctx)
//
// costs, within a few nanoseconds, and allocates nothing more: the cause
// that marks the policy's limit is allocated once, when the policy is
// built. Abandon mode adds a goroutine and two small allocations (the
// goroutine's closure, and one struct holding the result), which is less
// than the usual goroutine, result channel and select. Build a policy once
// and reuse it; the Funcs it builds are safe for concurrent use.
//
// # Errors
//
// Only the policy's own limit produces an [*Error]. It wraps what fn
// returned, and errors.Is(err, [context.DeadlineExceeded]) is true for it,
// as is the Timeout() method of [net.Error]; [errors.As] with a *Error
// target gives the limit that fired:
//
//	var te *timeout.Error
//	switch {
//	case errors.As(err, &te):
//		// our limit fired: te.Duration (WithTimeout) or te.Deadline (WithDeadline)
//	case errors.Is(err, context.Canceled):
//		// the caller canceled: passed through unchanged
//	case errors.Is(err, context.DeadlineExceeded):
//		// the caller's own, shorter deadline: passed through unchanged
//	}
//
// In detail:
//   - fn returned an error after the policy's limit fired: *Error wrapping
//     it. If fn returned a result and a nil error, even after the limit,
//     the call succeeds.
//   - The caller's context ended first (canceled, or its own deadline):
//     its error, unchanged. Nested timeouts follow from this: when an outer
//     policy's limit is the shorter, an inner policy passes the outer's
//     expiry through, and the outer reports it as its own *Error.
//   - The policy's limit had already passed when the call started
//     ([WithDeadline] with a deadline in the past, or a [WithTimeout] so
//     short that it expired before fn could be called): *Error at once,
//     and fn is not called. Its Rejected method is true, so
//     [resilience.Classify] reports [resilience.OutcomeRejected], and a
//     breaker or monitor outside does not hold the call against the
//     dependency.
//   - The caller's context was already done when the call started
//     (canceled, or its own deadline passed): its error, unchanged, and
//     fn is not called. In neither mode is fn started with a context
//     whose Err is already set.
//   - Abandon mode, the call left before fn returned: an *Error wrapping
//     [context.DeadlineExceeded], or the caller's context's error.
//   - Bad configuration (a duration <= 0, a zero deadline, [Track] without
//     [Abandon] or with a nil gauge, a nil Option): every call returns a
//     [*resilience.ConfigError] naming it, and fn is never called. A nil
//     context gives [resilience.ErrNilContext], a nil Func
//     [resilience.ErrNilFunc].
//
// For resilience/retry, an *Error of [WithTimeout] is retryable (the next
// attempt gets a fresh duration) and one of [WithDeadline] is not: its
// Retryable method says so, because a deadline that has passed cannot be
// met by trying again.
//
// Inside fn, [context.Cause] of its context is an *Error once the policy's
// limit has fired, so fn can tell that limit from its caller's.
//
// # Testing pipelines
//
// The policies use the standard context timers, so [testing/synctest]
// tests them with a fake clock: inside a bubble, time advances only when
// every goroutine is blocked, and a 30-second timeout takes no real time.
//
//	func TestSlowBackend(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			slow := func(ctx context.Context) (string, error) {
//				select {
//				case <-time.After(time.Minute):
//					return "late", nil
//				case <-ctx.Done():
//					return "", ctx.Err()
//				}
//			}
//			start := time.Now()
//			_, err := timeout.WithTimeout[string](30 * time.Second)(slow)(t.Context())
//			require.ErrorIs(t, err, context.DeadlineExceeded)
//			require.Equal(t, 30*time.Second, time.Since(start)) // exact: fake time
//		})
//	}
//
// Abandon mode works in a bubble too: a call whose fn sleeps for an hour
// returns at the limit, and [Abandoned] (or a [Track] gauge) shows the work
// still running. Let that work end before the test function returns
// (time.Sleep past it, or release what it waits for): synctest.Test reports
// goroutines still blocked at the end as a deadlock, which is also how it
// catches a leak.
package timeout
