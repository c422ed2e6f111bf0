// Package timeout bounds how long a call may take: [WithTimeout] gives each
// call a duration from its start, [WithDeadline] gives every call the same
// absolute deadline, [WithAdaptive] gives each call a duration learned from
// the calls before it, [WithPredicted] one predicted from what describes the
// call, and [Limit] applies a duration by hand to work that outlives a
// function call. The policies compose with the rest of steady:
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
// # Adaptive timeouts
//
// A fixed limit is always wrong: too long, and a hung call holds its caller
// for all of it; too short, and healthy calls fail. An [Adaptive] learns the
// limit that about [AdaptiveConfig.TargetRate] (r, 0.1% by default) of the
// calls exceed, within [Min, Max]:
//
//	a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{Max: 5 * time.Second})
//	...
//	call := resilience.Compose(
//		retry.Retry[*User](retry.DefaultConfig()),
//		timeout.WithAdaptive[*User](a), // about 0.1% of attempts time out
//	)(fetchUser)
//
// Everything else is as with [WithTimeout]: the caller's shorter deadline
// wins, fn runs in the caller's goroutine, and a call whose limit fires
// returns an [*Error] whose Duration is the limit that call had.
//
// The difficulty is censoring. A call that times out tells only that its
// latency was at least the limit. An estimator fed min(latency, limit) as if
// it were the latency sees a distribution cut off at the limit, so it puts
// the quantile lower, which cuts off more calls, and so on down: on a
// simulated workload, a quantile sketch fed that way let 8.8% of calls time
// out for a 0.1% target, and 84% after the latency shifted.
//
// An Adaptive never uses a censored latency. It learns in two stages.
//
// Warm-up: the first [AdaptiveConfig.Warmup] calls (10/r by default) all
// get Max, and their latencies go into a histogram with buckets 9% wide.
// With one limit for all, a timeout is just a latency above every bucket, so
// the histogram's (1-r) quantile is right despite the censoring, and it
// becomes the first limit.
//
// Control: from then on, each call moves the limit T by its outcome alone,
// "did it time out", which the limit always tells exactly:
//
//	timed out:       log T += η(1-r)
//	did not:         log T -= η·r
//
// (η is [AdaptiveConfig.Step], 0.05 by default; a Robbins–Monro step.) The
// expected move is η·(P(timeout at T) - r), zero exactly where r of the
// calls time out: the limit drifts up while too many calls time out and
// down while too few do, so it settles at the (1-r) quantile whatever the
// censoring hides. A dependency that turns slower than the limit makes
// every call time out, and each timeout raises the limit by about 5%; a
// streak of timeouts that a right limit would almost never see (one with a
// probability under 1e-9: 5 in a row for r = 1%, 4 for r = 0.1%) sends it
// straight to Max with a new warm-up, so the calls do not fail while the
// limit climbs (and a breaker around them does not open on those
// failures). It cannot collapse. Pinned at Max, it warms up again, so that
// when the dependency recovers the limit comes down after Warmup calls
// instead of r steps at a time.
//
// Measured under [testing/synctest] (the test TestAdaptive_syntheticTargets),
// over 20,000 (r = 1%) or 100,000 (r = 0.1%) calls that follow the warm-up
// and 10/r calls more; the bimodal's two modes are lognormal with σ 0.3:
//
//	workload                          r      realised   mean limit / true quantile
//	lognormal, median 20ms, σ 0.6     1%     1.005%     1.012
//	                                  0.1%   0.099%     1.016
//	bimodal, 98% 10ms, 2% 500ms       1%     1.015%     0.972
//	                                  0.1%   0.100%     1.015
//	×4 step in the lognormal, from    1%     0.990%     1.006 (back within 2r 28 calls after the step)
//	5,000 calls after the step        0.1%   0.102%     1.006 (back within 2r 2,768 calls after the step)
//
// Not every call teaches. A call teaches only when the limit was its own
// deadline and the call ran to an end: a call bounded by the caller's
// earlier deadline could not have timed out, and one whose caller gave up
// ended for a reason of the caller's, so both are skipped, as is a
// rejection (fn refused to run, e.g. an open breaker inside the timeout).
// An error within the limit counts as a call that did not time out. And by
// Karn's rule, a retry's later attempts and the attempts of a hedged call
// teach nothing (retry.Retry and hedge.Hedge mark them): their latency is
// partly the retry's or the hedge's doing.
// [AdaptiveSnapshot] counts the calls of each kind and the realised rate.
// Set Max no longer than the deadlines your callers give, or few calls will
// teach it.
//
// The cost over [WithTimeout] is small and lock-free: an atomic load for
// the limit, a per-CPU counter per call, and a shared write once per
// timeout or per batch of up to 64 calls; no allocation. Only the warm-up
// reads the clock.
//
// # Predicted timeouts
//
// When something known before the call explains its latency (the size of
// the payload, the route, the hour), one limit for all calls is long for
// the quick ones and short for the slow ones. A [Predictor] learns a limit
// per call from such numbers, its features:
//
//	p, err := timeout.NewPredictor(timeout.PredictorConfig{Max: 5 * time.Second, Features: 1})
//	...
//	call := timeout.WithPredicted[*Reply](p, func(ctx context.Context) []float64 {
//		return []float64{math.Log(float64(payloadSize(ctx)))}
//	})(upload)
//
// The model is linear in the features for the log of the limit,
// ln(limit) = b + Σ w[i]·z[i], where z[i] is feature i standardized by its
// running mean and deviation; so pass ln(size) for a latency in proportion
// to the size, and one 0-or-1 feature per route. It is trained by online
// quantile regression: a step of stochastic gradient descent on the
// pinball loss of ln(latency) at the quantile 1-r. That loss's gradient
// at the prediction depends only on which side of it the latency fell,
// and the prediction is the limit the call had, so the timeout indicator
// is all it needs, as for [Adaptive]:
//
//	g = 1{timed out} - r
//	b += η·g
//	w[i] += η·g·z[i] / (1 + |z|²)
//
// The intercept's step is the Adaptive's, so the model lets r of the calls
// it learns from time out; the weights move the limit towards where the
// timeouts are. [PredictorSnapshot] gives the model in the features'
// units (Intercept, Weights): what it learned, for a dashboard.
//
// A Predictor carries an [Adaptive] as its fallback ([Predictor.Fallback]),
// and calls get the fallback's limit until the model's limits are the
// shorter ones. To compare them fairly, one call in 16 (one in 4 while the
// fallback is in use) is a probe: it gets the longer of the two limits, so
// that both learners see exactly whether it would have timed out under
// their own. Calls switch to the model once its limits have been 10%
// shorter on recent probes with its timeout rate at most 2r, and back when
// they are less than 2% shorter or its rate goes above 2r. A model whose
// features say nothing stays on the fallback. Measured (the test
// TestPredictor_sizeTarget): latency 5-205ms in proportion to a size,
// times lognormal noise (σ 0.3), ln(size) as the feature:
//
//	r      realised: adaptive   predictor   mean limit: adaptive   predictor
//	1%               1.000%     0.954%                  319ms      225ms (29% lower)
//	0.1%             0.100%     0.099%                  419ms      279ms (33% lower)
//
// A Predictor costs more than an Adaptive per call: a few shared atomics
// per feature, a clock read on probes, and whatever the features func
// allocates. A features func that returns a slice of the wrong length, or
// with a NaN or infinity, fails the call with a [*resilience.ConfigError]
// without calling fn.
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
