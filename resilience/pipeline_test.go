package resilience_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

type user struct{}

// The README's "Testing your own pipelines" example, kept honest.
func TestReadme_synctestPipeline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := func(ctx context.Context) (*user, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		call := resilience.Compose(
			retry.Retry[*user](retry.Config{MaxAttempts: 3, BaseDelay: 100 * time.Millisecond}),
			timeout.WithTimeout[*user](time.Second),
		)(hang)

		start := time.Now()
		_, err := call(t.Context())

		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 3, re.Attempts)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 3*time.Second+300*time.Millisecond, time.Since(start))
	})
}

// The recommended order, end to end: the breaker counts logical calls
// (attempt timeouts as timeouts), stops retries once open, and the monitor
// sees the fast rejections.
func TestRecommendedOrder_endToEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := new(monitor.Metrics)
		cb, err := breaker.New(breaker.Settings{ConsecutiveFailures: 2, OpenTimeout: time.Minute, Logger: discard()})
		require.NoError(t, err)
		var attempts int
		hang := func(ctx context.Context) (*user, error) {
			attempts++
			<-ctx.Done()
			return nil, ctx.Err()
		}
		call := resilience.Compose(
			monitor.Monitor[*user](m),
			breaker.Breaker[*user](cb),
			retry.Retry[*user](retry.Config{MaxAttempts: 2, BaseDelay: 10 * time.Millisecond}),
			timeout.WithTimeout[*user](time.Second),
		)(hang)

		for range 2 {
			_, err := call(t.Context())
			var te *timeout.Error
			require.ErrorAs(t, err, &te)
		}
		assert.Equal(t, 4, attempts, "two logical calls of two attempts each")
		assert.Equal(t, breaker.StateOpen, cb.State())

		start := time.Now()
		_, err = call(t.Context())
		require.ErrorIs(t, err, breaker.ErrOpen)
		assert.Zero(t, time.Since(start), "rejected without waiting")
		assert.Equal(t, 4, attempts, "no attempt while open")

		s := m.Snapshot()
		assert.EqualValues(t, 3, s.Total)
		assert.EqualValues(t, 2, s.Timeouts)
		assert.EqualValues(t, 1, s.Rejected, "the breaker's rejection is not a failure of the dependency")
		assert.Zero(t, s.Failures)
		// Two attempts of 1s and a 10ms backoff; the instant rejection
		// stays out of the latency figures.
		assert.Equal(t, 2010*time.Millisecond, s.Max)
		assert.Equal(t, 2010*time.Millisecond, s.Mean)
		assert.True(t, errors.Is(err, breaker.ErrOpen))
	})
}

// The caller's cancellation passes through every layer unchanged in kind,
// is not retried, and is neither a failure for the monitor nor for the
// breaker.
func TestRecommendedOrder_callerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := new(monitor.Metrics)
		cb, err := breaker.New(breaker.Settings{ConsecutiveFailures: 1, Logger: discard()})
		require.NoError(t, err)
		var attempts int
		call := resilience.Compose(
			monitor.Monitor[int](m),
			breaker.Breaker[int](cb),
			retry.Retry[int](retry.DefaultConfig()),
			timeout.WithTimeout[int](time.Second),
		)(func(ctx context.Context) (int, error) {
			attempts++
			<-ctx.Done()
			return 0, ctx.Err()
		})

		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err = call(ctx)
		require.ErrorIs(t, err, context.Canceled)
		var te *timeout.Error
		assert.False(t, errors.As(err, &te))
		assert.Equal(t, 1, attempts)
		assert.Equal(t, breaker.StateClosed, cb.State())
		s := m.Snapshot()
		assert.EqualValues(t, 1, s.Canceled)
		assert.Zero(t, s.Failures+s.Timeouts)
	})
}

// Issue 7: one typo in a retry Config failed every call without calling fn,
// the monitor counted failures and the breaker opened, blaming the
// dependency for a mistake in the program. Now the mistake stops the
// pipeline from being built, and nothing is counted.
func TestPipeline_issue7_misconfiguredPolicyNeverBlamesTheDependency(t *testing.T) {
	m := new(monitor.Metrics)
	cb, err := breaker.New(breaker.Settings{ConsecutiveFailures: 3})
	require.NoError(t, err)

	v := panicValue(func() {
		resilience.Compose(
			monitor.Monitor[int](m),
			breaker.Breaker[int](cb),
			retry.Retry[int](retry.Config{MaxAttempts: 3, BaseDelay: -1}),
			timeout.WithTimeout[int](time.Second),
		)
	})
	built, ok := v.(error)
	require.True(t, ok, "building the pipeline panics with the error, got %v", v)
	require.ErrorIs(t, built, resilience.ErrInvalidConfig)
	assert.EqualError(t, built, "retry: Config.BaseDelay is -1ns, want >= 0")
	assert.Zero(t, m.Snapshot().Total)
	assert.Equal(t, breaker.StateClosed, cb.State())

	// A configuration error that still reaches them at call time (from a
	// pipeline that a Func builds per call, say) is a rejection: neither
	// a failure for the monitor nor for the breaker.
	var calls int
	call := resilience.Compose(monitor.Monitor[int](m), breaker.Breaker[int](cb))(
		func(ctx context.Context) (int, error) {
			calls++
			return resilience.Do(ctx, func(context.Context) (int, error) { return 1, nil },
				func(resilience.Func[int]) resilience.Func[int] {
					return func(context.Context) (int, error) { return 0, built }
				})
		})
	for range 10 {
		_, err := call(t.Context())
		require.ErrorIs(t, err, resilience.ErrInvalidConfig)
	}
	assert.Equal(t, 10, calls)
	s := m.Snapshot()
	assert.EqualValues(t, 10, s.Rejected, "%v", s)
	assert.Zero(t, s.Failures)
	assert.Equal(t, breaker.StateClosed, cb.State(), "the breaker does not open")
	assert.Zero(t, cb.Snapshot().Counts.Failures)
}
