// Package monitor shows what goes on in the calls of a pipeline: how many
// succeed, fail, time out, are canceled or are rejected, how long they
// take, and when the timeout rate climbs. [Monitor] records every call into
// a [Metrics]; [Metrics.Snapshot] reads the figures as [Stats]; an
// [AlertRule] watches the timeout rate; timeouts and alerts are logged
// through [log/slog].
//
//	m, err := monitor.New(monitor.Name("payments"),
//		monitor.Alert(monitor.AlertRule{Window: 30 * time.Second, Threshold: 0.2}))
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
// number of pipelines of any result type. Its zero value is ready to use;
// [New] makes one with options and returns a bad option as an error;
// [NewMetrics], for package-level variables, keeps that error for
// [Metrics.Err]. [Default] is the one that httpx.MonitoredOperation
// records into.
//
// # What is counted
//
// [Monitor] classifies each call with [resilience.Classify] and counts it
// in exactly one of five outcomes (see [Stats]): a success; a failure; a
// timeout (a limit inside the call fired, or the caller's own deadline
// passed during the call); canceled (the caller canceled: not the
// dependency's fault, so neither a failure nor part of the timeout rate);
// or rejected (a policy refused the call without calling the dependency,
// as an open circuit breaker does). A call that fails on a deadline that
// had already passed when it began is rejected too, not a timeout: the
// dependency had no chance to answer it. Calls recorded by hand with
// [Metrics.Record] count the same way, by the Outcome given. Every call
// that reached the dependency counts in the durations, which are the time
// the callers waited.
//
// Rejected calls are counted and nothing more: they say nothing about the
// dependency's health now, so they are neither failures nor timeouts, and
// are kept out of the durations, the timeout rate, the alert windows and
// the log. Were they counted as failures, a breaker that opened on
// timeouts would dilute the timeout rate with its own rejections, and the
// alert would resolve while the dependency was still down.
//
// The mean is exact: the summed duration (kept in 128 bits, so it cannot
// overflow) divided by the number of calls that have one (Total -
// Rejected), not a running average. Max is exact too. The percentiles come
// from a log-linear histogram with 16 linear buckets per power of two: each
// percentile is within 6.25% of the true value for durations from 512ns to
// about 73 minutes, and within 32ns below 512ns.
//
// # Alerts
//
// An [AlertRule], installed with the [Alert] option, watches the timeout
// rate over a sliding window. It fires once when the rate goes above its
// threshold, resolves once when it comes back, and waits out a cool-down
// before firing again. A window holding fewer than the rule's MinCalls
// calls decides nothing: a firing alert stays firing, a quiet one stays
// quiet, so an alert does not resolve because an open breaker lets only a
// few probes through, or because the traffic stopped. Each event is logged
// and passed to the rule's OnAlert callback, never under a lock. Rules are
// evaluated by the calls that record and by Snapshot, once per tenth of the
// window: no goroutine runs in the background.
//
// # Logging
//
// A Metrics logs to the [*slog.Logger] of its [Logger] option, or to
// [slog.Default]:
//   - an alert firing, at Warn, and resolving, at Info, with the attributes
//     name, rate, calls, timeouts, window and threshold;
//   - a call that timed out, at Warn, with name, outcome, duration, err
//     (under [Monitor]) and suppressed. To keep a storm of timeouts from
//     flooding the log there is at most one such line a second per
//     Metrics; suppressed counts the timeouts left unlogged since the line
//     before. Under Monitor the call's context goes to the handler.
//
// Successes, failures, cancellations and rejections are not logged: read
// them from Snapshot.
//
// # Performance
//
// Recording takes no lock and does not allocate. The counters are
// atomics, spread over 8 shards on separate cache lines, and goroutines on
// different CPUs record into different shards, so recording from many CPUs
// scales instead of fighting over one cache line. Monitor reads the
// monotonic clock twice per call, which is most of its cost. Snapshot adds
// up the shards, in a few microseconds: read it for reports, not per call.
//
// # Testing
//
// Durations, alert windows and the log rate limit all follow the monotonic
// clock, which inside a [testing/synctest] bubble is the bubble's fake
// clock: create the Metrics inside the bubble, and a call that sleeps 3s
// records exactly 3s, and time.Sleep(window) ages calls out of an alert's
// window at once. [Metrics.Reset] starts a new phase.
package monitor
