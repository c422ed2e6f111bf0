package prometheus_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	steadyprom "github.com/steadyhq/steady/contrib/prometheus"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// BenchmarkGather measures one scrape (Registry.Gather) of n dependencies,
// each with a monitor, a breaker, a hedger, a budget, a bulkhead and an
// adaptive timeout (six parts, 42 series).
func BenchmarkGather(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("deps=%d", n), func(b *testing.B) {
			c := steadyprom.New()
			for i := range n {
				name := fmt.Sprintf("dep%03d", i)
				m := must(monitor.NewMetrics(monitor.Config{Name: name}))
				for k := range 1000 {
					m.Record(time.Duration(k)*time.Microsecond, resilience.OutcomeSuccess)
				}
				c.AddMetrics(name, m)
				c.AddBreaker(name, must(breaker.New(breaker.Settings{Name: name})))
				c.AddHedger(name, must(hedge.New(hedge.Config{})))
				c.AddBudget(name, must(budget.NewAdaptive(budget.AdaptiveConfig{})))
				c.AddBulkhead(name, must(bulkhead.New(bulkhead.Config{MaxConcurrent: 10})))
				c.AddAdaptiveTimeout(name, must(timeout.NewAdaptive(timeout.AdaptiveConfig{Max: time.Second})))
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(c)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
