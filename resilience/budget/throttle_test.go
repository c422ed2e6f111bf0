package budget_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/retry"
)

func newThrottlerBudget(t *testing.T, c budget.ThrottlerConfig) *budget.Throttler {
	t.Helper()
	th, err := budget.NewThrottler(c)
	require.NoError(t, err)
	return th
}

// report tells th about failed requests and accepted ones.
func report(th *budget.Throttler, failed, accepted int) {
	for range failed {
		th.Done(false, false)
	}
	for range accepted {
		th.Done(false, true)
	}
}

// statusErr stands in for an HTTP status error (httpx's StatusError has the
// same method): 408, 429 and 5xx are retryable.
type statusErr int

func (e statusErr) Error() string   { return "status " + strconv.Itoa(int(e)) }
func (e statusErr) Retryable() bool { return e == 408 || e == 429 || e >= 500 }

func TestThrottler_rejectRateIsTheSREFormula(t *testing.T) {
	tests := []struct {
		k                  float64
		failed, accepted   int
		wantRate, headroom float64
	}{
		{2, 0, 0, 0, 0},
		{2, 0, 100, 0, 100},
		{2, 100, 100, 0, 0},           // 200 requests, 2×100 accepts: the edge
		{2, 300, 100, 200.0 / 401, 0}, // (400 − 200) / 401
		{2, 10, 0, 10.0 / 11, 0},
		{1.1, 200, 800, (1000 - 880.0) / 1001, 0},
		{1.1, 100, 1000, 0, 0}, // 1.1×1000 = 1100 requests: the edge
		{3, 100, 100, 0, 100},
	}
	for _, tc := range tests {
		t.Run("", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				th := newThrottlerBudget(t, budget.ThrottlerConfig{K: tc.k})
				report(th, tc.failed, tc.accepted)
				s := th.Snapshot()
				assert.InDelta(t, tc.wantRate, s.RejectRate, 1e-12)
				assert.InDelta(t, tc.headroom, s.Headroom, 1e-9)
			})
		})
	}
}

// The share of retries rejected matches the formula. The counts are large,
// so that the rejections the test adds (each one a request) move the rate
// only from 0.5 to about 0.506.
func TestThrottler_rejectsWithTheFormulasProbability(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := newThrottlerBudget(t, budget.ThrottlerConfig{})
		budget.SetRand(th, rand.New(rand.NewPCG(1, 2)).Float64)
		report(th, 300_000, 100_000)
		require.InDelta(t, 0.5, th.Snapshot().RejectRate, 0.001)

		const n = 10_000
		rejected := n - retries(th, n)
		assert.InDelta(t, 0.503, float64(rejected)/n, 0.02)
	})
}

func TestThrottler_healthyDependencyIsNeverThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := newThrottlerBudget(t, budget.ThrottlerConfig{})
		budget.SetRand(th, func() float64 { return 0 }) // would reject at any rate > 0
		report(th, 49, 51)
		assert.Equal(t, 100, retries(th, 100))
		call := budget.Throttle[int](th)(func(context.Context) (int, error) { return 1, nil })
		for range 100 {
			_, err := call(t.Context())
			require.NoError(t, err)
		}
		s := th.Snapshot()
		assert.Zero(t, s.RejectRate)
		assert.Equal(t, int64(100), s.Retries)
		assert.Equal(t, int64(100), s.Requests)
		assert.Zero(t, s.Denied)
	})
}

func TestThrottle_rejectedCallFailsAtOnceWithoutCallingNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := newThrottlerBudget(t, budget.ThrottlerConfig{})
		budget.SetRand(th, func() float64 { return 0 })
		report(th, 10, 0)
		calls := 0
		call := budget.Throttle[int](th)(func(context.Context) (int, error) { calls++; return 1, nil })
		v, err := call(t.Context())
		assert.Zero(t, v)
		assert.Zero(t, calls)
		require.ErrorIs(t, err, budget.ErrThrottled)
		assert.True(t, resilience.IsRejected(err))
		assert.Equal(t, resilience.OutcomeRejected, resilience.Classify(t.Context(), err))
		assert.False(t, retry.IsRetryable(err))
		assert.EqualError(t, err, "budget: throttled: the dependency has been rejecting requests")
		s := th.Snapshot()
		assert.Equal(t, int64(1), s.Requests)
		assert.Equal(t, int64(1), s.Denied)
		assert.InDelta(t, 11.0/12, s.RejectRate, 1e-12, "a rejection counts as a request that was not accepted")
	})
}

