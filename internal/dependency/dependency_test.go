package dependency_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/internal/dependency"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/retry"
)

func TestFor_sharedWhenNothingIsPerKey(t *testing.T) {
	shared := budget.Unlimited()
	tb := dependency.New(dependency.Config[int]{Retry: &retry.Config{MaxAttempts: 2}, Budget: shared})
	a, err := tb.For("a")
	require.NoError(t, err)
	a.Release()
	b, err := tb.For("b")
	require.NoError(t, err)
	b.Release()
	assert.Same(t, a, b, "one set of parts for every key")
	assert.Equal(t, map[string]budget.Budget{"": shared}, tb.Budgets())
}

func TestFor_partsPerKey(t *testing.T) {
	tb := dependency.New(dependency.Config[int]{
		Breaker: &breaker.Settings{ConsecutiveFailures: 1},
		Retry:   &retry.Config{MaxAttempts: 3, BaseDelay: time.Microsecond},
	})
	a, err := tb.For("a")
	require.NoError(t, err)
	defer a.Release()
	b, err := tb.For("b")
	require.NoError(t, err)
	defer b.Release()
	require.NotSame(t, a, b)
	assert.Equal(t, "a", a.Breaker.Snapshot().Name, "the breaker is named after its key")
	assert.NotSame(t, a.Budget, b.Budget, "each key its own default budget")
	assert.Len(t, tb.Breakers(), 2)
	assert.Empty(t, tb.Hedgers())

	// The pipelines: with Retry, a failing call is tried again (the budget
	// allows it); without, once. The breaker then opens on its failure.
	boom := errors.New("boom")
	calls := 0
	fn := func(context.Context) (int, error) { calls++; return 0, boom } // retried by default
	_, err = a.Pipe(true)(fn)(context.Background())
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 3, calls, "with Retry")
	calls = 0
	_, err = b.Pipe(false)(fn)(context.Background())
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 1, calls, "without")
	assert.Equal(t, breaker.StateOpen, b.Breaker.State())
}

// TestFor_boundedAndKeepsOpenBreakers: past MaxKeys the least recently
// used idle key is forgotten, one with a closed breaker first; a key with
// a call in flight never is.
func TestFor_boundedAndKeepsOpenBreakers(t *testing.T) {
	tb := dependency.New(dependency.Config[int]{Breaker: &breaker.Settings{ConsecutiveFailures: 1}})
	busy, err := tb.For("busy") // never released: in flight throughout
	require.NoError(t, err)
	defer busy.Release()
	sick, err := tb.For("sick")
	require.NoError(t, err)
	tk, err := sick.Breaker.Allow()
	require.NoError(t, err)
	tk.Done(context.Background(), errors.New("down"))
	sick.Release()
	require.Equal(t, breaker.StateOpen, sick.Breaker.State())

	for i := range dependency.MaxKeys + 100 {
		p, err := tb.For(fmt.Sprintf("k%d", i))
		require.NoError(t, err)
		p.Release()
	}
	keys := tb.Breakers()
	assert.LessOrEqual(t, len(keys), dependency.MaxKeys)
	assert.Contains(t, keys, "busy", "in flight: never forgotten")
	assert.Contains(t, keys, "sick", "an open breaker is kept while closed ones can go")
	assert.Contains(t, keys, fmt.Sprintf("k%d", dependency.MaxKeys+99), "the newest is kept")
	assert.NotContains(t, keys, "k0", "the least recently used is forgotten")
}
