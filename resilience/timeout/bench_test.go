package timeout_test

import (
	"context"
	"testing"
	"time"

	"github.com/steadyhq/steady/resilience/timeout"
)

// benchLimit is long enough never to fire during a benchmark.
const benchLimit = time.Minute

// op is the operation under every benchmark: it looks at ctx.Done() once,
// as anything that waits or does I/O does, so the derived context's Done
// channel is made in the baselines too.
func op(ctx context.Context) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	default:
		return 1, nil
	}
}

// Sinks keep the compiler from discarding results.
var (
	sinkV   int
	sinkErr error
)

// inline is the hand-written cooperative timeout that WithTimeout replaces.
func inline(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, benchLimit)
	v, err := op(ctx)
	cancel()
	return v, err
}

// goroutineSelect is the classic timeout for work that ignores its context,
// which Abandon replaces: a goroutine, a buffered result channel and a
// select on the result and ctx.Done().
func goroutineSelect(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, benchLimit)
	defer cancel()
	type result struct {
		v   int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := op(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func BenchmarkWithTimeout(b *testing.B) {
	ctx := context.Background()
	steady := timeout.WithTimeout[int](benchLimit)(op)
	for _, bc := range []struct {
		name string
		fn   func(context.Context) (int, error)
	}{
		{"impl=bare", op},
		{"impl=stdlib", inline},
		{"impl=steady", steady},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkV, sinkErr = bc.fn(ctx)
			}
		})
	}
}

func BenchmarkWithDeadline(b *testing.B) {
	ctx := context.Background()
	deadline := time.Now().Add(time.Hour)
	steady := timeout.WithDeadline[int](deadline)(op)
	stdlib := func(ctx context.Context) (int, error) {
		ctx, cancel := context.WithDeadline(ctx, deadline)
		v, err := op(ctx)
		cancel()
		return v, err
	}
	for _, bc := range []struct {
		name string
		fn   func(context.Context) (int, error)
	}{
		{"impl=stdlib", stdlib},
		{"impl=steady", steady},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkV, sinkErr = bc.fn(ctx)
			}
		})
	}
}

func BenchmarkAbandon(b *testing.B) {
	ctx := context.Background()
	steady := timeout.WithTimeout[int](benchLimit, timeout.Abandon())(op)
	for _, bc := range []struct {
		name string
		fn   func(context.Context) (int, error)
	}{
		{"impl=goroutine-select", goroutineSelect},
		{"impl=steady", steady},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkV, sinkErr = bc.fn(ctx)
			}
		})
	}
}

// BenchmarkWithTimeoutParallel measures the same calls from all Ps at
// once: nothing is shared between calls of a policy but read-only state.
func BenchmarkWithTimeoutParallel(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		fn   func(context.Context) (int, error)
	}{
		{"mode=cooperative/impl=stdlib", inline},
		{"mode=cooperative/impl=steady", timeout.WithTimeout[int](benchLimit)(op)},
		{"mode=abandon/impl=goroutine-select", goroutineSelect},
		{"mode=abandon/impl=steady", timeout.WithTimeout[int](benchLimit, timeout.Abandon())(op)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, _ = bc.fn(ctx)
				}
			})
		})
	}
}

// warmAdaptive returns an Adaptive past its warm-up whose limit stays in
// [benchLimit/2, benchLimit], so that no call times out: the benchmark
// times the control loop's every-call work.
func warmAdaptive(b *testing.B) *timeout.Adaptive {
	a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{TargetRate: 0.01, Min: benchLimit / 2, Max: benchLimit, Warmup: 1000})
	if err != nil {
		b.Fatal(err)
	}
	call := timeout.WithAdaptive[int](a)(op)
	for a.Snapshot().WarmingUp {
		_, _ = call(context.Background())
	}
	return a
}

func BenchmarkWithAdaptive(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=inline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkV, sinkErr = inline(ctx)
		}
	})
	b.Run("impl=WithTimeout", func(b *testing.B) {
		call := timeout.WithTimeout[int](benchLimit)(op)
		b.ReportAllocs()
		for b.Loop() {
			sinkV, sinkErr = call(ctx)
		}
	})
	b.Run("impl=WithAdaptive", func(b *testing.B) {
		call := timeout.WithAdaptive[int](warmAdaptive(b))(op)
		b.ReportAllocs()
		for b.Loop() {
			sinkV, sinkErr = call(ctx)
		}
	})
}

func BenchmarkWithAdaptiveParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=WithTimeout", func(b *testing.B) {
		call := timeout.WithTimeout[int](benchLimit)(op)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = call(ctx)
			}
		})
	})
	b.Run("impl=WithAdaptive", func(b *testing.B) {
		call := timeout.WithAdaptive[int](warmAdaptive(b))(op)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = call(ctx)
			}
		})
	})
}
