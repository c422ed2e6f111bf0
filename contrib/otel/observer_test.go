package otel_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	steadyotel "github.com/steadyhq/steady/contrib/otel"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// collect returns the metrics reader has now, by name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// value returns the value of the point of metric name whose attributes
// include kv (pairs), failing the test if there is not exactly one, and
// checks the unit and whether it is a monotonic sum.
func value(t *testing.T, ms map[string]metricdata.Metrics, name, unit string, kind string, kv ...string) float64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	if m.Unit != unit {
		t.Errorf("%s: unit %q, want %q", name, m.Unit, unit)
	}
	match := func(s attribute.Set) bool {
		for i := 0; i+1 < len(kv); i += 2 {
			if v, ok := s.Value(attribute.Key(kv[i])); !ok || v.AsString() != kv[i+1] {
				return false
			}
		}
		return true
	}
	var got []float64
	gotKind := ""
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		gotKind = map[bool]string{true: "counter", false: "updown"}[d.IsMonotonic]
		for _, p := range d.DataPoints {
			if match(p.Attributes) {
				got = append(got, float64(p.Value))
			}
		}
	case metricdata.Sum[float64]:
		gotKind = map[bool]string{true: "counter", false: "updown"}[d.IsMonotonic]
		for _, p := range d.DataPoints {
			if match(p.Attributes) {
				got = append(got, p.Value)
			}
		}
	case metricdata.Gauge[int64]:
		gotKind = "gauge"
		for _, p := range d.DataPoints {
			if match(p.Attributes) {
				got = append(got, float64(p.Value))
			}
		}
	case metricdata.Gauge[float64]:
		gotKind = "gauge"
		for _, p := range d.DataPoints {
			if match(p.Attributes) {
				got = append(got, p.Value)
			}
		}
	}
	if gotKind != kind {
		t.Errorf("%s is a %q, want a %q", name, gotKind, kind)
	}
	if len(got) != 1 {
		t.Fatalf("%s%v: %d points, want 1", name, kv, len(got))
	}
	return got[0]
}

func TestObserverKnownSequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		reader := sdkmetric.NewManualReader()
		provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer provider.Shutdown(context.Background())
		o := must(steadyotel.New(provider.Meter("github.com/steadyhq/steady")))
		defer o.Close()

		m := must(monitor.NewMetrics(monitor.Config{Name: "payments"}))
		cb := must(breaker.New(breaker.Settings{Name: "payments", ConsecutiveFailures: 3, OpenTimeout: time.Minute}))
		bh := must(bulkhead.New(bulkhead.Config{MaxConcurrent: 4}))
		b := must(budget.NewRatio(budget.RatioConfig{}))
		h := must(hedge.New(hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 1}))
		// Still warming up after this test's calls: every limit is Max.
		at := must(timeout.NewAdaptive(timeout.AdaptiveConfig{Max: 50 * time.Millisecond, Warmup: 100}))
		// edge: timeouts of two causes, recorded by hand.
		edge := must(monitor.NewMetrics(monitor.Config{Name: "edge"}))
		propagated, cancelP := context.WithDeadlineCause(ctx, time.Now(), resilience.ErrPropagatedDeadline)
		defer cancelP()
		edge.RecordContext(propagated, time.Second, resilience.OutcomeDeadline)
		edge.RecordContext(propagated, time.Second, resilience.OutcomeDeadline)
		edge.Record(time.Second, resilience.OutcomeDeadline)
		for _, err := range []error{
			o.AddMetrics("payments", m), o.AddBreaker("payments", cb), o.AddBulkhead("payments", bh),
			o.AddBudget("payments", b), o.AddHedger("search", h), o.AddAdaptiveTimeout("payments", at),
			o.AddMetrics("edge", edge),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}

		// payments: a success of 20ms, a failure of 10ms, two timeouts
		// (50ms) that open the breaker, then a rejected call.
		steps := []func(ctx context.Context) error{
			func(context.Context) error { time.Sleep(20 * time.Millisecond); return nil },
			func(context.Context) error { time.Sleep(10 * time.Millisecond); return errors.New("boom") },
			func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			func(context.Context) error { t.Error("called while open"); return nil },
		}
		payments := resilience.Compose(
			monitor.Monitor[int](m),
			breaker.Breaker[int](cb),
			bulkhead.Limit[int](bh),
			timeout.WithAdaptive[int](at),
		)(func(ctx context.Context) (int, error) {
			step := steps[0]
			steps = steps[1:]
			return 0, step(ctx)
		})
		for range 5 {
			payments(ctx)
		}
		b.Request()
		b.Retry()
		// search: a first attempt of 30ms, beaten by a hedge of 5ms.
		var attempts atomic.Int64
		search := hedge.Hedge[int](h)(func(ctx context.Context) (int, error) {
			attempt := int(attempts.Add(1))
			d := 5 * time.Millisecond
			if attempt == 1 {
				d = 30 * time.Millisecond
			}
			select {
			case <-time.After(d):
				return attempt, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		})
		if n, err := search(ctx); n != 2 || err != nil {
			t.Fatalf("search = %d, %v; want the hedge's 2", n, err)
		}

		ms := collect(t, reader)
		for _, c := range []struct {
			metric, unit, kind string
			kv                 []string
			want               float64
		}{
			{"steady.calls", "{call}", "counter", []string{"name", "payments", "outcome", "success"}, 1},
			{"steady.calls", "{call}", "counter", []string{"name", "payments", "outcome", "failure"}, 1},
			{"steady.calls", "{call}", "counter", []string{"name", "payments", "outcome", "timeout", "error.type", "timeout", "steady.timeout.cause", "limit"}, 2},
			{"steady.calls", "{call}", "counter", []string{"name", "payments", "outcome", "timeout", "error.type", "timeout", "steady.timeout.cause", "deadline"}, 0},
			{"steady.calls", "{call}", "counter", []string{"name", "edge", "outcome", "timeout", "error.type", "timeout", "steady.timeout.cause", "propagated"}, 2},
			{"steady.calls", "{call}", "counter", []string{"name", "edge", "outcome", "timeout", "error.type", "timeout", "steady.timeout.cause", "deadline"}, 1},
			{"steady.calls", "{call}", "counter", []string{"name", "edge", "outcome", "timeout", "error.type", "timeout", "steady.timeout.cause", "limit"}, 0},
			{"steady.calls", "{call}", "counter", []string{"name", "payments", "outcome", "rejected"}, 1},
			{"steady.calls", "{call}", "counter", []string{"name", "payments", "outcome", "canceled"}, 0},
			{"steady.call.duration.quantile", "s", "gauge", []string{"name", "payments", "quantile", "1"}, 0.05},
			{"steady.call.duration.sum", "s", "counter", []string{"name", "payments"}, 0.13},
			{"steady.circuit.state", "1", "gauge", []string{"name", "payments", "state", "open"}, 1},
			{"steady.circuit.state", "1", "gauge", []string{"name", "payments", "state", "closed"}, 0},
			{"steady.circuit.state", "1", "gauge", []string{"name", "payments", "state", "half-open"}, 0},
			{"steady.circuit.transitions", "{transition}", "counter", []string{"name", "payments", "from", "closed", "to", "open"}, 1},
			{"steady.circuit.rejected", "{call}", "counter", []string{"name", "payments"}, 1},
			{"steady.bulkhead.admitted", "{call}", "counter", []string{"name", "payments"}, 4},
			{"steady.bulkhead.max_concurrent", "{call}", "updown", []string{"name", "payments"}, 4},
			{"steady.budget.requests", "{call}", "counter", []string{"name", "payments"}, 1},
			{"steady.adaptive_timeout.limit", "s", "gauge", []string{"name", "payments"}, 0.05},
			{"steady.adaptive_timeout.calls", "{call}", "counter", []string{"name", "payments"}, 4},
			{"steady.adaptive_timeout.timeouts", "{call}", "counter", []string{"name", "payments"}, 2},
			{"steady.adaptive_timeout.skipped", "{call}", "counter", []string{"name", "payments"}, 0},
			{"steady.adaptive_timeout.warming_up", "1", "gauge", []string{"name", "payments"}, 1},
			{"steady.hedge.calls", "{call}", "counter", []string{"name", "search"}, 1},
			{"steady.hedges", "{hedge}", "counter", []string{"name", "search"}, 1},
			{"steady.hedge.wins", "{hedge}", "counter", []string{"name", "search"}, 1},
			{"steady.hedge.delay", "s", "gauge", []string{"name", "search"}, 0.01},
			{"steady.hedge.ratio", "1", "gauge", []string{"name", "search"}, 1},
		} {
			got := value(t, ms, c.metric, c.unit, c.kind, c.kv...)
			if diff := got - c.want; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("%s%v = %v, want %v", c.metric, c.kv, got, c.want)
			}
		}
		// The quantiles are the monitor's estimates.
		s := m.Snapshot()
		if got := value(t, ms, "steady.call.duration.quantile", "s", "gauge", "name", "payments", "quantile", "0.5"); got != s.P50.Seconds() {
			t.Errorf("quantile 0.5 = %v, want the monitor's %v", got, s.P50.Seconds())
		}

		// After Remove, and after Close, nothing more is observed.
		if !o.Remove("search") {
			t.Error("Remove(search) = false")
		}
		if _, ok := collect(t, reader)["steady.hedges"]; ok {
			t.Error("steady.hedges still observed after Remove")
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := collect(t, reader)["steady.calls"]; ok {
			t.Error("steady.calls still observed after Close")
		}
	})
}

func TestObserverErrors(t *testing.T) {
	if _, err := steadyotel.New(nil); !errors.Is(err, resilience.ErrInvalidConfig) {
		t.Errorf("New(nil): %v, want a ConfigError", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer provider.Shutdown(context.Background())
	o := must(steadyotel.New(provider.Meter("test")))
	defer o.Close()
	m := &monitor.Metrics{}
	if err := o.AddMetrics("a", m); err != nil {
		t.Fatal(err)
	}
	if err := o.AddMetrics("a", m); !errors.Is(err, steadyotel.ErrDuplicate) {
		t.Errorf("duplicate: %v, want ErrDuplicate", err)
	}
	for what, err := range map[string]error{
		"empty name":  o.AddMetrics("", m),
		"nil metrics": o.AddMetrics("x", nil),
		"nil breaker": o.AddBreaker("x", nil),
		"nil hedger":  o.AddHedger("x", nil),
		"nil budget":  o.AddBudget("x", nil),
		"typed nil":   o.AddBudget("x", (*budget.Adaptive)(nil)),
		"nil bulkhd":  o.AddBulkhead("x", nil),
		"nil adapt":   o.AddAdaptiveTimeout("x", nil),
	} {
		if !errors.Is(err, resilience.ErrInvalidConfig) {
			t.Errorf("%s: %v, want a ConfigError", what, err)
		}
	}
}
