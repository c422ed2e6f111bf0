package otel_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	steadyotel "github.com/steadyhq/steady/contrib/otel"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Example observes a monitor's calls with a meter of the OpenTelemetry SDK
// and reads them with a ManualReader, as an exporter would.
func Example() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	o, err := steadyotel.New(provider.Meter("github.com/steadyhq/steady"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer o.Close()
	m, _ := monitor.NewMetrics(monitor.Config{Name: "payments"})
	o.AddMetrics("payments", m)

	fail := false
	charge := monitor.Monitor[string](m)(func(ctx context.Context) (string, error) {
		fail = !fail
		if fail {
			return "", errors.New("boom")
		}
		return "ok", nil
	})
	for range 3 {
		charge(context.Background())
	}

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if mt.Name != "steady.calls" {
				continue
			}
			for _, p := range mt.Data.(metricdata.Sum[int64]).DataPoints {
				outcome, _ := p.Attributes.Value("outcome")
				if p.Value > 0 {
					fmt.Println(mt.Name, mt.Unit, outcome.AsString(), p.Value)
				}
			}
		}
	}
	// Unordered output:
	// steady.calls {call} failure 2
	// steady.calls {call} success 1
}

// ExampleProducer reports a monitor's call durations as an OpenTelemetry
// histogram: the Producer goes to the reader, the Observer to the Producer.
func ExampleProducer() {
	p := steadyotel.NewProducer()
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(p))
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	o, err := steadyotel.New(provider.Meter("github.com/steadyhq/steady"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer o.Close()
	p.Add(o)
	m, _ := monitor.NewMetrics(monitor.Config{Name: "payments"})
	o.AddMetrics("payments", m)
	m.Record(20*time.Millisecond, resilience.OutcomeSuccess)
	m.Record(300*time.Millisecond, resilience.OutcomeTimeout)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if h, ok := mt.Data.(metricdata.Histogram[float64]); ok {
				for _, dp := range h.DataPoints {
					errType, _ := dp.Attributes.Value("error.type")
					fmt.Printf("%s (%s) error.type=%q: count=%d sum=%.2fs\n", mt.Name, mt.Unit, errType.AsString(), dp.Count, dp.Sum)
					for i, c := range dp.BucketCounts {
						if c > 0 {
							fmt.Printf("  le=%v: %d\n", dp.Bounds[i], c)
						}
					}
				}
			}
		}
	}
	// Output:
	// steady.call.duration (s) error.type="": count=1 sum=0.02s
	//   le=0.025: 1
	// steady.call.duration (s) error.type="timeout": count=1 sum=0.30s
	//   le=0.5: 1
}
