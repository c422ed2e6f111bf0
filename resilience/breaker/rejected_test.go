package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/timeout"
)

func TestOpenError_isRejected(t *testing.T) {
	var err error = fmt.Errorf("charge: %w", &breaker.OpenError{State: breaker.StateOpen})
	var r interface{ Rejected() bool }
	require.ErrorAs(t, err, &r)
	assert.True(t, r.Rejected())
	assert.True(t, resilience.IsRejected(err))
	assert.Equal(t, resilience.OutcomeRejected, resilience.Classify(t.Context(), err))
}

// A deadline that had already passed is refused by the timeout policy
// without calling the dependency: that is no failure of the dependency, and
// the breaker must not open on it.
func TestBreaker_pastDeadlineIsNotAFailure(t *testing.T) {
	cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 3})
	calls := 0
	call := resilience.Compose(
		breaker.Breaker[int](cb),
		timeout.WithDeadline[int](time.Now().Add(-time.Second)),
	)(func(context.Context) (int, error) { calls++; return 1, nil })

	for range 3 {
		_, err := call(t.Context())
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		require.True(t, te.Rejected())
	}
	assert.Zero(t, calls, "fn is never called")
	assert.Equal(t, breaker.StateClosed, cb.State())
	counts := cb.Snapshot().Counts
	assert.Zero(t, counts.Failures)
	assert.Zero(t, counts.Timeouts)
	assert.Zero(t, counts.ConsecutiveFailures)
	assert.Zero(t, counts.Calls)
	assert.Equal(t, uint64(3), counts.Excluded)
}

// The rejection of a breaker nested inside another is no failure of the
// dependency either.
func TestBreaker_nestedRejectionIsNotAFailure(t *testing.T) {
	outer := newBreaker(t, breaker.Settings{Name: "outer", ConsecutiveFailures: 1})
	inner := newBreaker(t, breaker.Settings{Name: "inner"})
	inner.Isolate()
	calls := 0
	call := resilience.Compose(
		breaker.Breaker[int](outer),
		breaker.Breaker[int](inner),
	)(func(context.Context) (int, error) { calls++; return 1, nil })

	for range 3 {
		_, err := call(t.Context())
		var oe *breaker.OpenError
		require.ErrorAs(t, err, &oe)
		require.Equal(t, "inner", oe.Name)
	}
	assert.Zero(t, calls)
	assert.Equal(t, breaker.StateClosed, outer.State())
	assert.Equal(t, uint64(3), outer.Snapshot().Counts.Excluded)
	assert.Zero(t, outer.Snapshot().Rejected, "the outer breaker rejected nothing itself")
	assert.Equal(t, uint64(3), inner.Snapshot().Rejected)

	// A real failure still counts.
	inner.Reset()
	_, err := breaker.Breaker[int](outer)(func(context.Context) (int, error) { return 0, errDown })(t.Context())
	require.ErrorIs(t, err, errDown)
	assert.Equal(t, breaker.StateOpen, outer.State())
	outer.Reset()
}

// A probe that a policy inside refuses is neither a good nor a bad probe:
// the breaker stays half-open and the slot is free for a real probe.
func TestHalfOpen_rejectedProbeFreesItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		inner := newBreaker(t, breaker.Settings{Name: "inner"})
		fail := errors.New("down")
		var next error = fail
		call := resilience.Compose(
			breaker.Breaker[int](cb),
			breaker.Breaker[int](inner),
		)(func(context.Context) (int, error) { return 1, next })

		_, _ = call(t.Context())
		require.Equal(t, breaker.StateOpen, cb.State())
		time.Sleep(1100 * time.Millisecond)
		require.Equal(t, breaker.StateHalfOpen, cb.State())

		inner.Isolate()
		_, err := call(t.Context())
		require.ErrorIs(t, err, breaker.ErrOpen)
		require.Equal(t, breaker.StateHalfOpen, cb.State(), "the rejected probe did not reopen the breaker")

		inner.Reset()
		next = nil
		_, err = call(t.Context())
		require.NoError(t, err)
		assert.Equal(t, breaker.StateClosed, cb.State())
	})
}
