// Package budget limits retries and hedges across calls, so that a
// dependency in trouble is not buried under them, and throttles calls to a
// dependency that keeps rejecting them.
//
// Retries save calls from transient faults. In an outage they multiply the
// load on a dependency that is already down: four attempts per call is four
// times the load, just when the dependency can least take it. A per-call
// limit (retry.Config.MaxAttempts) cannot tell the two cases apart; a
// budget, shared by all the calls to one dependency, can.
//
//	b, err := budget.NewAdaptive(budget.AdaptiveConfig{}) // once per dependency
//	...
//	cfg := retry.DefaultConfig()
//	cfg.MaxAttempts = 4
//	cfg.Budget = b
//	call := resilience.Compose(
//		retry.Retry[*Reply](cfg),
//		timeout.WithTimeout[*Reply](time.Second),
//	)(fetch)
//
// A retry that the budget denies is not made: the call ends at once with a
// *retry.Error that wraps the last attempt's error, for which
// errors.Is(err, [ErrExhausted]) holds.
//
// # Which budget
//
// [Adaptive] is the one to start with. A retry costs a token; a retry that
// succeeds pays its token back and earns one more; a call whose first
// attempt succeeds earns a tenth of a token; the bucket holds 100. So
// retries are free while at least half of them succeed, which is what a
// transient fault looks like (each attempt is a fresh draw: under 30%
// random failures, 70% of the retries succeed), and they are clamped as
// soon as more than half fail, which is what an outage looks like (the
// retries fail like the calls). It never reads the clock. Its one limit
// is its capacity: a retry holds its token from the moment it is allowed
// until it succeeds, so when a fault starts, the tokens must cover the
// retries asked for before the first ones come back (see
// AdaptiveConfig.Capacity).
//
// [Ratio] is the classic retry budget of Finagle and Linkerd: retries are
// at most a share of the calls of the last TTL (20% by default), plus a
// floor per second (10) so that a client that calls rarely can still
// retry. It does not look at outcomes, so it is predictable, and blind:
// it allows 1.2× the calls plus the floor in an outage, and denies the
// retries that a fault needs beyond 20% even when they all succeed. Use it
// when you want a fixed bound on the extra load rather than one that
// adapts.
//
// [Throttler] is the client-side adaptive throttling of the SRE book: it
// rejects requests locally, before they are sent, with probability
// max(0, (requests − K×accepts)/(requests + 1)) over the last two minutes.
// Use it, through the [Throttle] policy, when a dependency sheds load by
// rejecting requests (429, 503, RESOURCE_EXHAUSTED) and you want your
// clients to stop sending what it would reject anyway. It can also serve
// as the Budget of a retry; it then throttles only retries. Its window is
// long: an outage that begins after a healthy period is recognized only
// once the failures in the window outnumber the K×accepts, so a sudden
// outage gets its retries for a while; [Adaptive] clamps them after 100.
//
// Measured by this package's tests (TestScenarios_report), with
// retry.DefaultConfig and 4 attempts per call, 10,000 calls from 50
// goroutines, 10ms per attempt, each budget with its defaults:
//
//	budget     dependency down   down after 5,000 good calls   30% random failures
//	           attempts/call     attempts/call                 success  attempts/call
//	none       4.00              4.00                          99.3%    1.42
//	Adaptive   1.01              1.02                          99.3%    1.42
//	Ratio      1.21              1.42                          84.9%    1.21
//	Throttler  1.00              2.8                           99.3%    1.42
//
// When many callers start at once into a fault, Adaptive's 100 tokens run
// out before the first retries come back: at 150 goroutines (1,800 calls
// a second) 12 calls of 10,000 were denied a retry (99.2% success); at
// 500 goroutines (5,000 calls a second), about 600 (93.4%), all of them in
// the first second, none after. With Capacity 500, none were (99.3%),
// and a dependency that is down gets 1.05 attempts per call.
//
// A budget limits how much extra work retries cause; a breaker
// (package breaker) stops calls altogether while a dependency is down; a
// throttler sheds the calls a dependency would reject. They compose:
// breaker outside, retry with a budget inside it.
//
// # The protocol
//
// A [Budget] is told three things, by retry and hedge alike:
//
//   - Request, when a call makes its first attempt;
//   - Retry, before each extra attempt: true lets it go, false denies it
//     (retry then gives up, hedge does not start the hedge);
//   - Done, when an attempt ends: whether it was an extra one, and whether
//     it was ok. ok means it succeeded, or failed with an error that
//     retrying cannot help (the dependency answered, say with a 404); not
//     ok, that it failed the way retries are meant to overcome (a 503, a
//     timeout, a reset connection), or a policy inside refused it. An
//     attempt ended by the caller's own cancellation or deadline, or
//     canceled because a hedge won, is not reported at all: it says
//     nothing about the dependency.
//
// Each budget uses what it needs: Ratio counts Requests and Retries,
// Adaptive Retries and the ok Dones, Throttler every Done. A Budget of
// your own (one shared by a fleet, say) gets the same calls.
//
// When two policies of one pipeline share a budget, each attempt should be
// told once: a hedge inside a retry, say, asks Retry before each hedge and
// reports the hedges' Dones, and leaves Request and the first attempt's
// Done to the retry, for which the hedged group is one attempt.
//
// # Throttling
//
// [Throttle] puts a [Throttler] in front of calls: a rejected call fails at
// once with [ErrThrottled], a rejection ([resilience.IsRejected]), which a
// breaker or monitor outside does not count against the dependency. The
// throttler counts the requests that ended (and those it rejected), and
// the accepts among them. Place Throttle outside Retry to throttle calls,
// and give the same Throttler to retry.Config.Budget to throttle their
// retries too; or place it inside Retry to throttle every attempt alike
// (a throttled attempt then ends the call with ErrThrottled, which is not
// retried). Both uses count into the same window, each what it sees.
//
// As the SRE book notes, the throttler needs traffic to learn: with K = 2
// it rejects nothing until more than half the requests of its window
// failed, and it rejects with a probability that grows with the number of
// requests, so a client that calls rarely is barely throttled.
//
// # Windows and cost
//
// Ratio and Throttler count over a rolling window (package
// internal/window: ten ticks, and the counts of the last ten to eleven
// ticks). Recording a call is an atomic add; the window is moved on by
// the decisions, which read the monotonic clock, and by every 64th
// recorded call. Adaptive has no window: its memory is its capacity, and
// it never reads the clock. No budget allocates per call, and none takes
// a lock on a call but the one that moves a window on, once per tick (a
// tenth of the window), which also allocates its new snapshot. Decisions
// that take from a budget use a compare-and-swap, so concurrent callers
// never take more than there is.
//
// With a budget, a retry policy's successful call costs two more method
// calls (Request, Done) of a few nanoseconds; see the benchmarks module.
//
// # Configuration
//
// Each budget has a config struct whose zero value is valid and means the
// defaults given on its fields; out-of-range values are an error from the
// constructor and from the config's Validate, a *resilience.ConfigError
// naming the field (see "Bad configuration" in package resilience).
package budget
