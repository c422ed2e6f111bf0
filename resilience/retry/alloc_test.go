//go:build !race

package retry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/retry"
)

// These pin the zero-allocation promises of the package doc: a call that
// succeeds at once, and a call whose failed attempts wait less than a
// microsecond, allocate nothing.

func TestRetry_successDoesNotAllocate(t *testing.T) {
	call := retry.Retry[int](retry.DefaultConfig())(func(context.Context) (int, error) { return 1, nil })
	ctx := t.Context()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := call(ctx); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestRetry_failTwiceDoesNotAllocate(t *testing.T) {
	wrapped := fmt.Errorf("get: %w", &statusErr{code: 503}) // classified through a chain
	background := func(*testing.T) context.Context { return context.Background() }
	tests := []struct {
		name   string
		err    error
		ctx    func(t *testing.T) context.Context
		budget budget.Budget
	}{
		{"plain error", errBoom, background, nil},
		{"wrapped Retryable error", wrapped, background, nil},
		{"context with deadline", errBoom, func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			t.Cleanup(cancel)
			return ctx
		}, nil},
		{"adaptive budget", errBoom, background, must(budget.NewAdaptive(budget.AdaptiveConfig{}))},
		{"ratio budget", errBoom, background, must(budget.NewRatio(budget.RatioConfig{Ratio: 10}))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			call := retry.Retry[int](retry.Config{
				MaxAttempts: 3, BaseDelay: time.Nanosecond, MaxDelay: 4 * time.Nanosecond, Jitter: true,
				Budget: tc.budget,
			})(func(context.Context) (int, error) {
				calls++
				if calls%3 != 0 {
					return 0, tc.err
				}
				return calls, nil
			})
			ctx := tc.ctx(t)
			allocs := testing.AllocsPerRun(1000, func() {
				if _, err := call(ctx); err != nil {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs)
			require.Equal(t, 0, calls%3)
		})
	}
}

// A budget's bookkeeping on a call that succeeds at once allocates nothing.
func TestRetry_successWithBudgetDoesNotAllocate(t *testing.T) {
	for _, b := range []budget.Budget{
		must(budget.NewAdaptive(budget.AdaptiveConfig{})),
		must(budget.NewRatio(budget.RatioConfig{})),
		must(budget.NewThrottler(budget.ThrottlerConfig{})),
	} {
		call := retry.Retry[int](retry.Config{Budget: b})(func(context.Context) (int, error) { return 1, nil })
		ctx := t.Context()
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := call(ctx); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "%T", b)
	}
}

func must[B budget.Budget](b B, err error) budget.Budget {
	if err != nil {
		panic(err)
	}
	return b
}

func TestIsRetryable_doesNotAllocate(t *testing.T) {
	err := fmt.Errorf("a: %w", fmt.Errorf("b: %w", &statusErr{code: 503}))
	allocs := testing.AllocsPerRun(1000, func() { _ = retry.IsRetryable(err) })
	assert.Zero(t, allocs)
}

// A call that waits several times allocates no more than a call that waits
// once: its one timer is reset for later waits, never re-created. (The
// delays are a few microseconds of real time, long enough to need a timer.)
func TestRetry_oneTimerPerCall(t *testing.T) {
	allocsFor := func(waits int) float64 {
		calls := 0
		call := retry.Retry[int](retry.Config{
			MaxAttempts: waits + 1, BaseDelay: 2 * time.Microsecond, MaxDelay: 2 * time.Microsecond,
		})(func(context.Context) (int, error) {
			calls++
			if calls%(waits+1) != 0 {
				return 0, errBoom
			}
			return calls, nil
		})
		ctx := context.Background()
		return testing.AllocsPerRun(50, func() {
			if _, err := call(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	one := allocsFor(1)
	assert.NotZero(t, one, "a wait of a microsecond or more uses a timer")
	assert.Equal(t, one, allocsFor(4))
}

// Hooks run through a recover, without allocating for it.
func TestRetry_hooksDoNotAllocate(t *testing.T) {
	calls := 0
	call := retry.Retry[int](retry.Config{
		MaxAttempts: 3, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond,
		ShouldRetry: func(error) bool { return true },
		OnRetry:     func(int, error, time.Duration) {},
	})(func(context.Context) (int, error) {
		calls++
		if calls%3 != 0 {
			return 0, errBoom
		}
		return calls, nil
	})
	ctx := t.Context()
	allocs := testing.AllocsPerRun(1000, func() {
		_, err := call(ctx)
		require.NoError(t, err)
	})
	assert.Zero(t, allocs)
}
