package benchmarks_test

// steady (github.com/steadyhq/steady, through the replace directive: the
// library in the parent directory), with the configuration the peers are
// matched to:
//
//   - timeout: timeout.WithTimeout[int](limit), cooperative (the default);
//     timeout.WithTimeout[int](limit, timeout.Abandon()) for the abandon case;
//     timeout.WithAdaptive[int](a) for the adaptive case (see steadyAdaptive).
//   - retry: retry.Retry[int](retry.Config{MaxAttempts: attempts,
//     BaseDelay: baseDelay, MaxDelay: maxDelay, Multiplier: multiplier,
//     Jitter: true}); Jitter draws each delay from [d/2, 3d/2], the same as a
//     jitter factor of 0.5.
//   - monitor: monitor.Monitor[int](m), m from
//     monitor.NewMetrics(monitor.Config{Name: "bench"}): one Metrics shared
//     by every goroutine of a parallel benchmark, with no alert rule and no
//     Logger (it logs nothing).
//   - breaker: breaker.New(breaker.Settings{Name: "bench",
//     ConsecutiveFailures: tripAfter, OpenTimeout: openFor}), which is
//     gobreaker's default behaviour (open on the 6th failure in a row, stay
//     open 60s, one probe when half-open); the rate rules stay off, and the
//     state-change log goes to slog.DiscardHandler, since no peer logs.
//   - bulkhead: bulkhead.Limit[int](b), b from bulkhead.New(bulkhead.Config{
//     MaxConcurrent: slots}), no queue; for the rejected case MaxConcurrent
//     is 1 and the slot is taken before the timed loop.
//   - coalesce: bulkhead.Coalesce[int](key) with a key function that
//     returns coalesceKey, built once.
//   - pipeline: resilience.Compose(Monitor, Breaker, Retry, Timeout) of the
//     above, the recommended order.
//   - retry with a budget: the retry above with Config.Budget set to
//     budget.NewAdaptive(budget.AdaptiveConfig{}) (the recommended budget),
//     budget.NewRatio(budget.RatioConfig{Ratio: 10}) (Finagle's, with room
//     for the two retries of every fail-twice call), or
//     budget.NewThrottler(budget.ThrottlerConfig{}); no peer has a budget
//     of these kinds, so they are compared with the retry without one.
//
// Every policy and pipeline is built once, before the timed loop, and the
// Func it returns is called with the caller's context, as in real use: a
// steady Func takes a new context per call at no extra cost. Where there is
// a timeout the operation is opDeadline, which fails without one; where
// there is a monitor, checkRecorded makes sure it recorded every call.

