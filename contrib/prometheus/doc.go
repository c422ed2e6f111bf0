// Package prometheus exports the figures of steady's parts (monitors,
// breakers, hedgers, budgets, bulkheads and adaptive timeouts) to Prometheus:
// a [Collector] reads the Snapshot of every part registered with it at
// each scrape, so recording a call costs nothing more than it does without
// Prometheus.
//
//	c := steadyprom.New()
//	prometheus.MustRegister(c)
//	c.AddMetrics("payments", m)  // *monitor.Metrics
//	c.AddBreaker("payments", cb) // *breaker.CircuitBreaker
//	c.AddBudget("payments", b)   // any budget.Budget
//	http.Handle("/metrics", promhttp.Handler())
//
// Each part is registered under a name, exported as the label name; parts
// of different kinds may share a name (a dependency's monitor, breaker and
// budget usually do), two of one kind may not ([ErrDuplicate]).
// Package prometheus is a nested module, github.com/steadyhq/steady/contrib/prometheus,
// so that steady itself does not depend on client_golang; import it under
// another name, such as steadyprom, next to client_golang's prometheus.
//
// # Metrics
//
// Names follow Prometheus practice: base units (seconds), counters end in
// _total, and every name starts with steady_. Counters count since the part
// was made (for a monitor.Metrics, since its last Reset: Prometheus takes
// the drop as a counter reset). Every series has the label name.
//
// From a *monitor.Metrics ([Collector.AddMetrics]):
//
//	steady_calls_total{outcome}        counter    outcome: success, failure, timeout, canceled, rejected
//	steady_timeouts_total{cause}       counter    the timeouts by cause: limit, deadline, propagated
//	steady_call_duration_seconds       histogram  classic buckets 1ms … 60s, and native buckets (schema 3)
//	steady_alert_firing{window,threshold} gauge   1 while the monitor's alert rule fires
//	steady_abandoned_calls             gauge      calls a timeout gave up on that still run
//
// The timeouts' causes (monitor.Stats) tell a slow dependency from callers
// that ran out of time: limit is a timeout inside the call (the
// dependency's slowness), deadline the caller's own deadline, propagated
// an upstream caller's deadline that reached this process through
// httpx.Deadlines or contrib/grpc. They add up to
// steady_calls_total{outcome="timeout"}.
//
// The duration histogram covers the calls that have a duration (all but
// the rejected) since the Metrics was made or reset, and is built at each
// scrape from the monitor's own histogram (monitor.Histogram), so nothing
// is added to the call path. It carries both kinds of buckets, as a
// client_golang histogram with native buckets enabled does: a scrape in
// the text format sees the classic buckets (le = 0.001, 0.0025, 0.005,
// 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), and a
// Prometheus server with native histograms enabled, which asks for the
// protobuf format, also gets the native ones (schema 3: 8 buckets per
// power of two). The monitor counts durations in buckets 3–6.25% wide;
// each goes to the classic and native bucket that holds its upper edge, so
// a call is never reported faster than it was, and at most one monitor
// bucket slower. _sum is exact. Timeouts are
// steady_calls_total{outcome="timeout"}; the timeout ratio the alerting
// rules in rules/steady.rules.yml watch is
//
//	sum by (name) (rate(steady_calls_total{outcome="timeout"}[5m]))
//	/ sum by (name) (rate(steady_calls_total{outcome=~"success|failure|timeout"}[5m]))
//
// From a *breaker.CircuitBreaker ([Collector.AddBreaker]):
//
//	steady_circuit_state{state}             gauge    1 for the current state, 0 for the others: closed, open, half-open
//	steady_circuit_isolated                 gauge    1 while held open by Isolate
//	steady_circuit_transitions_total{from,to} counter closed→open, open→half-open, half-open→closed, half-open→open
//	steady_circuit_isolations_total         counter
//	steady_circuit_resets_total             counter
//	steady_circuit_rejected_total           counter  calls rejected without calling the dependency
//	steady_circuit_waiting_calls            gauge    calls waiting for the breaker now
//	steady_circuit_waited_total             counter  calls let through after waiting
//
// From a *hedge.Hedger ([Collector.AddHedger]):
//
//	steady_hedge_calls_total                counter  calls made through it
//	steady_hedged_calls_total               counter  calls that started at least one hedge
//	steady_hedges_total                     counter  hedges started
//	steady_hedge_wins_total                 counter  hedges that won their call
//	steady_hedges_denied_total              counter  hedges the budget refused
//	steady_hedges_running                   gauge    losing hedges still running
//	steady_hedge_delay_seconds              gauge    the delay now
//	steady_hedge_ratio                      gauge    hedged calls / calls since it was made
//
// The realised hedge rate over a recent window is
// rate(steady_hedged_calls_total[5m]) / rate(steady_hedge_calls_total[5m]).
//
// From a budget.Budget ([Collector.AddBudget]):
//
//	steady_budget_requests_total            counter  calls that asked for their first attempt
//	steady_budget_retries_total             counter  extra attempts (retries, hedges) allowed
//	steady_budget_denied_total              counter  extra attempts refused (and calls a Throttler rejected)
//	steady_budget_retries_succeeded_total   counter  allowed extra attempts that succeeded
//	steady_budget_headroom                  gauge    budget.Stats.Headroom
//	steady_budget_reject_ratio              gauge    a Throttler's rejection probability now
//
// From a *bulkhead.Bulkhead ([Collector.AddBulkhead]):
//
//	steady_bulkhead_in_flight_calls         gauge
//	steady_bulkhead_queued_calls            gauge
//	steady_bulkhead_max_concurrent_calls    gauge    Config.MaxConcurrent
//	steady_bulkhead_max_queued_calls        gauge    Config.MaxQueue
//	steady_bulkhead_admitted_total          counter
//	steady_bulkhead_rejected_total          counter  queue full or queue timeout
//	steady_bulkhead_queue_timeouts_total    counter  the rejected that waited QueueTimeout
//	steady_bulkhead_canceled_total          counter  calls canceled while queued
//
// From a *timeout.Adaptive ([Collector.AddAdaptiveTimeout]):
//
//	steady_adaptive_timeout_seconds         gauge    the limit a call gets now
//	steady_adaptive_timeout_calls_total     counter  calls that taught it
//	steady_adaptive_timeout_timeouts_total  counter  those of them that timed out
//	steady_adaptive_timeout_skipped_total   counter  calls that taught it nothing
//	steady_adaptive_timeout_warming_up      gauge    1 while calls get its Max
//
// # Alerting rules
//
// rules/steady.rules.yml holds recording rules for the timeout ratio and
// multi-window, multi-burn-rate alerts on it, as in chapter 5 of the Site
// Reliability Workbook, for an objective of 99.9% of calls not timing out
// (edit the 0.001 to change it): a page when the ratio burns 14.4 times the
// error budget over both 1h and 5m (2% of a 30-day budget in an hour), or 6
// times over both 6h and 30m (5% in six hours); a ticket at 1 times over both
// 3d and 6h.
//
// # Cost
//
// A scrape takes each part's Snapshot once and builds its series; nothing
// runs between scrapes and no call is slowed. BenchmarkGather measures a
// scrape.
package prometheus
