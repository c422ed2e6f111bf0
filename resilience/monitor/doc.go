// Package monitor shows what goes on in the calls of a pipeline: how many
// succeed, fail, time out or are canceled, how long they take, and when
// the timeout rate climbs. It records into a [Metrics], alerts on the
// timeout rate and logs through [log/slog].
//
//	m := monitor.NewMetrics(monitor.Name("payments"),
//		monitor.Alert(monitor.AlertRule{Window: 30 * time.Second, Threshold: 0.2}))
//	call := resilience.Compose(monitor.Monitor[*Receipt](m), timeout.WithTimeout[*Receipt](2*time.Second))(charge)
//	...
//	fmt.Println(m.Snapshot()) // total=1200 ok=1150 failed=10 timeouts=40 ... timeout_rate=3.4%
//
// # What is counted
//
// [Monitor] classifies each call with [resilience.Classify] and counts it in
// exactly one of four outcomes (see [Stats]): a success, a failure, a
// timeout (a limit inside the call fired, or the caller's own deadline
// passed), or canceled (the caller canceled: not the dependency's fault, so
// neither a failure nor part of the timeout rate). Every call counts in the
// durations. Calls recorded by hand with [Metrics.Record] count the same
// way.
//
// The mean is exact: the summed duration (kept in 128 bits, so it cannot
// overflow) divided by the number of calls. Max is exact too. The
// percentiles come from a log-linear histogram, 16 linear buckets per power
// of two: each is within 6.25% of the true value for durations from 512ns
// to about 73 minutes, and within 32ns below 512ns.
//
// # Alerts
//
// An [AlertRule], installed with the [Alert] option, watches the timeout
// rate over a sliding window and fires once when it goes above a
// threshold, resolves once when it comes back, and waits out a cool-down
// before firing again. Events are logged and passed to the rule's OnAlert
// callback, never under a lock. Rules are evaluated by the calls that
// record and by Snapshot, once per tenth of the window: no goroutine runs in
// the background.
//
// # Logging
//
// A Metrics logs to the [*slog.Logger] of the [Logger] option
// ([slog.Default] if none): alerts firing at Warn and resolving at Info,
// and timed-out calls at Warn, at most one line a second per Metrics (the
// line counts the timeouts it stands for in its "suppressed" attribute).
// Attributes are typed: name, rate, calls, timeouts, window, threshold;
// duration, outcome, err.
//
// # Performance
//
// Recording takes no lock and does not allocate: every counter is an
// atomic, spread over 8 shards on separate cache lines, and goroutines on
// different CPUs record into different shards, so that recording from many
// CPUs scales. Monitor reads the
// monotonic clock twice per call and nothing more. Snapshot adds the shards
// up; it costs a few microseconds, so read it for reports, not per call.
//
// # Testing
//
// Alerts and rate limits run on the monotonic clock, which follows the fake
// clock of [testing/synctest]: create the Metrics inside the bubble and
// move time on with time.Sleep. [Metrics.Reset] starts a new phase.
package monitor