import (
	"context"
	"log/slog"
	"testing"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// steadyCall calls fn with the caller's context.
func steadyCall(ctx context.Context, fn resilience.Func[int]) call {
	return func() (int, error) { return fn(ctx) }
}

func steadyRetryConfig() retry.Config {
	return retry.Config{
		MaxAttempts: attempts,
		BaseDelay:   baseDelay,
		MaxDelay:    maxDelay,
		Multiplier:  multiplier,
		Jitter:      true,
	}
}

func steadyTimeout(ctx context.Context) call {
	return steadyCall(ctx, timeout.WithTimeout[int](limit)(opDeadline))
}

// steadyAdaptive is timeout.WithAdaptive with TargetRate 0.01, Min limit/2
// and Max limit, warmed up (its 1,000 warm-up calls, which read the clock)
// before the timed loop.
func steadyAdaptive(b *testing.B, ctx context.Context) call {
	a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{TargetRate: 0.01, Min: limit / 2, Max: limit, Warmup: 1000})
	if err != nil {
		b.Fatal(err)
	}
	fn := timeout.WithAdaptive[int](a)(opDeadline)
	for a.Snapshot().WarmingUp {
		if _, err := fn(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return steadyCall(ctx, fn)
}

func steadyAbandon(ctx context.Context) call {
	return steadyCall(ctx, timeout.WithTimeout[int](limit, timeout.Abandon())(opDeadline))
}

func steadyRetry(ctx context.Context, fn func(context.Context) (int, error)) call {
	return steadyCall(ctx, retry.Retry[int](steadyRetryConfig())(fn))
}

func steadyRetryBudget(ctx context.Context, fn func(context.Context) (int, error), bud budget.Budget, err error) call {
	if err != nil {
		panic(err)
	}
	cfg := steadyRetryConfig()
	cfg.Budget = bud
	return steadyCall(ctx, retry.Retry[int](cfg)(fn))
}

func steadyRetryAdaptive(ctx context.Context, fn func(context.Context) (int, error)) call {
	bud, err := budget.NewAdaptive(budget.AdaptiveConfig{})
	return steadyRetryBudget(ctx, fn, bud, err)
}

func steadyRetryRatio(ctx context.Context, fn func(context.Context) (int, error)) call {
	bud, err := budget.NewRatio(budget.RatioConfig{Ratio: 10})
	return steadyRetryBudget(ctx, fn, bud, err)
}

func steadyRetryThrottler(ctx context.Context, fn func(context.Context) (int, error)) call {
	bud, err := budget.NewThrottler(budget.ThrottlerConfig{})
	return steadyRetryBudget(ctx, fn, bud, err)
}

func steadyMonitor(b *testing.B, ctx context.Context) call {
	return steadyCall(ctx, monitor.Monitor[int](newSteadyMetrics(b))(op))
}

// newSteadyMetrics returns the Metrics of the monitor cases, checked with
// checkRecorded.
func newSteadyMetrics(b *testing.B) *monitor.Metrics {
	m, err := monitor.NewMetrics(monitor.Config{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	checkRecorded(b, m)
	return m
}

// checkRecorded fails the benchmark unless m recorded every call the timed
// loop made, so that a monitor that stopped recording cannot pass for a
// cheap one. It adds nothing to the loop: b.Cleanup runs after each run of
// the benchmark function, when b.N is the number of calls that run made
// (b.Loop and b.RunParallel both leave it so).
func checkRecorded(b *testing.B, m *monitor.Metrics) {
	b.Cleanup(func() {
		if got := m.Snapshot().Total; got < int64(b.N) {
			b.Errorf("monitor.Metrics recorded %d calls, want %d", got, b.N)
		}
	})
}

func newSteadyBreaker(b *testing.B) *breaker.CircuitBreaker {
	cb, err := breaker.New(breaker.Settings{
		Name:                "bench",
		ConsecutiveFailures: tripAfter,
		OpenTimeout:         openFor,
		Logger:              slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	return cb
}

func steadyBreakerClosed(b *testing.B, ctx context.Context) call {
	return steadyCall(ctx, breaker.Breaker[int](newSteadyBreaker(b))(op))
}

// steadyBreakerOpen returns a call through a breaker that failing calls
// have opened.
func steadyBreakerOpen(b *testing.B, ctx context.Context) call {
	cb := newSteadyBreaker(b)
	trip(b, steadyCall(ctx, breaker.Breaker[int](cb)(failingOp)))
	return steadyCall(ctx, breaker.Breaker[int](cb)(op))
}

func newSteadyBulkhead(b *testing.B, maxConcurrent int) *bulkhead.Bulkhead {
	bh, err := bulkhead.New(bulkhead.Config{Name: "bench", MaxConcurrent: maxConcurrent})
	if err != nil {
		b.Fatal(err)
	}
	return bh
}

func steadyLimit(b *testing.B, ctx context.Context) call {
	return steadyCall(ctx, bulkhead.Limit[int](newSteadyBulkhead(b, slots))(op))
}

// steadyLimitFull returns a call through a bulkhead whose only slot is
// taken, given back when the benchmark ends.
func steadyLimitFull(b *testing.B, ctx context.Context) call {
	bh := newSteadyBulkhead(b, 1)
	if err := bh.Acquire(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bh.Release)
	return steadyCall(ctx, bulkhead.Limit[int](bh)(op))
}

func steadyCoalesce(ctx context.Context) call {
	key := func(context.Context) string { return coalesceKey }
	return steadyCall(ctx, bulkhead.Coalesce[int](key)(op))
}

func steadyPipeline(b *testing.B, ctx context.Context) call {
	pipeline := resilience.Compose(
		monitor.Monitor[int](newSteadyMetrics(b)),
		breaker.Breaker[int](newSteadyBreaker(b)),
		retry.Retry[int](steadyRetryConfig()),
		timeout.WithTimeout[int](limit),
	)
	return steadyCall(ctx, pipeline(opDeadline))
}
