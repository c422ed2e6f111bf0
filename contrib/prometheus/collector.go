package prometheus

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

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
// the same kind is already registered under the name: two would export the
// same series.
var ErrDuplicate = errors.New("prometheus: name already registered")

// kind is the kind of a registered part; it orders the parts in a scrape.
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
	kind kind
	name string

	metrics  *monitor.Metrics
	breaker  *breaker.CircuitBreaker
	hedger   *hedge.Hedger
	budget   budget.Budget
	bulkhead *bulkhead.Bulkhead
	adaptive *timeout.Adaptive
}

// Collector is a [prometheus.Collector] over named steady parts: each Add
// method registers one, and every scrape reads the Snapshot of each, so the
// calls themselves pay nothing for being exported. The package documentation
// lists the metrics.
//
// Parts may be added and removed while the Collector is registered and
// scraped. Register one Collector per registry: its Describe sends every
// metric it may export, so a second would collide with the first. The zero
// Collector has no parts; use [New] for one. A Collector is safe for
// concurrent use.
type Collector struct {
	mu    sync.Mutex
	parts []*part // in the order added
}

// New returns a Collector with no parts. Register it with a
// [prometheus.Registerer], then add the parts to export.
func New() *Collector { return &Collector{} }

// AddMetrics exports m under name: the calls by outcome, their durations
// and the calls abandoned by a timeout.
func (c *Collector) AddMetrics(name string, m *monitor.Metrics) error {
	if m == nil {
		return nilPart("m", "a *monitor.Metrics")
	}
	return c.add(&part{kind: kindMetrics, name: name, metrics: m})
}

// AddBreaker exports cb under name: its state, transitions, rejected and
// waiting calls.
func (c *Collector) AddBreaker(name string, cb *breaker.CircuitBreaker) error {
	if cb == nil {
		return nilPart("cb", "a *breaker.CircuitBreaker")
	}
	return c.add(&part{kind: kindBreaker, name: name, breaker: cb})
}

// AddHedger exports h under name: its calls, the hedges it started, won
// and was denied, its delay and its realised hedge rate.
func (c *Collector) AddHedger(name string, h *hedge.Hedger) error {
	if h == nil {
		return nilPart("h", "a *hedge.Hedger")
	}
	return c.add(&part{kind: kindHedger, name: name, hedger: h})
}

// AddBudget exports b under name: the extra attempts it allowed and denied,
// and its headroom. Any [budget.Budget] will do, one of your own included.
func (c *Collector) AddBudget(name string, b budget.Budget) error {
	if b == nil || typednil.Is(b) {
		return nilPart("b", "a budget.Budget")
	}
	return c.add(&part{kind: kindBudget, name: name, budget: b})
}

// AddBulkhead exports b under name: the calls in flight and queued, and
// those admitted and rejected.
func (c *Collector) AddBulkhead(name string, b *bulkhead.Bulkhead) error {
	if b == nil {
		return nilPart("b", "a *bulkhead.Bulkhead")
	}
	return c.add(&part{kind: kindBulkhead, name: name, bulkhead: b})
}

// AddAdaptiveTimeout exports a under name: its limit now, the calls that
// taught it and the timeouts among them.
func (c *Collector) AddAdaptiveTimeout(name string, a *timeout.Adaptive) error {
	if a == nil {
		return nilPart("a", "a *timeout.Adaptive")
	}
	return c.add(&part{kind: kindAdaptive, name: name, adaptive: a})
}

// Remove stops exporting every part registered under name and reports
// whether there was one. Its series vanish from the next scrape.
func (c *Collector) Remove(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.parts)
	c.parts = slices.DeleteFunc(c.parts, func(p *part) bool { return p.name == name })
	return len(c.parts) < n
}

func (c *Collector) add(p *part) error {
	if p.name == "" {
		return &resilience.ConfigError{Pkg: "prometheus", Field: "name", Value: `""`, Want: "a non-empty name"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range c.parts {
		if q.kind == p.kind && q.name == p.name {
			return fmt.Errorf("%w: a %s named %q", ErrDuplicate, kindNames[p.kind], p.name)
		}
	}
	c.parts = append(c.parts, p)
	return nil
}

func nilPart(field, want string) error {
	return &resilience.ConfigError{Pkg: "prometheus", Field: field, Want: want}
}

// Describe sends the descriptors of every metric the Collector may export,
// whatever parts it has, so a registry checks them once.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect reads a Snapshot of each part and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	parts := slices.Clone(c.parts)
	c.mu.Unlock()
	var h *monitor.Histogram // one for all monitors of this scrape
	for _, p := range parts {
		switch p.kind {
		case kindMetrics:
			if h == nil {
				h = new(monitor.Histogram)
			}
			collectMetrics(ch, p.name, p.metrics, h)
		case kindBreaker:
			collectBreaker(ch, p.name, p.breaker.Snapshot())
		case kindHedger:
			collectHedger(ch, p.name, p.hedger.Snapshot())
		case kindBudget:
			collectBudget(ch, p.name, p.budget.Snapshot())
		case kindBulkhead:
			collectBulkhead(ch, p.name, p.bulkhead.Snapshot())
		case kindAdaptive:
			collectAdaptive(ch, p.name, p.adaptive.Snapshot())
		}
	}
}
