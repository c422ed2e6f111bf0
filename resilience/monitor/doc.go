// Package monitor shows what goes on in the calls of a pipeline: how many
// succeed, fail, time out or are canceled, how long they take, and when the
// timeout rate climbs. [Monitor] records every call into a [Metrics];
// [Metrics.Snapshot] reads the figures as [Stats]; an [AlertRule] watches
// the timeout rate; timeouts and alerts are logged through [log/slog].
//
//	m := monitor.NewMetrics(monitor.Name("payments"),
//		monitor.Alert(monitor.AlertRule{Window: 30 * time.Second, Threshold: 0.2}))
//	charge := resilience.Compose(
//		monitor.Monitor[*Receipt](m), // outermost: sees each call as the caller does
//		timeout.WithTimeout[*Receipt](2*time.Second),
//	)(chargeCard)
//	...
//	fmt.Println(m.Snapshot()) // total=1200 ok=1150 failed=10 timeouts=40 canceled=0 ... timeout_rate=3.3%
//
// A Metrics is made once, is safe for concurrent use, and is shared by any
// number of pipelines of any result type. Its zero value is ready to use;
// [Default] is the one that httpx.MonitoredOperation records into.
//
// # What is counted
//
// [Monitor] classifies each call with [resilience.Classify] and counts it
// in exactly one of four outcomes (see [Stats]): a success; a failure; a
// timeout (a limit inside the call fired, or the caller's own deadline
// passed); or canceled (the caller canceled: not the dependency's fault,
// so neither a failure nor part of the timeout rate). Calls recorded by
// hand with [Metrics.Record] count the same way. Every call counts in the
// durations, which are the time the callers waited.
//
// The mean is exact: the summed duration (kept in 128 bits, so it cannot
// overflow) divided by the number of calls, not a running average. Max is
// exact too. The percentiles come from a log-linear histogram with 16
// linear buckets per power of two: each percentile is within 6.25% of the
// true value for durations from 512ns to about 73 minutes, and within 32ns
// below 512ns.
//
// # Alerts
//
// An [AlertRule], installed with the [Alert] option, watches the timeout
// rate over a sliding window. It fires once when the rate goes above its
// threshold, resolves once when it comes back, and waits out a cool-down
// before firing again. Each event is logged and passed to the rule's
// OnAlert callback, never under a lock. Rules are evaluated by the calls
// that record and by Snapshot, once per tenth of the window: no goroutine
// runs in the background.
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
// Successes and failures are not logged: read them from Snapshot.
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
