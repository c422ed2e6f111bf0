// Package breaker is a circuit breaker for steady pipelines, built on
// github.com/sony/gobreaker/v2: when a dependency keeps failing, timing out
// or answering slowly, the breaker opens and fails calls at once instead of
// sending them, so callers stop waiting and the dependency can recover.
//
//	cb, err := breaker.New(breaker.Settings{
//		Name:        "payments",
//		TimeoutRate: 0.5, // open when half the calls time out ...
//		MinRequests: 20,  // ... once the window holds 20 calls
//	})
//	...
//	call := resilience.Compose(
//		breaker.Breaker[*Receipt](cb),
//		timeout.WithTimeout[*Receipt](2*time.Second),
//	)(charge)
//
// # States
//
//	            a rule fires
//	+--------+ --------------> +------+
//	| closed |                 | open | <------------+
//	+--------+ <---+           +------+              |
//	               |              |                  |
//	               |              | OpenTimeout      | a probe fails
//	               |              v (+ jitter)       |
//	               |        +-----------+            |
//	               +------- | half-open | -----------+
//	   all HalfOpenRequests +-----------+
//	   probes succeed
//
// Closed, calls run and the breaker counts how they end in a rolling window
// (Settings.Window, 60s by default, in 10 buckets). When one of the rules
// of [Settings] fires (ConsecutiveFailures, FailureRate, TimeoutRate,
// SlowCallRate) the breaker opens. Open, every call is rejected with an
// [*OpenError] (errors.Is(err, [ErrOpen])) without calling fn, until
// Settings.OpenTimeout has passed; then it is half-open and lets
// Settings.HalfOpenRequests probe calls through: if they all succeed it
// closes with an empty window, and if one fails it opens again.
// [CircuitBreaker.Isolate] holds it open until [CircuitBreaker.Reset].
//
// # What counts
//
// The breaker classifies each call with [resilience.Classify]. The caller's
// own cancellation and the caller's own deadline are not the dependency's
// fault, and count neither way; nor does a call that a policy inside the
// breaker refused without calling the dependency (a nested breaker that is
// open, a timeout.WithDeadline whose deadline has passed: errors for which
// [resilience.IsRejected] is true). A timeout inside the breaker (put
// timeout.WithTimeout inside it) counts as a timeout, which the TimeoutRate
// rule looks at, and as a failure. A panic counts as a failure and goes on
// up the stack. Settings.IsFailure can declare errors harmless (a 404, a
// validation error). See [Settings] for the details.
//
// # Sharing and cost
//
// A [*CircuitBreaker] guards one dependency and is shared: by goroutines, and
// by pipelines of any result type ([Breaker] is generic, the breaker is
// not). A closed breaker adds a few atomic operations and one or two
// monotonic clock readings to a call, an open breaker rejects with two
// atomic operations, and neither allocates; the package benchmarks compare
// both with gobreaker's own Execute.
//
// # Observing it
//
// Every change of state is logged through log/slog (Settings.Logger) with
// the rule and the counts that caused it, and passed to
// Settings.OnStateChange. [CircuitBreaker.Snapshot] returns the window's
// counts and rates, the state, the number of rejected calls, the counts of
// each kind of transition and the time of the next probe.
package breaker
