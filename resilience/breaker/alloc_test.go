//go:build !race

package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/breaker"
)

// The breaker promises no allocation per call while closed (successes and
// failures that do not trip it) and per rejected call, through Breaker and
// through Allow and Done.
func TestAllocs(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context) (int, error) { return 1, nil }
	fail := func(context.Context) (int, error) { return 0, errDown }
	timedOut := func(context.Context) (int, error) { return 0, errTimedOut }

	t.Run("closed success", func(t *testing.T) {
		call := breaker.Breaker[int](newBreaker(t, breaker.Settings{}))(ok)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = call(ctx) }))
	})
	t.Run("closed success, every rule on", func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{
			ConsecutiveFailures: 5, FailureRate: 0.5, TimeoutRate: 0.5,
			SlowCallRate: 0.5, SlowCallDuration: time.Second, IsFailure: isFailure,
		})
		call := breaker.Breaker[int](cb)(ok)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = call(ctx) }))
	})
	t.Run("closed failure and timeout, rules checked", func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{FailureRate: 0.9, TimeoutRate: 0.9, MinRequests: 10})
		okCall, failCall, toCall := breaker.Breaker[int](cb)(ok), breaker.Breaker[int](cb)(fail), breaker.Breaker[int](cb)(timedOut)
		assert.Zero(t, testing.AllocsPerRun(1000, func() {
			_, _ = okCall(ctx)
			_, _ = failCall(ctx)
			_, _ = toCall(ctx)
		}))
		require.Equal(t, breaker.StateClosed, cb.State())
	})
	t.Run("closed, with a Store", func(t *testing.T) {
		// The sync goroutine is idle (SyncInterval 1h): AllocsPerRun
		// counts every goroutine's allocations.
		cb := newBreaker(t, breaker.Settings{FailureRate: 0.9, MinRequests: 10, Store: newMemStore(), SyncInterval: time.Hour})
		defer cb.Close()
		okCall, failCall := breaker.Breaker[int](cb)(ok), breaker.Breaker[int](cb)(fail)
		assert.Zero(t, testing.AllocsPerRun(1000, func() {
			_, _ = okCall(ctx)
			_, _ = failCall(ctx)
		}))
		require.Equal(t, breaker.StateClosed, cb.State())
	})
	t.Run("closed failure, IsFailure asked", func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1 << 30, IsFailure: isFailure})
		call := breaker.Breaker[int](cb)(fail)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = call(ctx) }))
	})
	t.Run("closed, rejected by a nested breaker", func(t *testing.T) {
		inner := newBreaker(t, breaker.Settings{})
		inner.Isolate()
		defer inner.Reset()
		outer := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1})
		call := breaker.Breaker[int](outer)(breaker.Breaker[int](inner)(ok))
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = call(ctx) }))
		require.Equal(t, breaker.StateClosed, outer.State())
	})
	t.Run("open rejection", func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour})
		defer cb.Reset()
		call := breaker.Breaker[int](cb)(fail)
		_, _ = call(ctx)
		require.Equal(t, breaker.StateOpen, cb.State())
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = call(ctx) }))
	})
	t.Run("isolated rejection", func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{})
		cb.Isolate()
		defer cb.Reset()
		call := breaker.Breaker[int](cb)(ok)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = call(ctx) }))
	})
	t.Run("Allow and Done, closed", func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{FailureRate: 0.9, SlowCallDuration: time.Second})
		assert.Zero(t, testing.AllocsPerRun(1000, func() {
			tk, err := cb.Allow()
			tk.Done(ctx, err)
			tk, _ = cb.Allow()
			tk.Done(ctx, errDown)
		}))
		require.Equal(t, breaker.StateClosed, cb.State())
	})
	t.Run("Allow, open", func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{OpenTimeout: time.Hour})
		cb.Isolate()
		defer cb.Reset()
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = cb.Allow() }))
	})
	t.Run("State and Snapshot", func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{TimeoutRate: 0.5})
		assert.Zero(t, testing.AllocsPerRun(1000, func() {
			_ = cb.State()
			_ = cb.Snapshot()
		}))
	})
}
