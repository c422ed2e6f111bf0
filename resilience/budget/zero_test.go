package budget_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/budget"
)

// The zero value of each budget is the budget of its zero config.
func TestBudgets_zeroValueIsTheDefault(t *testing.T) {
	t.Run("adaptive", func(t *testing.T) {
		var b budget.Adaptive
		assert.Equal(t, 100.0, b.Snapshot().Headroom)
		assert.Equal(t, 100, retries(&b, 200))
	})
	t.Run("ratio", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var b budget.Ratio
			b.Request()
			assert.InDelta(t, 100.2, b.Snapshot().Headroom, 1e-9)
			assert.Equal(t, 100, retries(&b, 200))
		})
	})
	t.Run("throttler", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var th budget.Throttler
			call := budget.Throttle[int](&th)(func(context.Context) (int, error) { return 1, nil })
			_, err := call(t.Context())
			require.NoError(t, err)
			report(&th, 10, 0)
			assert.InDelta(t, (11-2)/12.0, th.Snapshot().RejectRate, 1e-12)
		})
	})
}

func TestUnlimited_allowsEveryRetryAndCounts(t *testing.T) {
	b := budget.Unlimited()
	for range 1000 {
		b.Request()
		if !b.Retry() {
			t.Fatal("Unlimited denied a retry")
		}
		b.Done(true, false)
	}
	b.Done(true, true)
	s := b.Snapshot()
	if s.Requests != 1000 || s.Retries != 1000 || s.Denied != 0 || s.Succeeded != 1 || !math.IsInf(s.Headroom, 1) {
		t.Errorf("Snapshot = %+v", s)
	}
}
