package prometheus

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadyhq/steady/internal/registry"
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
	reg registry.Registry
}

// New returns a Collector with no parts. Register it with a
// [prometheus.Registerer], then add the parts to export.
func New() *Collector { return &Collector{} }

// AddMetrics exports m under name: the calls by outcome, their durations
// and the calls abandoned by a timeout.
func (c *Collector) AddMetrics(name string, m *monitor.Metrics) error {
	return c.reg.Add("prometheus", ErrDuplicate, registry.Part{Kind: registry.Metrics, Name: name, Metrics: m})
}

// AddBreaker exports cb under name: its state, transitions, rejected and
// waiting calls.
func (c *Collector) AddBreaker(name string, cb *breaker.CircuitBreaker) error {
	return c.reg.Add("prometheus", ErrDuplicate, registry.Part{Kind: registry.Breaker, Name: name, Breaker: cb})
}

// AddHedger exports h under name: its calls, the hedges it started, won
// and was denied, its delay and its realised hedge rate.
func (c *Collector) AddHedger(name string, h *hedge.Hedger) error {
	return c.reg.Add("prometheus", ErrDuplicate, registry.Part{Kind: registry.Hedger, Name: name, Hedger: h})
}

// AddBudget exports b under name: the extra attempts it allowed and denied,
// and its headroom. Any [budget.Budget] will do, one of your own included.
func (c *Collector) AddBudget(name string, b budget.Budget) error {
	return c.reg.Add("prometheus", ErrDuplicate, registry.Part{Kind: registry.Budget, Name: name, Budget: b})
}

// AddBulkhead exports b under name: the calls in flight and queued, and
// those admitted and rejected.
func (c *Collector) AddBulkhead(name string, b *bulkhead.Bulkhead) error {
	return c.reg.Add("prometheus", ErrDuplicate, registry.Part{Kind: registry.Bulkhead, Name: name, Bulkhead: b})
}

// AddAdaptiveTimeout exports a under name: its limit now, the calls that
// taught it and the timeouts among them.
func (c *Collector) AddAdaptiveTimeout(name string, a *timeout.Adaptive) error {
	return c.reg.Add("prometheus", ErrDuplicate, registry.Part{Kind: registry.Adaptive, Name: name, Adaptive: a})
}

// Remove stops exporting every part registered under name and reports
// whether there was one. Its series vanish from the next scrape.
func (c *Collector) Remove(name string) bool {
	return c.reg.Remove(name)
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
	parts := c.reg.Parts()
	var h *monitor.Histogram // one for all monitors of this scrape
	for _, p := range parts {
		switch p.Kind {
		case registry.Metrics:
			if h == nil {
				h = new(monitor.Histogram)
			}
			collectMetrics(ch, p.Name, p.Metrics, h)
		case registry.Breaker:
			collectBreaker(ch, p.Name, p.Breaker.Snapshot())
		case registry.Hedger:
			collectHedger(ch, p.Name, p.Hedger.Snapshot())
		case registry.Budget:
			collectBudget(ch, p.Name, p.Budget.Snapshot())
		case registry.Bulkhead:
			collectBulkhead(ch, p.Name, p.Bulkhead.Snapshot())
		case registry.Adaptive:
			collectAdaptive(ch, p.Name, p.Adaptive.Snapshot())
		}
	}
}
