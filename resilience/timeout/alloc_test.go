//go:build !race

package timeout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// These pin the allocation promises of the package doc: a policy allocates
// no more per call than the hand-written code it replaces.

func TestWithTimeout_allocsNoMoreThanStdlib(t *testing.T) {
	ctx := context.Background()
	steady := timeout.WithTimeout[int](benchLimit)(op)
	want := testing.AllocsPerRun(200, func() { sinkV, sinkErr = inline(ctx) })
	got := testing.AllocsPerRun(200, func() { sinkV, sinkErr = steady(ctx) })
	assert.LessOrEqual(t, got, want, "steady %v allocs/op, inline context.WithTimeout %v", got, want)
}

func TestWithDeadline_allocsNoMoreThanStdlib(t *testing.T) {
	ctx := context.Background()
	deadline := time.Now().Add(time.Hour)
	steady := timeout.WithDeadline[int](deadline)(op)
	want := testing.AllocsPerRun(200, func() {
		ctx, cancel := context.WithDeadline(ctx, deadline)
		sinkV, sinkErr = op(ctx)
		cancel()
	})
	got := testing.AllocsPerRun(200, func() { sinkV, sinkErr = steady(ctx) })
	assert.LessOrEqual(t, got, want, "steady %v allocs/op, inline context.WithDeadline %v", got, want)
}

func TestAbandon_allocs(t *testing.T) {
	ctx := context.Background()
	steady := timeout.WithTimeout[int](benchLimit, timeout.Abandon(), timeout.Track(new(gauge)))(op)
	classic := testing.AllocsPerRun(200, func() { sinkV, sinkErr = goroutineSelect(ctx) })
	coop := testing.AllocsPerRun(200, func() { sinkV, sinkErr = inline(ctx) })
	got := testing.AllocsPerRun(200, func() { sinkV, sinkErr = steady(ctx) })
	assert.Less(t, got, classic, "steady %v allocs/op, goroutine+select %v", got, classic)
	assert.LessOrEqual(t, got, coop+2, "abandon mode adds at most the goroutine's closure and the call state")
}

// A call under an adaptive limit allocates what context.WithTimeout does,
// during the warm-up (which reads the clock) and after it.
func TestWithAdaptive_allocsNoMoreThanStdlib(t *testing.T) {
	ctx := context.Background()
	a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{TargetRate: 0.01, Min: benchLimit / 2, Max: benchLimit, Warmup: 500})
	if err != nil {
		t.Fatal(err)
	}
	steady := timeout.WithAdaptive[int](a)(op)
	want := testing.AllocsPerRun(200, func() { sinkV, sinkErr = inline(ctx) })
	warming := testing.AllocsPerRun(200, func() { sinkV, sinkErr = steady(ctx) })
	assert.True(t, a.Snapshot().WarmingUp)
	assert.LessOrEqual(t, warming, want, "warm-up: steady %v allocs/op, inline context.WithTimeout %v", warming, want)
	for a.Snapshot().WarmingUp {
		sinkV, sinkErr = steady(ctx)
	}
	got := testing.AllocsPerRun(1000, func() { sinkV, sinkErr = steady(ctx) })
	assert.LessOrEqual(t, got, want, "steady %v allocs/op, inline context.WithTimeout %v", got, want)
}

// Karn's rule costs a retried call one allocation, the mark on its later
// attempts, in a program that has an Adaptive (as this test binary does);
// retry's own tests pin zero in a program without one. WithAdaptive on
// the retried attempts costs no more than WithTimeout.
func TestWithAdaptive_retryMarkAllocatesOnce(t *testing.T) {
	ctx := context.Background()
	a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{TargetRate: 0.01, Min: benchLimit / 2, Max: benchLimit, Warmup: 100})
	if err != nil {
		t.Fatal(err)
	}
	for a.Snapshot().WarmingUp {
		_, _ = timeout.WithAdaptive[int](a)(op)(ctx)
	}
	cfg := retry.Config{MaxAttempts: 3, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond}
	errTransient := errors.New("transient")
	failTwice := func() func(context.Context) (int, error) {
		n := 0
		return func(ctx context.Context) (int, error) {
			if n++; n%3 != 0 {
				return 0, errTransient
			}
			return op(ctx)
		}
	}
	bare := retry.Retry[int](cfg)(failTwice())
	assert.Equal(t, 1.0, testing.AllocsPerRun(200, func() { sinkV, sinkErr = bare(ctx) }))

	fixed := retry.Retry[int](cfg)(timeout.WithTimeout[int](benchLimit)(failTwice()))
	adaptive := retry.Retry[int](cfg)(timeout.WithAdaptive[int](a)(failTwice()))
	want := testing.AllocsPerRun(200, func() { sinkV, sinkErr = fixed(ctx) })
	got := testing.AllocsPerRun(200, func() { sinkV, sinkErr = adaptive(ctx) })
	assert.Equal(t, want, got, "adaptive %v allocs/op, fixed %v", got, want)

	once := retry.Retry[int](cfg)(timeout.WithAdaptive[int](a)(op))
	base := testing.AllocsPerRun(200, func() { sinkV, sinkErr = inline(ctx) })
	assert.Equal(t, base, testing.AllocsPerRun(200, func() { sinkV, sinkErr = once(ctx) }), "a first-attempt success")
}
