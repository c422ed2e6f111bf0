// Package otel reports the figures of steady's parts (monitors, breakers,
// hedgers, budgets, bulkheads and adaptive timeouts) through OpenTelemetry
// asynchronous instruments: an [Observer] registers one callback with a
// metric.Meter, and at each collection it reads the Snapshot of every part
// added to it, so recording a call costs nothing more than without
// OpenTelemetry.
//
//	o, err := steadyotel.New(provider.Meter("github.com/steadyhq/steady"))
//	...
//	defer o.Close()
//	o.AddMetrics("payments", m)  // *monitor.Metrics
//	o.AddBreaker("payments", cb) // *breaker.CircuitBreaker
//
// Package otel is a nested module, github.com/steadyhq/steady/contrib/otel,
// so that steady itself does not depend on OpenTelemetry. Every measurement
// has the attribute name, the name its part was added under; parts of
// different kinds may share a name, two of one kind may not
// ([ErrDuplicate]).
//
// # Instruments
//
// The figures are those of package github.com/steadyhq/steady/contrib/prometheus,
// named in OpenTelemetry's style (dotted, unit in the unit field: s, 1,
// {call}); the attributes match the Prometheus labels, so an OpenTelemetry
// Prometheus exporter yields the same series (steady.calls becomes
// steady_calls_total, steady.call.duration steady_call_duration_seconds).
// The duration histogram comes from [Producer], the rest from the
// instruments the Observer registers.
//
//	steady.calls                  counter        {call}  attributes outcome (success, failure, timeout, canceled, rejected); timeouts also carry
//	                                                     error.type=timeout and steady.timeout.cause: limit (a limit inside the call fired),
//	                                                     deadline (the caller's own deadline passed), propagated (an upstream caller's deadline)
//	steady.call.duration          histogram      s       from [Producer]: buckets 1ms … 60s, exact sum; timed-out calls apart, with error.type=timeout
//	steady.call.duration.quantile gauge          s       attribute quantile: 0.5, 0.9, 0.99, 1 (the longest)
//	steady.call.duration.sum      counter        s       the durations summed
//	steady.calls.abandoned        updowncounter  {call}
//	steady.circuit.state          gauge          1       attribute state: closed, open, half-open; 1 for the current one
//	steady.circuit.isolated       gauge          1
//	steady.circuit.transitions    counter        {transition}  attributes from, to
//	steady.circuit.isolations, steady.circuit.resets, steady.circuit.rejected, steady.circuit.waited  counters
//	steady.circuit.waiting        updowncounter  {call}
//	steady.hedge.calls, steady.hedge.hedged_calls, steady.hedges, steady.hedge.wins, steady.hedge.denied  counters
//	steady.hedge.running          updowncounter  {hedge}
//	steady.hedge.delay            gauge          s
//	steady.hedge.ratio            gauge          1       hedged calls / calls, since it was made
//	steady.budget.requests, steady.budget.retries, steady.budget.denied, steady.budget.retries.succeeded  counters
//	steady.budget.headroom        gauge          {attempt}
//	steady.budget.reject_ratio    gauge          1
//	steady.bulkhead.in_flight, steady.bulkhead.queued, steady.bulkhead.max_concurrent, steady.bulkhead.max_queued  updowncounters
//	steady.bulkhead.admitted, steady.bulkhead.rejected, steady.bulkhead.queue_timeouts, steady.bulkhead.canceled  counters
//	steady.adaptive_timeout.limit gauge          s       the limit a call gets now
//	steady.adaptive_timeout.calls, steady.adaptive_timeout.timeouts, steady.adaptive_timeout.skipped  counters
//	steady.adaptive_timeout.warming_up  gauge    1
//
// OpenTelemetry's API has no asynchronous histogram, and a synchronous one
// would have to be fed on the call path. So the call duration comes two
// ways: as a histogram built from the monitor's own buckets at each
// collection by [Producer], which a reader of the SDK takes with
// sdkmetric.WithProducer; and, through the plain API, as the monitor's
// quantiles over every call since it was made or reset, and as a sum from
// which, with steady.calls, a recent mean follows. Durations are in
// seconds, as the semantic conventions want.
package otel
