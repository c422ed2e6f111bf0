package otel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/metric"

	"github.com/steadyhq/steady/internal/registry"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// ErrDuplicate is wrapped by the error an Add method returns when a part of
// the same kind is already registered under the name: two would report the
// same attributes.
var ErrDuplicate = errors.New("otel: name already registered")

// Observer reports the figures of named steady parts through asynchronous
// (observable) OpenTelemetry instruments: each Add method registers a part,
// and at every collection one callback reads the Snapshot of each, so the
// calls themselves pay nothing for being observed. The package
// documentation lists the instruments.
//
// Parts may be added and removed at any time. An Observer is safe for
// concurrent use. Close unregisters its callback.
type Observer struct {
	callback metric.Registration
	inst     instruments

	parts registry.Registry
}

// New creates steady's instruments with meter, registers the callback that
// observes them, and returns an Observer with no parts. It returns the
// meter's error if an instrument cannot be created.
func New(meter metric.Meter) (*Observer, error) {
	if meter == nil {
		return nil, &resilience.ConfigError{Pkg: "otel", Field: "meter", Want: "a metric.Meter"}
	}
	o := &Observer{}
	obs, err := o.inst.create(meter)
	if err != nil {
		return nil, err
	}
	o.callback, err = meter.RegisterCallback(o.observe, obs...)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Close unregisters the Observer's callback: its parts are no longer
// observed. It returns the meter's error, if any.
func (o *Observer) Close() error { return o.callback.Unregister() }

// AddMetrics observes m under name: the calls by outcome, their durations
// and the calls abandoned by a timeout.
func (o *Observer) AddMetrics(name string, m *monitor.Metrics) error {
	return o.parts.Add("otel", ErrDuplicate, registry.Part{Kind: registry.Metrics, Name: name, Metrics: m})
}

// AddBreaker observes cb under name: its state, transitions, rejected and
// waiting calls.
func (o *Observer) AddBreaker(name string, cb *breaker.CircuitBreaker) error {
	return o.parts.Add("otel", ErrDuplicate, registry.Part{Kind: registry.Breaker, Name: name, Breaker: cb})
}

// AddHedger observes h under name: its calls, the hedges it started, won
// and was denied, its delay and its realised hedge rate.
func (o *Observer) AddHedger(name string, h *hedge.Hedger) error {
	return o.parts.Add("otel", ErrDuplicate, registry.Part{Kind: registry.Hedger, Name: name, Hedger: h})
}

// AddBudget observes b under name: the extra attempts it allowed and
// denied, and its headroom. Any [budget.Budget] will do.
func (o *Observer) AddBudget(name string, b budget.Budget) error {
	return o.parts.Add("otel", ErrDuplicate, registry.Part{Kind: registry.Budget, Name: name, Budget: b})
}

// AddBulkhead observes b under name: the calls in flight and queued, and
// those admitted and rejected.
func (o *Observer) AddBulkhead(name string, b *bulkhead.Bulkhead) error {
	return o.parts.Add("otel", ErrDuplicate, registry.Part{Kind: registry.Bulkhead, Name: name, Bulkhead: b})
}

// AddAdaptiveTimeout observes a under name: its limit now, the calls that
// taught it and the timeouts among them.
func (o *Observer) AddAdaptiveTimeout(name string, a *timeout.Adaptive) error {
	return o.parts.Add("otel", ErrDuplicate, registry.Part{Kind: registry.Adaptive, Name: name, Adaptive: a})
}

// Remove stops observing every part registered under name and reports
// whether there was one.
func (o *Observer) Remove(name string) bool {
	return o.parts.Remove(name)
}

// observe is the callback: it reads a Snapshot of each part.
func (o *Observer) observe(_ context.Context, ob metric.Observer) error {
	parts := o.parts.Parts()
	for _, p := range parts {
		switch p.Kind {
		case registry.Metrics:
			o.inst.observeMetrics(ob, p.Name, p.Metrics.Snapshot())
		case registry.Breaker:
			o.inst.observeBreaker(ob, p.Name, p.Breaker.Snapshot())
		case registry.Hedger:
			o.inst.observeHedger(ob, p.Name, p.Hedger.Snapshot())
		case registry.Budget:
			o.inst.observeBudget(ob, p.Name, p.Budget.Snapshot())
		case registry.Bulkhead:
			o.inst.observeBulkhead(ob, p.Name, p.Bulkhead.Snapshot())
		case registry.Adaptive:
			o.inst.observeAdaptive(ob, p.Name, p.Adaptive.Snapshot())
		}
	}
	return nil
}
