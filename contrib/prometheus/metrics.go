package prometheus

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append([]string{"name"}, labels...), nil)
}

// The metrics, by part. The package documentation has the table.
var (
	// *monitor.Metrics
	callsDesc     = desc("steady_calls_total", "Calls recorded by a steady monitor, by how they ended: success, failure, timeout, canceled (by the caller) or rejected (by a policy, without calling the dependency).", "outcome")
	durationDesc  = desc("steady_call_duration_seconds", "Duration of the calls recorded by a steady monitor, rejected calls left out.")
	timeoutsDesc  = desc("steady_timeouts_total", "Calls recorded by a steady monitor that timed out, by cause: limit (a timeout inside the call fired), deadline (the caller's own deadline passed) or propagated (the caller's deadline, sent by an upstream service, passed).", "cause")
	alertDesc     = desc("steady_alert_firing", "1 while a steady monitor's timeout-rate alert rule fires, else 0; window is the rule's window in seconds, threshold its timeout ratio.", "window", "threshold")
	abandonedDesc = desc("steady_abandoned_calls", "Calls a steady timeout gave up on that are still running.")

	// *breaker.CircuitBreaker
	circuitStateDesc       = desc("steady_circuit_state", "State of a steady circuit breaker: 1 for the state it is in, 0 for the others.", "state")
	circuitIsolatedDesc    = desc("steady_circuit_isolated", "1 while a steady circuit breaker is held open by Isolate, else 0.")
	circuitTransitionsDesc = desc("steady_circuit_transitions_total", "Changes of state of a steady circuit breaker.", "from", "to")
	circuitIsolationsDesc  = desc("steady_circuit_isolations_total", "Calls of Isolate that isolated a steady circuit breaker.")
	circuitResetsDesc      = desc("steady_circuit_resets_total", "Calls of Reset on a steady circuit breaker.")
	circuitRejectedDesc    = desc("steady_circuit_rejected_total", "Calls a steady circuit breaker rejected without calling the dependency.")
	circuitWaitingDesc     = desc("steady_circuit_waiting_calls", "Calls waiting now for a steady circuit breaker to let them through.")
	circuitWaitedDesc      = desc("steady_circuit_waited_total", "Calls a steady circuit breaker let through after they waited.")

	// *hedge.Hedger
	hedgeCallsDesc    = desc("steady_hedge_calls_total", "Calls made through a steady hedger.")
	hedgedCallsDesc   = desc("steady_hedged_calls_total", "Calls through a steady hedger that started at least one hedge.")
	hedgesDesc        = desc("steady_hedges_total", "Hedges a steady hedger started.")
	hedgeWinsDesc     = desc("steady_hedge_wins_total", "Hedges that won their call.")
	hedgesDeniedDesc  = desc("steady_hedges_denied_total", "Hedges a steady hedger did not start because its budget refused them.")
	hedgesRunningDesc = desc("steady_hedges_running", "Losing hedges still running after their call returned.")
	hedgeDelayDesc    = desc("steady_hedge_delay_seconds", "The delay after which a steady hedger starts a hedge now.")
	hedgeRatioDesc    = desc("steady_hedge_ratio", "Share of the calls through a steady hedger that started a hedge, since it was made.")

	// budget.Budget
	budgetRequestsDesc  = desc("steady_budget_requests_total", "Calls that asked a steady budget for their first attempt.")
	budgetRetriesDesc   = desc("steady_budget_retries_total", "Extra attempts (retries and hedges) a steady budget allowed.")
	budgetDeniedDesc    = desc("steady_budget_denied_total", "Extra attempts a steady budget refused, and calls a throttler rejected.")
	budgetSucceededDesc = desc("steady_budget_retries_succeeded_total", "Extra attempts allowed by a steady budget that succeeded.")
	budgetHeadroomDesc  = desc("steady_budget_headroom", "Room a steady budget has now: about how many extra attempts in a row it would allow (for a throttler, how many more attempts may fail before it rejects).")
	budgetRejectDesc    = desc("steady_budget_reject_ratio", "Probability with which a steady throttler rejects a call now; 0 for other budgets.")

	// *bulkhead.Bulkhead
	bulkheadInFlightDesc = desc("steady_bulkhead_in_flight_calls", "Slots of a steady bulkhead held now.")
	bulkheadQueuedDesc   = desc("steady_bulkhead_queued_calls", "Calls waiting now for a slot of a steady bulkhead.")
	bulkheadMaxDesc      = desc("steady_bulkhead_max_concurrent_calls", "The number of calls a steady bulkhead lets run at once.")
	bulkheadMaxQueueDesc = desc("steady_bulkhead_max_queued_calls", "The number of calls that may wait for a slot of a steady bulkhead.")
	bulkheadAdmittedDesc = desc("steady_bulkhead_admitted_total", "Calls that got a slot of a steady bulkhead, at once or after queuing.")
	bulkheadRejectedDesc = desc("steady_bulkhead_rejected_total", "Calls a steady bulkhead rejected: its queue was full, or they waited its QueueTimeout.")
	bulkheadQTimeoutDesc = desc("steady_bulkhead_queue_timeouts_total", "Calls a steady bulkhead rejected after they waited its QueueTimeout (also counted in steady_bulkhead_rejected_total).")
	// *timeout.Adaptive
	adaptiveLimitDesc    = desc("steady_adaptive_timeout_seconds", "The limit a steady adaptive timeout gives a call now.")
	adaptiveCallsDesc    = desc("steady_adaptive_timeout_calls_total", "Calls that taught a steady adaptive timeout its limit.")
	adaptiveTimeoutsDesc = desc("steady_adaptive_timeout_timeouts_total", "Calls that taught a steady adaptive timeout and timed out.")
	adaptiveSkippedDesc  = desc("steady_adaptive_timeout_skipped_total", "Calls that taught a steady adaptive timeout nothing (retries, hedges, the caller's deadline or cancellation, rejections).")
	adaptiveWarmingDesc  = desc("steady_adaptive_timeout_warming_up", "1 while a steady adaptive timeout gives calls its Max until its next estimate, else 0.")

	bulkheadCanceledDesc = desc("steady_bulkhead_canceled_total", "Calls whose context ended while they were queued for a slot of a steady bulkhead.")
)

