package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
)

// The benchmarks compare Retry with github.com/cenkalti/backoff/v4's
// RetryWithData, configured to match:
//
//   - 3 attempts: backoff.WithMaxRetries(b, 2) (2 retries after the first
//     try), for retry's MaxAttempts 3;
//   - the same delays: an ExponentialBackOff with InitialInterval =
//     BaseDelay, Multiplier, MaxInterval = MaxDelay, RandomizationFactor 0.5
//     (Jitter) and MaxElapsedTime 0, exactly what Retry builds inside;
//   - the BackOff is built once, outside the loop, and reused: RetryWithData
//     resets it on every call. That is backoff's cheapest use; it is only
//     correct while one goroutine uses it, so the parallel cases build one
//     per goroutine. Retry needs no such care: one Func serves all.
//
// The operation is cooperative, as anything that waits or does I/O is: it
// looks at ctx.Done() once.
//
// Run: go test -run '^$' -bench . -count 10 ./resilience/retry/

// benchCfg is the configuration of both sides of the success benchmarks.
var benchCfg = retry.Config{MaxAttempts: 3, BaseDelay: 100 * time.Millisecond, MaxDelay: 30 * time.Second, Multiplier: 2, Jitter: true}

// minimalCfg has the smallest delays, for the failure path: it measures the
// cost of retrying, not of waiting.
var minimalCfg = retry.Config{MaxAttempts: 3, BaseDelay: time.Nanosecond, MaxDelay: 4 * time.Nanosecond, Multiplier: 2, Jitter: true}

// newBackOff returns backoff v4's equivalent of cfg.
func newBackOff(cfg retry.Config) backoff.BackOff {
	return backoff.WithMaxRetries(&backoff.ExponentialBackOff{
		InitialInterval:     cfg.BaseDelay,
		RandomizationFactor: 0.5,
		Multiplier:          cfg.Multiplier,
		MaxInterval:         cfg.MaxDelay,
		MaxElapsedTime:      0,
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}, uint64(cfg.MaxAttempts-1))
}

// op is the operation: it succeeds unless ctx is done.
func op(ctx context.Context) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	default:
		return 1, nil
	}
}

// failTwice returns an operation that fails twice, then succeeds, and again
// on the next three calls. Not for concurrent use.
func failTwice() resilience.Func[int] {
	calls := 0
	return func(ctx context.Context) (int, error) {
		calls++
		if calls%3 != 0 {
			return 0, errBoom
		}
		return op(ctx)
	}
}

func BenchmarkSuccess(b *testing.B) {
	b.Run("mode=serial", func(b *testing.B) {
		b.Run("impl=bare", func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				_, _ = op(ctx)
			}
		})
		b.Run("impl=steady", func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			call := retry.Retry[int](benchCfg)(op)
			for b.Loop() {
				_, _ = call(ctx)
			}
		})
		b.Run("impl=backoff-v4", func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			bo := newBackOff(benchCfg)
			o := func() (int, error) { return op(ctx) }
			for b.Loop() {
				_, _ = backoff.RetryWithData(o, bo)
			}
		})
	})
	b.Run("mode=parallel", func(b *testing.B) {
		b.Run("impl=bare", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					_, _ = op(ctx)
				}
			})
		})
		b.Run("impl=steady", func(b *testing.B) {
			b.ReportAllocs()
			call := retry.Retry[int](benchCfg)(op) // shared by all goroutines
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					_, _ = call(ctx)
				}
			})
		})
		b.Run("impl=backoff-v4", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				bo := newBackOff(benchCfg) // one per goroutine: not thread-safe
				o := func() (int, error) { return op(ctx) }
				for pb.Next() {
					_, _ = backoff.RetryWithData(o, bo)
				}
			})
		})
	})
}

func BenchmarkFailTwice(b *testing.B) {
	b.Run("mode=serial", func(b *testing.B) {
		b.Run("impl=steady", func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			call := retry.Retry[int](minimalCfg)(failTwice())
			for b.Loop() {
				if _, err := call(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("impl=backoff-v4", func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			bo := newBackOff(minimalCfg)
			f := failTwice()
			o := func() (int, error) { return f(ctx) }
			for b.Loop() {
				if _, err := backoff.RetryWithData(o, bo); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("mode=parallel", func(b *testing.B) {
		b.Run("impl=steady", func(b *testing.B) {
			b.ReportAllocs()
			p := retry.Retry[int](minimalCfg)
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				call := p(failTwice()) // the counter is per goroutine
				for pb.Next() {
					if _, err := call(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("impl=backoff-v4", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				bo := newBackOff(minimalCfg)
				f := failTwice()
				o := func() (int, error) { return f(ctx) }
				for pb.Next() {
					if _, err := backoff.RetryWithData(o, bo); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	})
}
