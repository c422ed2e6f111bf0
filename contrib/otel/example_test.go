package otel_test

import (
	"context"
	"errors"
	"fmt"

	steadyotel "github.com/steadyhq/steady/contrib/otel"
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