var allDescs = []*prometheus.Desc{
	callsDesc, durationDesc, timeoutsDesc, alertDesc, abandonedDesc,
	circuitStateDesc, circuitIsolatedDesc, circuitTransitionsDesc, circuitIsolationsDesc, circuitResetsDesc,
	circuitRejectedDesc, circuitWaitingDesc, circuitWaitedDesc,
	hedgeCallsDesc, hedgedCallsDesc, hedgesDesc, hedgeWinsDesc, hedgesDeniedDesc, hedgesRunningDesc, hedgeDelayDesc, hedgeRatioDesc,
	budgetRequestsDesc, budgetRetriesDesc, budgetDeniedDesc, budgetSucceededDesc, budgetHeadroomDesc, budgetRejectDesc,
	bulkheadInFlightDesc, bulkheadQueuedDesc, bulkheadMaxDesc, bulkheadMaxQueueDesc,
	bulkheadAdmittedDesc, bulkheadRejectedDesc, bulkheadQTimeoutDesc, bulkheadCanceledDesc,
	adaptiveLimitDesc, adaptiveCallsDesc, adaptiveTimeoutsDesc, adaptiveSkippedDesc, adaptiveWarmingDesc,
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func collectMetrics(ch chan<- prometheus.Metric, name string, m *monitor.Metrics, h *monitor.Histogram) {
	s := m.Snapshot()
	counter(ch, callsDesc, float64(s.Successes), name, "success")
	counter(ch, callsDesc, float64(s.Failures), name, "failure")
	counter(ch, callsDesc, float64(s.Timeouts), name, "timeout")
	counter(ch, callsDesc, float64(s.Canceled), name, "canceled")
	counter(ch, callsDesc, float64(s.Rejected), name, "rejected")

	counter(ch, timeoutsDesc, float64(s.LimitTimeouts), name, "limit")
	counter(ch, timeoutsDesc, float64(s.DeadlineTimeouts), name, "deadline")
	counter(ch, timeoutsDesc, float64(s.PropagatedTimeouts), name, "propagated")

	m.Histogram(h)
	ch <- newDurationHistogram(durationDesc, name, h)

	alerts := m.Alerts()
	for i, a := range alerts {
		// Two rules alike would make one series twice, which fails the
		// scrape: the first one speaks for both, firing if either does.
		firing, dup := a.Firing, false
		for j, b := range alerts {
			if b.Window == a.Window && b.Threshold == a.Threshold {
				firing = firing || b.Firing
				dup = dup || j < i
			}
		}
		if !dup {
			gauge(ch, alertDesc, boolValue(firing), name,
				strconv.FormatFloat(a.Window.Seconds(), 'g', -1, 64), strconv.FormatFloat(a.Threshold, 'g', -1, 64))
		}
	}
	gauge(ch, abandonedDesc, float64(s.Abandoned), name)
}

// states are the label values of steady_circuit_state, as State.String
// spells them.
var states = [...]breaker.State{breaker.StateClosed, breaker.StateOpen, breaker.StateHalfOpen}

func collectBreaker(ch chan<- prometheus.Metric, name string, s breaker.Snapshot) {
	for _, st := range states {
		gauge(ch, circuitStateDesc, boolValue(s.State == st), name, st.String())
	}
	gauge(ch, circuitIsolatedDesc, boolValue(s.Isolated), name)

	t := s.Transitions
	closed, open, halfOpen := breaker.StateClosed.String(), breaker.StateOpen.String(), breaker.StateHalfOpen.String()
	counter(ch, circuitTransitionsDesc, float64(t.Trips), name, closed, open)
	counter(ch, circuitTransitionsDesc, float64(t.HalfOpens), name, open, halfOpen)
	counter(ch, circuitTransitionsDesc, float64(t.Closes), name, halfOpen, closed)
	counter(ch, circuitTransitionsDesc, float64(t.Reopens), name, halfOpen, open)
	counter(ch, circuitIsolationsDesc, float64(t.Isolations), name)
	counter(ch, circuitResetsDesc, float64(t.Resets), name)

	counter(ch, circuitRejectedDesc, float64(s.Rejected), name)
	gauge(ch, circuitWaitingDesc, float64(s.Waiting), name)
	counter(ch, circuitWaitedDesc, float64(s.Waited), name)
}

func collectHedger(ch chan<- prometheus.Metric, name string, s hedge.Stats) {
	counter(ch, hedgeCallsDesc, float64(s.Calls), name)
	counter(ch, hedgedCallsDesc, float64(s.Hedged), name)
	counter(ch, hedgesDesc, float64(s.Hedges), name)
	counter(ch, hedgeWinsDesc, float64(s.Wins), name)
	counter(ch, hedgesDeniedDesc, float64(s.Denied), name)
	gauge(ch, hedgesRunningDesc, float64(s.Running), name)
	gauge(ch, hedgeDelayDesc, s.Delay.Seconds(), name)
	gauge(ch, hedgeRatioDesc, s.Rate, name)
}

func collectBudget(ch chan<- prometheus.Metric, name string, s budget.Stats) {
	counter(ch, budgetRequestsDesc, float64(s.Requests), name)
	counter(ch, budgetRetriesDesc, float64(s.Retries), name)
	counter(ch, budgetDeniedDesc, float64(s.Denied), name)
	counter(ch, budgetSucceededDesc, float64(s.Succeeded), name)
	gauge(ch, budgetHeadroomDesc, s.Headroom, name)
	gauge(ch, budgetRejectDesc, s.RejectRate, name)
}

func collectBulkhead(ch chan<- prometheus.Metric, name string, s bulkhead.Snapshot) {
	gauge(ch, bulkheadInFlightDesc, float64(s.InFlight), name)
	gauge(ch, bulkheadQueuedDesc, float64(s.Queued), name)
	gauge(ch, bulkheadMaxDesc, float64(s.MaxConcurrent), name)
	gauge(ch, bulkheadMaxQueueDesc, float64(s.MaxQueue), name)
	counter(ch, bulkheadAdmittedDesc, float64(s.Admitted), name)
	counter(ch, bulkheadRejectedDesc, float64(s.Rejected), name)
	counter(ch, bulkheadQTimeoutDesc, float64(s.QueueTimeouts), name)
	counter(ch, bulkheadCanceledDesc, float64(s.Canceled), name)
}

func collectAdaptive(ch chan<- prometheus.Metric, name string, s timeout.AdaptiveSnapshot) {
	gauge(ch, adaptiveLimitDesc, s.Limit.Seconds(), name)
	counter(ch, adaptiveCallsDesc, float64(s.Calls), name)
	counter(ch, adaptiveTimeoutsDesc, float64(s.Timeouts), name)
	counter(ch, adaptiveSkippedDesc, float64(s.Skipped), name)
	gauge(ch, adaptiveWarmingDesc, boolValue(s.WarmingUp), name)
}
