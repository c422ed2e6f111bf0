package budget_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/budget"
)

func newRatioBudget(t *testing.T, c budget.RatioConfig) *budget.Ratio {
	t.Helper()
	b, err := budget.NewRatio(c)
	require.NoError(t, err)
	return b
}

func TestRatio_floorAllowsMinPerSecondTimesTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newRatioBudget(t, budget.RatioConfig{MinPerSecond: 2, TTL: 5 * time.Second})
		assert.Equal(t, 10, retries(b, 50))
		s := b.Snapshot()
		assert.Equal(t, int64(10), s.Retries)
		assert.Equal(t, int64(40), s.Denied)
		assert.Zero(t, s.Headroom)
	})
}

func TestRatio_defaultsAreFinagles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newRatioBudget(t, budget.RatioConfig{})
		assert.Equal(t, 100.0, b.Snapshot().Headroom, "10/s over 10s")
		for range 1000 {
			b.Request()
		}
		assert.Equal(t, 300, retries(b, 1000), "100 + 20% of 1000")
	})
}

func TestRatio_eachCallAddsRatio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newRatioBudget(t, budget.RatioConfig{Ratio: 0.5, MinPerSecond: 0.01, TTL: 10 * time.Second})
		assert.Zero(t, retries(b, 5), "a floor under one retry is no floor")
		for range 10 {
			b.Request()
		}
		assert.Equal(t, 5, retries(b, 10))
		b.Request()
		b.Request()
		assert.Equal(t, 1, retries(b, 10))
		assert.Equal(t, int64(12), b.Snapshot().Requests)
	})
}

func TestRatio_depositsAndWithdrawalsExpireAfterTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newRatioBudget(t, budget.RatioConfig{Ratio: 1, MinPerSecond: 1, TTL: 10 * time.Second})
		for range 20 {
			b.Request()
		}
		require.Equal(t, 30, retries(b, 100))

		time.Sleep(5 * time.Second)
		assert.Zero(t, retries(b, 10), "half a TTL later, everything still counts")

		time.Sleep(6 * time.Second) // 11s: past the window's 10 to 11 ticks
		assert.Equal(t, 10, retries(b, 100), "only the floor is left: the calls expired with the retries")
	})
}

func TestRatio_ignoresOutcomesButCountsSuccessfulRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newRatioBudget(t, budget.RatioConfig{MinPerSecond: 1, TTL: time.Second})
		require.Equal(t, 1, retries(b, 5))
		b.Done(true, true)
		b.Done(false, true)
		b.Done(true, false)
		assert.Zero(t, retries(b, 5))
		assert.Equal(t, int64(1), b.Snapshot().Succeeded)
	})
}

// Many calls are recorded without a decision reading the clock; they still
// count when a retry is asked for later in the window.
func TestRatio_callsRecordedWithoutADecisionCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newRatioBudget(t, budget.RatioConfig{Ratio: 0.1, MinPerSecond: 0.01, TTL: 10 * time.Second})
		for range 10 {
			for range 100 {
				b.Request()
			}
			time.Sleep(500 * time.Millisecond)
		}
		assert.Equal(t, 100, retries(b, 1000))
	})
}
