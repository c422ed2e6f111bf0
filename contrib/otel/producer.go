package otel

import (
	"context"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/steadyhq/steady/internal/registry"
	"github.com/steadyhq/steady/resilience/monitor"
)

// durationBounds are the explicit bucket bounds of steady.call.duration, in
// seconds, the same as contrib/prometheus's: from 1ms to 1 minute.
var durationBounds = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

var _ sdkmetric.Producer = (*Producer)(nil)

// scope is the instrumentation scope of what the Producer reports.
var scope = instrumentation.Scope{Name: "github.com/steadyhq/steady/contrib/otel"}

// Producer is an [sdkmetric.Producer] that reports the call durations of
// every monitor added to the Observers it is given as a histogram,
// steady.call.duration (unit s), with the attribute name. The SDK takes a
// Producer when a reader is made, before any meter exists, so it is made
// first and given its Observers after:
//
//	p := steadyotel.NewProducer()
//	reader := sdkmetric.NewPeriodicReader(exporter, sdkmetric.WithProducer(p))
//	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
//	o, err := steadyotel.New(provider.Meter("github.com/steadyhq/steady"))
//	...
//	p.Add(o)
//
// OpenTelemetry's API has no asynchronous histogram, and a synchronous one
// would be fed on the call path; a Producer hands the SDK the monitor's own
// histogram (monitor.Histogram), read at each collection, so the calls pay
// nothing. The histogram is cumulative from when the monitor was added to
// its Observer, with the bucket bounds 0.001, 0.0025, 0.005, 0.01, 0.025,
// 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 and 60 s. A call counts in the
// bucket that holds the upper edge of its monitor bucket (3–6.25% wide):
// never faster than it was, at most one monitor bucket slower. The sum is
// exact; rejected calls, which have no duration, are not in it. As the
// semantic conventions have it, the calls that timed out (of every cause)
// are a data point of their own, with error.type=timeout; the other calls
// (successes, failures and canceled calls: the monitor keeps their
// durations together) are the data point without error.type.
//
// A Producer is safe for concurrent use.
type Producer struct {
	mu        sync.Mutex
	observers []*Observer
}

// NewProducer returns a Producer with no Observers, which produces nothing.
func NewProducer() *Producer { return &Producer{} }

// Add makes p report the monitors of o, now and as they are added and
// removed. Adding o twice, or a nil o, does nothing.
func (p *Producer) Add(o *Observer) {
	if o == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.observers, o) {
		p.observers = append(p.observers, o)
	}
}

// Produce reads the histogram of every monitor added to p's Observers.
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	p.mu.Lock()
	observers := slices.Clone(p.observers)
	p.mu.Unlock()
	var parts []*registry.Part
	for _, o := range observers {
		parts = append(parts, o.parts.Parts()...)
	}
	now := time.Now()
	var others, timeouts monitor.Histogram
	var points []metricdata.HistogramDataPoint[float64]
	for _, part := range parts {
		if part.Kind != registry.Metrics {
			continue
		}
		part.Metrics.Histograms(&others, &timeouts)
		points = append(points,
			dataPoint(&others, part.Added, now, attribute.String("name", part.Name)),
			dataPoint(&timeouts, part.Added, now, attribute.String("name", part.Name), attribute.String("error.type", "timeout")))
	}
	if len(points) == 0 {
		return nil, nil
	}
	return []metricdata.ScopeMetrics{{
		Scope: scope,
		Metrics: []metricdata.Metrics{{
			Name:        "steady.call.duration",
			Description: "Duration of the calls recorded by a steady monitor, rejected calls left out.",
			Unit:        "s",
			Data: metricdata.Histogram[float64]{
				DataPoints:  points,
				Temporality: metricdata.CumulativeTemporality,
			},
		}},
	}}, nil
}

// dataPoint converts a monitor's histogram into a data point with the
// explicit bounds durationBounds.
func dataPoint(h *monitor.Histogram, start, now time.Time, attrs ...attribute.KeyValue) metricdata.HistogramDataPoint[float64] {
	counts := make([]uint64, len(durationBounds)+1) // the last: above the last bound
	var total uint64
	for upper, c := range h.Buckets() {
		secs := upper.Seconds()
		i, _ := slices.BinarySearch(durationBounds, secs) // the first bound >= secs
		counts[i] += uint64(c)
		total += uint64(c)
	}
	return metricdata.HistogramDataPoint[float64]{
		Attributes:   attribute.NewSet(attrs...),
		StartTime:    start,
		Time:         now,
		Count:        total,
		Bounds:       slices.Clone(durationBounds),
		BucketCounts: counts,
		Sum:          h.Sum().Seconds(),
	}
}