func TestThrottle_learnsFromOutcomes(t *testing.T) {
	errNotFound, errUnavailable := statusErr(404), statusErr(503)
	tests := []struct {
		name     string
		err      error
		cancel   bool
		headroom float64 // K×accepts − requests after 5 accepts and 10 such calls
	}{
		{"success is an accept", nil, false, 15},
		{"a not-retryable error is an accept", errNotFound, false, 15},
		{"a retryable error is not", errUnavailable, false, 0},
		{"a plain error is not", errors.New("reset"), false, 0},
		{"a timeout is not", context.DeadlineExceeded, false, 0},
		{"a rejection inside is not", resilience.ErrNilFunc, false, 0},
		{"the caller's cancellation is not counted", context.Canceled, true, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				th := newThrottlerBudget(t, budget.ThrottlerConfig{})
				budget.SetRand(th, func() float64 { return 0.99 }) // rejects nothing here
				report(th, 0, 5)                                   // headroom 2×5 − 5
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tc.cancel {
					cancel()
				}
				call := budget.Throttle[int](th)(func(context.Context) (int, error) { return 7, tc.err })
				for range 10 {
					v, err := call(ctx)
					assert.Equal(t, 7, v)
					assert.Equal(t, tc.err, err, "results come back unchanged")
				}
				assert.Equal(t, tc.headroom, th.Snapshot().Headroom)
			})
		})
	}
}

func TestThrottler_forgetsAfterItsWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := newThrottlerBudget(t, budget.ThrottlerConfig{Window: 10 * time.Second})
		budget.SetRand(th, func() float64 { return 0.5 })
		report(th, 100, 0)
		assert.Zero(t, retries(th, 10))

		time.Sleep(9 * time.Second)
		assert.InDelta(t, 110.0/111, th.Snapshot().RejectRate, 1e-12)

		time.Sleep(2 * time.Second)
		assert.Zero(t, th.Snapshot().RejectRate)
		assert.Equal(t, 10, retries(th, 10))
	})
}

// As a retry budget, the throttler lets the retries of a transient fault
// through and stops those of an outage.
func TestThrottler_asRetryBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := newThrottlerBudget(t, budget.ThrottlerConfig{})
		cfg := retry.Config{MaxAttempts: 4, BaseDelay: time.Millisecond, Budget: th}
		failures := 0
		call := retry.Retry[int](cfg)(func(context.Context) (int, error) {
			failures++
			return 0, statusErr(503)
		})
		for range 100 {
			_, err := call(t.Context())
			require.Error(t, err)
		}
		assert.Less(t, failures, 110, "an outage gets few retries")
		s := th.Snapshot()
		assert.Equal(t, int64(100), s.Requests)
		assert.Equal(t, int64(failures-100), s.Retries)
	})
}

// Inside Retry, Throttle throttles every attempt: a throttled retry ends
// the call with ErrThrottled, which is not retried.
func TestThrottle_insideRetryThrottlesEachAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := newThrottlerBudget(t, budget.ThrottlerConfig{})
		draws := []float64{0.99, 0} // admit the first attempt, reject the second
		budget.SetRand(th, func() float64 { d := draws[0]; draws = draws[1:]; return d })
		report(th, 10, 0) // a reject rate above 0, so that draws decide
		calls := 0
		call := resilience.Compose(
			retry.Retry[int](retry.Config{MaxAttempts: 4, BaseDelay: time.Millisecond}),
			budget.Throttle[int](th),
		)(func(context.Context) (int, error) { calls++; return 0, statusErr(503) })
		_, err := call(t.Context())
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, budget.ErrThrottled)
		assert.NotErrorAs(t, err, new(*retry.Error), "a rejection is returned as it is")
		s := th.Snapshot()
		assert.Equal(t, int64(2), s.Requests)
		assert.Equal(t, int64(1), s.Denied)
	})
}
