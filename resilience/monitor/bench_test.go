package monitor_test

import (
	"context"
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

// BenchmarkRecord measures recording one call. Run it with -cpu 1,2: in
// mode=parallel, ns/op is wall time per call across all goroutines, so
// ns/op at 1 CPU divided by ns/op at 2 CPUs is how much recording speeds
// up with a second CPU.
//
// Baselines: impl=mutex counts the same figures under one mutex, and
// impl=atomic with the same atomics as steady but unsharded, all CPUs on
// the same cache lines.
func BenchmarkRecord(b *testing.B) {
	impls := []struct {
		name   string
		record func(b *testing.B) func(time.Duration, resilience.Outcome)
	}{
		{"steady", func(*testing.B) func(time.Duration, resilience.Outcome) { return new(monitor.Metrics).Record }},
		{"steady/alerts=1", func(b *testing.B) func(time.Duration, resilience.Outcome) {
			return newMetrics(b, monitor.Config{Alerts: []monitor.AlertRule{{Threshold: 0.5}}}).Record
		}},
		{"mutex", func(*testing.B) func(time.Duration, resilience.Outcome) { return new(mutexMetrics).record }},
		{"atomic", func(*testing.B) func(time.Duration, resilience.Outcome) { return new(atomicMetrics).record }},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name+"/mode=serial", func(b *testing.B) {
			record := impl.record(b)
			b.ReportAllocs()
			for b.Loop() {
				record(3*time.Millisecond, resilience.OutcomeSuccess)
			}
		})
		b.Run("impl="+impl.name+"/mode=parallel", func(b *testing.B) {
			record := impl.record(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					record(3*time.Millisecond, resilience.OutcomeSuccess)
				}
			})
		})
	}
}

// mutexMetrics is the obvious implementation: counts, sum, max and a
// histogram under one mutex.
type mutexMetrics struct {
	mu      sync.Mutex
	n       [5]int64
	sum     time.Duration
	max     time.Duration
	buckets [64]int64
}

func (m *mutexMetrics) record(d time.Duration, o resilience.Outcome) {
	m.mu.Lock()
	m.n[o]++
	m.sum += d
	m.max = max(m.max, d)
	m.buckets[bits.Len64(uint64(d))]++
	m.mu.Unlock()
}

// atomicMetrics is steady's recording without the shards.
type atomicMetrics struct {
	n       [5]atomic.Int64
	sum     atomic.Int64
	max     atomic.Int64
	buckets [64]atomic.Int64
}

func (m *atomicMetrics) record(d time.Duration, o resilience.Outcome) {
	m.buckets[bits.Len64(uint64(d))].Add(1)
	m.sum.Add(int64(d))
	for {
		cur := m.max.Load()
		if int64(d) <= cur || m.max.CompareAndSwap(cur, int64(d)) {
			break
		}
	}
	m.n[o].Add(1)
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
		call := monitor.Monitor[int](newMetrics(b, monitor.Config{}))(op)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = call(ctx)
		}
	})
	b.Run("impl=steady/ctx=cancelable", func(b *testing.B) {
		// A context that can be canceled: its Err is an atomic load, not
		// a constant nil as Background's is.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		call := monitor.Monitor[int](newMetrics(b, monitor.Config{}))(op)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = call(ctx)
		}
	})
	b.Run("impl=steady/mode=parallel", func(b *testing.B) {
		call := monitor.Monitor[int](newMetrics(b, monitor.Config{}))(op)
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
	call := monitor.Monitor[int](newMetrics(b, monitor.Config{}))(func(context.Context) (int, error) { return 0, boom })
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
