// Package monitor counts what goes on in the calls of a pipeline: how many
// succeed, fail, time out, are canceled or are rejected, how long they
// take, and when the timeout rate climbs.
//
// [Monitor] records every call into a [*Metrics]; [Metrics.Snapshot] reads
// the figures as [Stats]; the [AlertRule] values of a [Config] watch the
// timeout rate:
//
//	m, err := monitor.NewMetrics(monitor.Config{
//		Name:   "payments",
//		Logger: logger,
//		Alerts: []monitor.AlertRule{{Window: 30 * time.Second, Threshold: 0.2}},
//	})
//	...
//	charge := resilience.Compose(
//		monitor.Monitor[*Receipt](m), // outermost: sees each call as the caller does
//		breaker.Breaker[*Receipt](cb),
//		timeout.WithTimeout[*Receipt](2*time.Second),
//	)(chargeCard)
//	...
//	fmt.Println(m.Snapshot()) // total=1200 ok=1150 failed=10 timeouts=40 canceled=0 rejected=0 ... timeout_rate=3.3%
//
// A Metrics is made once, is safe for concurrent use, and is shared by any
// number of pipelines of any result type. Its zero value is ready to use.
// [Default] is the one that httpx.MonitoredOperation records into.
//
// # What is counted
//
// Each call counts in exactly one outcome of [resilience.Classify]:
// Successes, Failures, Timeouts ([resilience.OutcomeTimeout] and
// [resilience.OutcomeDeadline]), Canceled or Rejected
// ([resilience.OutcomeRejected] says what a rejection is). Under [Monitor],
// a call that panics is a failure, and a call that fails on a deadline that
// had already passed when it began is rejected: the dependency had no
// chance to answer it. [Metrics.Record] counts by the Outcome it is given.
//
// Timeouts are also counted by cause, in [Stats]: LimitTimeouts (a limit
// inside the call fired: the dependency was slow), DeadlineTimeouts (the
// caller's own deadline passed) and PropagatedTimeouts (the caller's
// deadline passed and had come from an upstream service, through
// httpx.Deadlines or contrib/grpc's server interceptor: the context's cause
// is [resilience.ErrPropagatedDeadline]). A service whose timeouts are
// mostly propagated is giving up on behalf of callers that already have;
// its dependencies may be fine.
//
// Canceled calls are the caller's doing: they are not failures and stay
// out of the timeout rate and the alert windows. Rejected calls are counted
// and nothing more: they stay out of the durations too. Were they counted,
// a breaker that opened on timeouts would dilute the timeout rate with its
// own rejections, and an alert would resolve while the dependency was still
// down. Every other call counts in the durations, the time callers waited.
//
// The mean is exact: the summed duration (kept in 128 bits, so it cannot
// overflow) divided by the number of calls that have one. Max is exact too.
// The percentiles come from a log-linear histogram with 16 linear buckets
// per power of two: each is within 6.25% of the true value for durations
// from 512ns to about 73 minutes, and within 32ns below 512ns.
//
// # Exporting
//
// Exporters and dashboards read a Metrics without touching the call path:
// [Metrics.Snapshot] for the counts and percentiles, [Metrics.Histogram]
// for the buckets of the duration histogram (a Prometheus or OpenTelemetry
// histogram, or percentiles over the last few seconds: read two, and
// [Histogram.Sub] the first from the second), [Metrics.Histograms] for
// the same split into the calls that timed out and the others (kept apart
// as they are recorded, so each only grows), and [Metrics.Alerts] for
// which alert rules are firing. contrib/prometheus, contrib/otel and
// package dashboard do so.
//
// # Alerts
//
// An [AlertRule] watches the timeout rate over a sliding window: the share
// of the window's calls, canceled and rejected ones left out, that timed
// out. It fires when the window holds at least MinCalls calls and the rate
// is above Threshold, and does not fire again while the rate stays above.
// It resolves when the window holds at least MinCalls calls and the rate is
// at Threshold or below. A window with fewer calls decides nothing: a
// firing alert stays firing and a quiet one stays quiet, so an alert does
// not resolve because an open breaker lets only a few probes through, or
// because traffic stopped. After a firing, the next waits out Cooldown.
//
// The window is split into 10 ticks and slides one tick at a time. A rule
// is evaluated once per tick, by the first Record or Snapshot after the
// tick starts, over the 10 whole ticks just ended: so it fires or resolves
// up to a tenth of its window after the calls that cause it, and never
// while nothing records or reads the Metrics. No goroutine runs in the
// background. Calls recorded concurrently with an evaluation may count in
// the tick before.
//
// Each event is logged, then passed to the rule's OnAlert, from the
// goroutine of the Record or Snapshot that evaluated the rule (one of your
// callers, after its call is counted). OnAlert follows the rule for hooks of
// package resilience: it runs with no lock held, so it may call the
// Metrics; events are delivered one at a time, in order; one that blocks
// delays that caller only; a panic is recovered and reported, the caller's
// call returns what it returned, and later events are still delivered.
//
// # Logging
//
// A Metrics logs to [Config.Logger], and with a nil Logger logs nothing.
// It logs:
//   - an alert firing, at Warn, and resolving, at Info, with the attributes
//     name, rate, calls, timeouts, window and threshold;
//   - a call that timed out, at Warn, with name, outcome, duration, err
//     (under [Monitor]) and suppressed. There is at most one such line a
//     second per Metrics, so a storm of timeouts does not flood the log;
//     suppressed counts the timeouts left unlogged since the line before.
//     Under Monitor the call's context goes to the handler.
//
// A panic in OnAlert or in the Logger's handler is reported as package
// resilience says, to [slog.Default] when the Logger is what panicked.
//
// # Performance
//
// Recording takes no lock and does not allocate. The counters are atomics
// spread over 8 shards on separate cache lines, and goroutines on different
// CPUs record into different shards, so recording from many CPUs scales.
// Monitor reads the monotonic clock twice per call, which is most of its
// cost. Snapshot adds up the shards, in a few microseconds: read it for
// reports, not per call.
//
// # Testing
//
// Durations, alert windows and the log rate limit all follow the monotonic
// clock, which inside a [testing/synctest] bubble is the bubble's fake
// clock: create the Metrics inside the bubble, and a call that sleeps 3s
// records exactly 3s, and time.Sleep(window) ages calls out of an alert's
// window at once. [Metrics.Reset] starts a new phase.
package monitor
