package otel_test

import (
	"context"
	"math"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	steadyotel "github.com/steadyhq/steady/contrib/otel"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
)

// TestProducerDurationHistogram: the Producer hands a reader each
// monitor's durations as the histogram steady.call.duration, in seconds,
// with the right counts per bucket and the exact sum.
func TestProducerDurationHistogram(t *testing.T) {
	o, reader := newObserverWithProducer(t)
	payments := must(monitor.NewMetrics(monitor.Config{Name: "payments"}))
	search := must(monitor.NewMetrics(monitor.Config{Name: "search"}))
	cb := must(breaker.New(breaker.Settings{Name: "payments"}))
	for _, err := range []error{o.AddMetrics("payments", payments), o.AddMetrics("search", search), o.AddBreaker("payments", cb)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []time.Duration{3 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond, 200 * time.Millisecond, 2 * time.Minute} {
		payments.Record(d, resilience.OutcomeSuccess)
	}
	payments.Record(time.Second, resilience.OutcomeRejected) // no duration
	payments.Record(3*time.Second, resilience.OutcomeTimeout)
	search.Record(time.Millisecond/2, resilience.OutcomeTimeout)

	ms := collect(t, reader)
	m, ok := ms["steady.call.duration"]
	if !ok {
		t.Fatalf("no steady.call.duration among %d metrics", len(ms))
	}
	if m.Unit != "s" {
		t.Errorf("unit %q, want s", m.Unit)
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("steady.call.duration is a %T, want a histogram", m.Data)
	}
	if h.Temporality != metricdata.CumulativeTemporality {
		t.Errorf("temporality %v, want cumulative", h.Temporality)
	}
	if len(h.DataPoints) != 4 {
		t.Fatalf("%d data points, want two per monitor (4)", len(h.DataPoints))
	}
	// By name, and "/timeout" for the points with error.type=timeout.
	points := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, p := range h.DataPoints {
		v, _ := p.Attributes.Value("name")
		key := v.AsString()
		if e, ok := p.Attributes.Value("error.type"); ok {
			key += "/" + e.AsString()
		}
		if p.Attributes.Len() > 2 {
			t.Errorf("attributes %v, want name and error.type at most", p.Attributes.ToSlice())
		}
		points[key] = p
	}
	if pt := points["payments/timeout"]; pt.Count != 1 || math.Abs(pt.Sum-3) > 1e-9 || pt.BucketCounts[11] != 1 {
		t.Errorf("payments' timeouts: count %d, sum %v, counts %v; want the one 3s timeout under le=5", pt.Count, pt.Sum, pt.BucketCounts)
	}
	p := points["payments"]
	if p.Count != 5 {
		t.Errorf("payments: count %d, want 5", p.Count)
	}
	if want := 0.003 + 0.020 + 0.020 + 0.200 + 120; math.Abs(p.Sum-want) > 1e-9 {
		t.Errorf("payments: sum %v, want %v", p.Sum, want)
	}
	// Bounds 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, ..., 60, +Inf.
	want := map[float64]uint64{0.005: 1, 0.025: 2, 0.25: 1, math.Inf(1): 1}
	for i, c := range p.BucketCounts {
		bound := math.Inf(1)
		if i < len(p.Bounds) {
			bound = p.Bounds[i]
		}
		if c != want[bound] {
			t.Errorf("payments: bucket le=%v holds %d, want %d", bound, c, want[bound])
		}
	}
	if len(p.BucketCounts) != len(p.Bounds)+1 || len(p.Bounds) != 15 {
		t.Errorf("%d bounds and %d counts, want 15 and 16", len(p.Bounds), len(p.BucketCounts))
	}
	if s := points["search/timeout"]; s.Count != 1 || s.BucketCounts[0] != 1 {
		t.Errorf("search's timeouts: %+v, want one call under 1ms", s)
	}
	if s := points["search"]; s.Count != 0 {
		t.Errorf("search: %+v, want no call but its timeout", s)
	}
	if !p.StartTime.Before(p.Time) && !p.StartTime.Equal(p.Time) {
		t.Errorf("start %v after time %v", p.StartTime, p.Time)
	}

	// Removed, it is no longer reported; with no monitor, no histogram.
	o.Remove("payments")
	o.Remove("search")
	if _, ok := collect(t, reader)["steady.call.duration"]; ok {
		t.Error("steady.call.duration reported with no monitor")
	}
}

func newObserverWithProducer(t *testing.T) (*steadyotel.Observer, *sdkmetric.ManualReader) {
	t.Helper()
	// As the Producer's documentation says: the Producer first, then the
	// reader and the provider, then the Observer.
	p := steadyotel.NewProducer()
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(p))
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	o := must(steadyotel.New(provider.Meter("github.com/steadyhq/steady")))
	t.Cleanup(func() { _ = o.Close() })
	p.Add(o)
	p.Add(o) // twice: reported once
	p.Add(nil)
	return o, reader
}
