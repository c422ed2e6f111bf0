// Package timeout bounds how long a call may take: [WithTimeout] gives each
// call a duration from its start, [WithDeadline] gives every call the same
// absolute deadline, and [Limit] applies a duration by hand to work that
// outlives a function call. The policies compose with the rest of steady:
//
//	call := resilience.Compose(
//		retry.Retry[*User](retry.DefaultConfig()),
//		timeout.WithTimeout[*User](2*time.Second), // bounds each attempt
//	)(fetchUser)
//
// fn receives a context that expires at the limit. A shorter deadline of the
// caller's context still wins: a policy never extends it. Policies and the
// Funcs they build are safe for concurrent use; build them once.
//
// # Two modes
//
// Go cannot stop a goroutine, so a limit only ends work that watches its
// context.
//
// Cooperative (the default): fn runs in the caller's goroutine, and the call
// returns when fn returns. No goroutine is started, and the cost is that of
// a hand-written context.WithTimeout and cancel. This is the mode for
// anything that honours its context (net/http, database/sql, gRPC).
//
// Abandon ([Abandon] or [Track]): fn runs in its own goroutine, and the call
// returns when fn returns, the limit fires or the caller's context is done,
// whichever is first. It costs a goroutine and two small allocations per
// call. Work left running when the caller leaves is counted, so a leak is
// visible: [Abandoned] counts it process-wide, and [Track] counts a
// policy's share in a gauge of yours (monitor's Metrics.Abandoned, or an
// [expvar.Int]). A panic in fn while the caller waits is re-raised in the
// caller's goroutine with its original value; a panic after the call was
// abandoned has nobody to go to and crashes the program, like any panic in
// a goroutine, so recover inside fn if it may panic late.
//
// # Errors
//
// Only a policy's own limit produces an [*Error]; it wraps what fn returned,
// errors.Is(err, [context.DeadlineExceeded]) holds for it, and [errors.As]
// gives the limit:
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
// fn is never started on a context that is already done. When the policy's
// limit had passed before fn could be called, the *Error is a rejection
// ([resilience.OutcomeRejected]); when the caller's context was done, its
// error comes back unchanged. A success after the limit is still a success.
// An *Error of WithTimeout is retryable (the next attempt gets a fresh
// duration), one of WithDeadline is not. Inside fn, [context.Cause] of its
// context is an error that matches context.DeadlineExceeded once the limit
// fired.
//
// Bad configuration (a duration <= 0, a zero deadline, a nil Option or
// gauge) panics when the policy is made, as package resilience's rule for
// bad configuration says.
//
// # Testing pipelines
//
// The policies use the standard context timers, so [testing/synctest] tests
// them with a fake clock: a 30-second timeout takes no real time.
//
//	synctest.Test(t, func(t *testing.T) {
//		start := time.Now()
//		_, err := timeout.WithTimeout[string](30 * time.Second)(slow)(t.Context())
//		require.ErrorIs(t, err, context.DeadlineExceeded)
//		require.Equal(t, 30*time.Second, time.Since(start)) // exact: fake time
//	})
//
// In abandon mode, let the abandoned work end before the test returns:
// synctest reports goroutines still blocked at the end as a deadlock, which
// is also how it catches a leak.
package timeout
