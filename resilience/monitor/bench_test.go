package monitor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

// BenchmarkRecord measures recording one call. Run with -cpu 1,2: the
// parallel case shows how recording scales across CPUs.
func BenchmarkRecord(b *testing.B) {
	b.Run("mode=serial", func(b *testing.B) {
		var m monitor.Metrics
		b.ReportAllocs()
		for b.Loop() {
			m.Record(3*time.Millisecond, resilience.OutcomeSuccess)
		}
	})
	b.Run("mode=parallel", func(b *testing.B) {
		var m monitor.Metrics
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Record(3*time.Millisecond, resilience.OutcomeSuccess)
			}
		})
	})
	b.Run("mode=parallel/alerts=1", func(b *testing.B) {
		m := monitor.NewMetrics(monitor.Logger(discard), monitor.Alert(monitor.AlertRule{Threshold: 0.5}))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Record(3*time.Millisecond, resilience.OutcomeSuccess)
			}
		})
	})
}

// BenchmarkMonitor measures a monitored call that succeeds, against the
// bare call.
func BenchmarkMonitor(b *testing.B) {
	ctx := context.Background()
	op := func(ctx context.Context) (int, error) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
			return 1, nil
		}
	}
	b.Run("impl=bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = op(ctx)
		}
	})
	b.Run("impl=steady", func(b *testing.B) {
		call := monitor.Monitor[int](monitor.NewMetrics(monitor.Logger(discard)))(op)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = call(ctx)
		}
	})
	b.Run("impl=steady/mode=parallel", func(b *testing.B) {
		call := monitor.Monitor[int](monitor.NewMetrics(monitor.Logger(discard)))(op)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = call(ctx)
			}
		})
	})
}

// BenchmarkMonitor_failure measures a monitored call that fails.
func BenchmarkMonitor_failure(b *testing.B) {
	boom := errors.New("boom")
	call := monitor.Monitor[int](monitor.NewMetrics(monitor.Logger(discard)))(func(context.Context) (int, error) { return 0, boom })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

// BenchmarkSnapshot measures reading the figures.
func BenchmarkSnapshot(b *testing.B) {
	var m monitor.Metrics
	for i := range 1000 {
		m.Record(time.Duration(i)*time.Microsecond, resilience.OutcomeSuccess)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Snapshot()
	}
}
