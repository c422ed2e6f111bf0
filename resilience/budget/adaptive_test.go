package budget_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/budget"
)

func newAdaptiveBudget(t *testing.T, c budget.AdaptiveConfig) *budget.Adaptive {
	t.Helper()
	b, err := budget.NewAdaptive(c)
	require.NoError(t, err)
	return b
}

// retries asks b for n retries and returns how many it allowed.
func retries(b budget.Budget, n int) int {
	allowed := 0
	for range n {
		if b.Retry() {
			allowed++
		}
	}
	return allowed
}

func TestAdaptive_startsFullAndEachRetryTakesAToken(t *testing.T) {
	b := newAdaptiveBudget(t, budget.AdaptiveConfig{Capacity: 3})
	assert.Equal(t, 3.0, b.Snapshot().Headroom)
	assert.Equal(t, 3, retries(b, 5))
	assert.Equal(t, budget.Stats{Retries: 3, Denied: 2}, b.Snapshot())
}

func TestAdaptive_defaultCapacityIs100(t *testing.T) {
	b := newAdaptiveBudget(t, budget.AdaptiveConfig{})
	assert.Equal(t, 100, retries(b, 1000))
}

func TestAdaptive_successfulRetryPaysBackItsTokenAndOneMore(t *testing.T) {
	b := newAdaptiveBudget(t, budget.AdaptiveConfig{Capacity: 3})
	require.Equal(t, 3, retries(b, 3))
	b.Done(true, true)
	assert.Equal(t, 2.0, b.Snapshot().Headroom)
	assert.Equal(t, 2, retries(b, 5))
	assert.Equal(t, int64(1), b.Snapshot().Succeeded)
}

func TestAdaptive_failedAttemptsChangeNothing(t *testing.T) {
	b := newAdaptiveBudget(t, budget.AdaptiveConfig{Capacity: 3})
	require.Equal(t, 2, retries(b, 2))
	for range 10 {
		b.Done(true, false)
		b.Done(false, false)
	}
	assert.Equal(t, 1.0, b.Snapshot().Headroom, "a failed retry keeps its token; a failed first attempt costs nothing")
}

func TestAdaptive_successfulCallsEarnRatio(t *testing.T) {
	b := newAdaptiveBudget(t, budget.AdaptiveConfig{Capacity: 1, Ratio: 0.25})
	require.Equal(t, 1, retries(b, 1))
	for range 3 {
		b.Done(false, true)
	}
	assert.Equal(t, 0.75, b.Snapshot().Headroom)
	assert.False(t, b.Retry(), "a retry needs a whole token")
	b.Done(false, true)
	assert.True(t, b.Retry())
}

func TestAdaptive_neverHoldsMoreThanCapacity(t *testing.T) {
	b := newAdaptiveBudget(t, budget.AdaptiveConfig{Capacity: 2})
	for range 100 {
		b.Done(true, true)
		b.Done(false, true)
	}
	assert.Equal(t, 2.0, b.Snapshot().Headroom)
	assert.Equal(t, 2, retries(b, 10))
}

func TestAdaptive_requestsAreCounted(t *testing.T) {
	b := newAdaptiveBudget(t, budget.AdaptiveConfig{})
	for range 7 {
		b.Request()
	}
	assert.Equal(t, int64(7), b.Snapshot().Requests)
	assert.Equal(t, 100.0, b.Snapshot().Headroom, "a request alone earns nothing")
}

// Retries that succeed at least half the time keep the budget from
// draining however many there are; retries that mostly fail drain it.
func TestAdaptive_halfOfRetriesSucceedingBreaksEven(t *testing.T) {
	b := newAdaptiveBudget(t, budget.AdaptiveConfig{Capacity: 10})
	for i := range 10_000 {
		require.True(t, b.Retry(), "retry %d", i)
		b.Done(true, i%2 == 0)
	}
	assert.GreaterOrEqual(t, b.Snapshot().Headroom, 9.0)

	allowed := 0
	for i := range 10_000 {
		if b.Retry() {
			allowed++
			b.Done(true, i%3 == 0) // a third succeed
		}
	}
	assert.Less(t, allowed, 40, "each success pays for one failure only: the bucket drains")
}
