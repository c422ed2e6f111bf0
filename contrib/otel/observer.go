package otel

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/steadyhq/steady/internal/typednil"
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

type kind int

const (
	kindMetrics kind = iota
	kindBreaker
	kindHedger
	kindBudget
	kindBulkhead
	kindAdaptive
)

var kindNames = [...]string{"monitor.Metrics", "breaker.CircuitBreaker", "hedge.Hedger", "budget.Budget", "bulkhead.Bulkhead", "timeout.Adaptive"}

// part is one registered part. Exactly one of its pointers is set, as kind says.
type part struct {
	kind  kind
	name  string
	added time.Time // the start of its cumulative histogram

	metrics  *monitor.Metrics
	breaker  *breaker.CircuitBreaker
	hedger   *hedge.Hedger
	budget   budget.Budget
	bulkhead *bulkhead.Bulkhead
	adaptive *timeout.Adaptive
}

// Observer reports the figures of named steady parts through asynchronous
// (observable) OpenTelemetry instruments: each Add method registers a part,
// and at every collection one callback reads the Snapshot of each, so the
// calls themselves pay nothing for being observed. The package
// documentation lists the instruments.
//
// Parts may be added and removed at any time. An Observer is safe for
// concurrent use. Close unregisters its callback.
type Observer struct {
	reg  metric.Registration
	inst instruments

	mu    sync.Mutex
	parts []*part // in the order added
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
	o.reg, err = meter.RegisterCallback(o.observe, obs...)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Close unregisters the Observer's callback: its parts are no longer
// observed. It returns the meter's error, if any.
func (o *Observer) Close() error { return o.reg.Unregister() }

// AddMetrics observes m under name: the calls by outcome, their durations
// and the calls abandoned by a timeout.
func (o *Observer) AddMetrics(name string, m *monitor.Metrics) error {
	if m == nil {
		return nilPart("m", "a *monitor.Metrics")
	}
	return o.add(&part{kind: kindMetrics, name: name, metrics: m})
}

// AddBreaker observes cb under name: its state, transitions, rejected and
// waiting calls.
func (o *Observer) AddBreaker(name string, cb *breaker.CircuitBreaker) error {
	if cb == nil {
		return nilPart("cb", "a *breaker.CircuitBreaker")
	}
	return o.add(&part{kind: kindBreaker, name: name, breaker: cb})
}

// AddHedger observes h under name: its calls, the hedges it started, won
// and was denied, its delay and its realised hedge rate.
func (o *Observer) AddHedger(name string, h *hedge.Hedger) error {
	if h == nil {
		return nilPart("h", "a *hedge.Hedger")
	}
	return o.add(&part{kind: kindHedger, name: name, hedger: h})
}

// AddBudget observes b under name: the extra attempts it allowed and
// denied, and its headroom. Any [budget.Budget] will do.
func (o *Observer) AddBudget(name string, b budget.Budget) error {
	if b == nil || typednil.Is(b) {
		return nilPart("b", "a budget.Budget")
	}
	return o.add(&part{kind: kindBudget, name: name, budget: b})
}

// AddBulkhead observes b under name: the calls in flight and queued, and
// those admitted and rejected.
func (o *Observer) AddBulkhead(name string, b *bulkhead.Bulkhead) error {
	if b == nil {
		return nilPart("b", "a *bulkhead.Bulkhead")
	}
	return o.add(&part{kind: kindBulkhead, name: name, bulkhead: b})
}

// AddAdaptiveTimeout observes a under name: its limit now, the calls that
// taught it and the timeouts among them.
func (o *Observer) AddAdaptiveTimeout(name string, a *timeout.Adaptive) error {
	if a == nil {
		return nilPart("a", "a *timeout.Adaptive")
	}
	return o.add(&part{kind: kindAdaptive, name: name, adaptive: a})
}

// Remove stops observing every part registered under name and reports
// whether there was one.
func (o *Observer) Remove(name string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.parts)
	o.parts = slices.DeleteFunc(o.parts, func(p *part) bool { return p.name == name })
	return len(o.parts) < n
}

func (o *Observer) add(p *part) error {
	if p.name == "" {
		return &resilience.ConfigError{Pkg: "otel", Field: "name", Value: `""`, Want: "a non-empty name"}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, q := range o.parts {
		if q.kind == p.kind && q.name == p.name {
			return fmt.Errorf("%w: a %s named %q", ErrDuplicate, kindNames[p.kind], p.name)
		}
	}
	p.added = time.Now()
	o.parts = append(o.parts, p)
	return nil
}

func nilPart(field, want string) error {
	return &resilience.ConfigError{Pkg: "otel", Field: field, Want: want}
}

// observe is the callback: it reads a Snapshot of each part.
func (o *Observer) observe(_ context.Context, ob metric.Observer) error {
	o.mu.Lock()
	parts := slices.Clone(o.parts)
	o.mu.Unlock()
	for _, p := range parts {
		switch p.kind {
		case kindMetrics:
			o.inst.observeMetrics(ob, p.name, p.metrics.Snapshot())
		case kindBreaker:
			o.inst.observeBreaker(ob, p.name, p.breaker.Snapshot())
		case kindHedger:
			o.inst.observeHedger(ob, p.name, p.hedger.Snapshot())
		case kindBudget:
			o.inst.observeBudget(ob, p.name, p.budget.Snapshot())
		case kindBulkhead:
			o.inst.observeBulkhead(ob, p.name, p.bulkhead.Snapshot())
		case kindAdaptive:
			o.inst.observeAdaptive(ob, p.name, p.adaptive.Snapshot())
		}
	}
	return nil
}
