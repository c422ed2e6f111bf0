package otel_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	steadyotel "github.com/steadyhq/steady/contrib/otel"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// BenchmarkCollect measures one collection (ManualReader.Collect) of n
// dependencies, each with a monitor, a breaker, a hedger, a budget, a
// bulkhead and an adaptive timeout (six parts, 43 points).
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("deps=%d", n), func(b *testing.B) {
			reader := sdkmetric.NewManualReader()
			provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			defer provider.Shutdown(context.Background())
			o := must(steadyotel.New(provider.Meter("bench")))
			defer o.Close()
			for i := range n {
				name := fmt.Sprintf("dep%03d", i)
				m := must(monitor.NewMetrics(monitor.Config{Name: name}))
				for k := range 1000 {
					m.Record(time.Duration(k)*time.Microsecond, resilience.OutcomeSuccess)
				}
				o.AddMetrics(name, m)
				o.AddBreaker(name, must(breaker.New(breaker.Settings{Name: name})))
				o.AddHedger(name, must(hedge.New(hedge.Config{})))
				o.AddBudget(name, must(budget.NewAdaptive(budget.AdaptiveConfig{})))
				o.AddBulkhead(name, must(bulkhead.New(bulkhead.Config{MaxConcurrent: 10})))
				o.AddAdaptiveTimeout(name, must(timeout.NewAdaptive(timeout.AdaptiveConfig{Max: time.Second})))
			}
			var rm metricdata.ResourceMetrics
			b.ReportAllocs()
			for b.Loop() {
				if err := reader.Collect(context.Background(), &rm); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
