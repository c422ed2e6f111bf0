package otel

import (
	"errors"

	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instruments are the observable instruments of an Observer. The package
// documentation has the table.
type instruments struct {
	calls, abandoned                        metric.Int64Observable
	duration, durationSum                   metric.Float64Observable
	circuitState, circuitIsolated           metric.Int64Observable
	circuitTransitions, circuitIsolations   metric.Int64Observable
	circuitResets, circuitRejected          metric.Int64Observable
	circuitWaiting, circuitWaited           metric.Int64Observable
	hedgeCalls, hedgedCalls, hedges         metric.Int64Observable
	hedgeWins, hedgesDenied, hedgesRunning  metric.Int64Observable
	hedgeDelay, hedgeRatio                  metric.Float64Observable
	budgetRequests, budgetRetries           metric.Int64Observable
	budgetDenied, budgetSucceeded           metric.Int64Observable
	budgetHeadroom, budgetReject            metric.Float64Observable
	bulkheadInFlight, bulkheadQueued        metric.Int64Observable
	bulkheadMax, bulkheadMaxQueue           metric.Int64Observable
	bulkheadAdmitted, bulkheadRejected      metric.Int64Observable
	bulkheadQueueTimeouts, bulkheadCanceled metric.Int64Observable
	adaptiveLimit                           metric.Float64Observable
	adaptiveCalls, adaptiveTimeouts         metric.Int64Observable
	adaptiveSkipped, adaptiveWarmingUp      metric.Int64Observable
}

// builder creates instruments, keeping the first error.
type builder struct {
	m   metric.Meter
	err error
	all []metric.Observable
}

func (b *builder) keep(o metric.Observable, err error) {
	b.err = errors.Join(b.err, err)
	if err == nil {
		b.all = append(b.all, o)
	}
}

func (b *builder) counter(name, unit, desc string) metric.Int64Observable {
	o, err := b.m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.keep(o, err)
	return o
}

func (b *builder) upDown(name, unit, desc string) metric.Int64Observable {
	o, err := b.m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.keep(o, err)
	return o
}

func (b *builder) gauge(name, unit, desc string) metric.Int64Observable {
	o, err := b.m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.keep(o, err)
	return o
}

func (b *builder) floatGauge(name, unit, desc string) metric.Float64Observable {
	o, err := b.m.Float64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.keep(o, err)
	return o
}

func (b *builder) floatCounter(name, unit, desc string) metric.Float64Observable {
	o, err := b.m.Float64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	b.keep(o, err)
	return o
}

func (in *instruments) create(m metric.Meter) ([]metric.Observable, error) {
	b := &builder{m: m}
	in.calls = b.counter("steady.calls", "{call}", "Calls recorded by a steady monitor, by outcome: success, failure, timeout, canceled or rejected; timeouts by steady.timeout.cause: limit, deadline or propagated.")
	in.duration = b.floatGauge("steady.call.duration.quantile", "s", "Quantiles (attribute quantile: 0.5, 0.9, 0.99, and 1 for the longest) of the durations of the calls a steady monitor recorded since it was made or reset, rejected calls left out.")
	in.durationSum = b.floatCounter("steady.call.duration.sum", "s", "Sum of the durations of the calls a steady monitor recorded, rejected calls left out.")
	in.abandoned = b.upDown("steady.calls.abandoned", "{call}", "Calls a steady timeout gave up on that are still running.")

	in.circuitState = b.gauge("steady.circuit.state", "1", "1 for the state a steady circuit breaker is in (attribute state: closed, open, half-open), 0 for the others.")
	in.circuitIsolated = b.gauge("steady.circuit.isolated", "1", "1 while a steady circuit breaker is held open by Isolate, else 0.")
	in.circuitTransitions = b.counter("steady.circuit.transitions", "{transition}", "Changes of state of a steady circuit breaker (attributes from, to).")
	in.circuitIsolations = b.counter("steady.circuit.isolations", "{isolation}", "Calls of Isolate that isolated a steady circuit breaker.")
	in.circuitResets = b.counter("steady.circuit.resets", "{reset}", "Calls of Reset on a steady circuit breaker.")
	in.circuitRejected = b.counter("steady.circuit.rejected", "{call}", "Calls a steady circuit breaker rejected without calling the dependency.")
	in.circuitWaiting = b.upDown("steady.circuit.waiting", "{call}", "Calls waiting now for a steady circuit breaker to let them through.")
	in.circuitWaited = b.counter("steady.circuit.waited", "{call}", "Calls a steady circuit breaker let through after they waited.")

	in.hedgeCalls = b.counter("steady.hedge.calls", "{call}", "Calls made through a steady hedger.")
	in.hedgedCalls = b.counter("steady.hedge.hedged_calls", "{call}", "Calls through a steady hedger that started at least one hedge.")
	in.hedges = b.counter("steady.hedges", "{hedge}", "Hedges a steady hedger started.")
	in.hedgeWins = b.counter("steady.hedge.wins", "{hedge}", "Hedges that won their call.")
	in.hedgesDenied = b.counter("steady.hedge.denied", "{hedge}", "Hedges a steady hedger did not start because its budget refused them.")
	in.hedgesRunning = b.upDown("steady.hedge.running", "{hedge}", "Losing hedges still running after their call returned.")
	in.hedgeDelay = b.floatGauge("steady.hedge.delay", "s", "The delay after which a steady hedger starts a hedge now.")
	in.hedgeRatio = b.floatGauge("steady.hedge.ratio", "1", "Share of the calls through a steady hedger that started a hedge, since it was made.")

	in.budgetRequests = b.counter("steady.budget.requests", "{call}", "Calls that asked a steady budget for their first attempt.")
	in.budgetRetries = b.counter("steady.budget.retries", "{attempt}", "Extra attempts (retries and hedges) a steady budget allowed.")
	in.budgetDenied = b.counter("steady.budget.denied", "{attempt}", "Extra attempts a steady budget refused, and calls a throttler rejected.")
	in.budgetSucceeded = b.counter("steady.budget.retries.succeeded", "{attempt}", "Extra attempts allowed by a steady budget that succeeded.")
	in.budgetHeadroom = b.floatGauge("steady.budget.headroom", "{attempt}", "Room a steady budget has now: about how many extra attempts in a row it would allow.")
	in.budgetReject = b.floatGauge("steady.budget.reject_ratio", "1", "Probability with which a steady throttler rejects a call now; 0 for other budgets.")

	in.bulkheadInFlight = b.upDown("steady.bulkhead.in_flight", "{call}", "Slots of a steady bulkhead held now.")
	in.bulkheadQueued = b.upDown("steady.bulkhead.queued", "{call}", "Calls waiting now for a slot of a steady bulkhead.")
	in.bulkheadMax = b.upDown("steady.bulkhead.max_concurrent", "{call}", "The number of calls a steady bulkhead lets run at once.")
	in.bulkheadMaxQueue = b.upDown("steady.bulkhead.max_queued", "{call}", "The number of calls that may wait for a slot of a steady bulkhead.")
	in.bulkheadAdmitted = b.counter("steady.bulkhead.admitted", "{call}", "Calls that got a slot of a steady bulkhead.")
	in.bulkheadRejected = b.counter("steady.bulkhead.rejected", "{call}", "Calls a steady bulkhead rejected: its queue was full, or they waited its QueueTimeout.")
	in.bulkheadQueueTimeouts = b.counter("steady.bulkhead.queue_timeouts", "{call}", "Calls a steady bulkhead rejected after they waited its QueueTimeout (also in steady.bulkhead.rejected).")
	in.bulkheadCanceled = b.counter("steady.bulkhead.canceled", "{call}", "Calls whose context ended while they were queued for a slot of a steady bulkhead.")

	in.adaptiveLimit = b.floatGauge("steady.adaptive_timeout.limit", "s", "The limit a steady adaptive timeout gives a call now.")
	in.adaptiveCalls = b.counter("steady.adaptive_timeout.calls", "{call}", "Calls that taught a steady adaptive timeout its limit.")
	in.adaptiveTimeouts = b.counter("steady.adaptive_timeout.timeouts", "{call}", "Calls that taught a steady adaptive timeout and timed out.")
	in.adaptiveSkipped = b.counter("steady.adaptive_timeout.skipped", "{call}", "Calls that taught a steady adaptive timeout nothing (retries, hedges, the caller's deadline or cancellation, rejections).")
	in.adaptiveWarmingUp = b.gauge("steady.adaptive_timeout.warming_up", "1", "1 while a steady adaptive timeout gives calls its Max until its next estimate, else 0.")
	return b.all, b.err
}

func attrs(name string, kv ...string) metric.ObserveOption {
	a := make([]attribute.KeyValue, 0, 1+len(kv)/2)
	a = append(a, attribute.String("name", name))
	for i := 0; i+1 < len(kv); i += 2 {
		a = append(a, attribute.String(kv[i], kv[i+1]))
	}
	return metric.WithAttributes(a...)
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (in *instruments) observeMetrics(o metric.Observer, name string, s monitor.Stats) {
	o.ObserveInt64(in.calls, s.Successes, attrs(name, "outcome", "success"))
	o.ObserveInt64(in.calls, s.Failures, attrs(name, "outcome", "failure"))
	// Timeouts by cause, adding up to the monitor's Timeouts.
	o.ObserveInt64(in.calls, s.LimitTimeouts, attrs(name, "outcome", "timeout", "error.type", "timeout", "steady.timeout.cause", "limit"))
	o.ObserveInt64(in.calls, s.DeadlineTimeouts, attrs(name, "outcome", "timeout", "error.type", "timeout", "steady.timeout.cause", "deadline"))
	o.ObserveInt64(in.calls, s.PropagatedTimeouts, attrs(name, "outcome", "timeout", "error.type", "timeout", "steady.timeout.cause", "propagated"))
	o.ObserveInt64(in.calls, s.Canceled, attrs(name, "outcome", "canceled"))
	o.ObserveInt64(in.calls, s.Rejected, attrs(name, "outcome", "rejected"))
	for _, q := range []struct {
		q string
		v float64
	}{{"0.5", s.P50.Seconds()}, {"0.9", s.P90.Seconds()}, {"0.99", s.P99.Seconds()}, {"1", s.Max.Seconds()}} {
		o.ObserveFloat64(in.duration, q.v, attrs(name, "quantile", q.q))
	}
	// Stats has the exact mean in whole nanoseconds, not the sum: the sum
	// is short by less than a nanosecond per call.
	o.ObserveFloat64(in.durationSum, s.Mean.Seconds()*float64(s.Total-s.Rejected), attrs(name))
	o.ObserveInt64(in.abandoned, s.Abandoned, attrs(name))
}

var states = [...]breaker.State{breaker.StateClosed, breaker.StateOpen, breaker.StateHalfOpen}

func (in *instruments) observeBreaker(o metric.Observer, name string, s breaker.Snapshot) {
	for _, st := range states {
		o.ObserveInt64(in.circuitState, flag(s.State == st), attrs(name, "state", st.String()))
	}
	o.ObserveInt64(in.circuitIsolated, flag(s.Isolated), attrs(name))
	t := s.Transitions
	closed, open, halfOpen := breaker.StateClosed.String(), breaker.StateOpen.String(), breaker.StateHalfOpen.String()
	o.ObserveInt64(in.circuitTransitions, int64(t.Trips), attrs(name, "from", closed, "to", open))
	o.ObserveInt64(in.circuitTransitions, int64(t.HalfOpens), attrs(name, "from", open, "to", halfOpen))
	o.ObserveInt64(in.circuitTransitions, int64(t.Closes), attrs(name, "from", halfOpen, "to", closed))
	o.ObserveInt64(in.circuitTransitions, int64(t.Reopens), attrs(name, "from", halfOpen, "to", open))
	o.ObserveInt64(in.circuitIsolations, int64(t.Isolations), attrs(name))
	o.ObserveInt64(in.circuitResets, int64(t.Resets), attrs(name))
	o.ObserveInt64(in.circuitRejected, int64(s.Rejected), attrs(name))
	o.ObserveInt64(in.circuitWaiting, s.Waiting, attrs(name))
	o.ObserveInt64(in.circuitWaited, s.Waited, attrs(name))
}

func (in *instruments) observeHedger(o metric.Observer, name string, s hedge.Stats) {
	o.ObserveInt64(in.hedgeCalls, s.Calls, attrs(name))
	o.ObserveInt64(in.hedgedCalls, s.Hedged, attrs(name))
	o.ObserveInt64(in.hedges, s.Hedges, attrs(name))
	o.ObserveInt64(in.hedgeWins, s.Wins, attrs(name))
	o.ObserveInt64(in.hedgesDenied, s.Denied, attrs(name))
	o.ObserveInt64(in.hedgesRunning, s.Running, attrs(name))
	o.ObserveFloat64(in.hedgeDelay, s.Delay.Seconds(), attrs(name))
	o.ObserveFloat64(in.hedgeRatio, s.Rate, attrs(name))
}

func (in *instruments) observeBudget(o metric.Observer, name string, s budget.Stats) {
	o.ObserveInt64(in.budgetRequests, s.Requests, attrs(name))
	o.ObserveInt64(in.budgetRetries, s.Retries, attrs(name))
	o.ObserveInt64(in.budgetDenied, s.Denied, attrs(name))
	o.ObserveInt64(in.budgetSucceeded, s.Succeeded, attrs(name))
	o.ObserveFloat64(in.budgetHeadroom, s.Headroom, attrs(name))
	o.ObserveFloat64(in.budgetReject, s.RejectRate, attrs(name))
}

func (in *instruments) observeBulkhead(o metric.Observer, name string, s bulkhead.Snapshot) {
	o.ObserveInt64(in.bulkheadInFlight, int64(s.InFlight), attrs(name))
	o.ObserveInt64(in.bulkheadQueued, int64(s.Queued), attrs(name))
	o.ObserveInt64(in.bulkheadMax, int64(s.MaxConcurrent), attrs(name))
	o.ObserveInt64(in.bulkheadMaxQueue, int64(s.MaxQueue), attrs(name))
	o.ObserveInt64(in.bulkheadAdmitted, int64(s.Admitted), attrs(name))
	o.ObserveInt64(in.bulkheadRejected, int64(s.Rejected), attrs(name))
	o.ObserveInt64(in.bulkheadQueueTimeouts, int64(s.QueueTimeouts), attrs(name))
	o.ObserveInt64(in.bulkheadCanceled, int64(s.Canceled), attrs(name))
}

func (in *instruments) observeAdaptive(o metric.Observer, name string, s timeout.AdaptiveSnapshot) {
	o.ObserveFloat64(in.adaptiveLimit, s.Limit.Seconds(), attrs(name))
	o.ObserveInt64(in.adaptiveCalls, int64(s.Calls), attrs(name))
	o.ObserveInt64(in.adaptiveTimeouts, int64(s.Timeouts), attrs(name))
	o.ObserveInt64(in.adaptiveSkipped, int64(s.Skipped), attrs(name))
	o.ObserveInt64(in.adaptiveWarmingUp, flag(s.WarmingUp), attrs(name))
}
