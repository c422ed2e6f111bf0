package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/breaker"
)

func TestAllow_doneCountsAndRejectionsAreOpenErrors(t *testing.T) {
	cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 2, OpenTimeout: time.Hour})
	defer cb.Reset()
	ctx := t.Context()

	tk, err := cb.Allow()
	require.NoError(t, err)
	tk.Done(ctx, nil)
	tk, err = cb.Allow()
	require.NoError(t, err)
	tk.Done(ctx, errDown)
	assert.Equal(t, breaker.Counts{Calls: 2, Successes: 1, Failures: 1, ConsecutiveFailures: 1, FailureRate: 0.5}, cb.Snapshot().Counts)

	tk, err = cb.Allow()
	require.NoError(t, err)
	tk.Done(ctx, errDown)
	require.Equal(t, breaker.StateOpen, cb.State())

	tk, err = cb.Allow()
	require.ErrorIs(t, err, breaker.ErrOpen)
	var oe *breaker.OpenError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, breaker.StateOpen, oe.State)
	assert.Equal(t, uint64(1), cb.Snapshot().Rejected)
	assert.Equal(t, breaker.Ticket{}, tk)
	tk.Done(ctx, nil) // the zero Ticket's Done does nothing
	assert.Equal(t, breaker.StateOpen, cb.State())
}

// Done classifies with the caller's ctx, and SlowCallDuration is measured
// from Allow to Done: a call that ends when a response body does is
// counted then.
func TestTicket_doneClassifiesTheCallAsItEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 100, SlowCallDuration: time.Second})

		tk, err := cb.Allow()
		require.NoError(t, err)
		time.Sleep(time.Second) // e.g. reading the body
		tk.Done(t.Context(), nil)

		tk, err = cb.Allow()
		require.NoError(t, err)
		tk.Done(t.Context(), errTimedOut)

		ctx, cancel := context.WithCancel(t.Context())
		tk, err = cb.Allow()
		require.NoError(t, err)
		cancel()
		tk.Done(ctx, ctx.Err())

		assert.Equal(t, breaker.Counts{
			Calls: 2, Successes: 1, SlowCalls: 1, Timeouts: 1, Excluded: 1,
			ConsecutiveFailures: 1, FailureRate: 0.5, TimeoutRate: 0.5, SlowCallRate: 0.5,
		}, cb.Snapshot().Counts)
	})
}

func TestTicket_outcomeAfterAChangeIsNotCounted(t *testing.T) {
	cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1})
	tk, err := cb.Allow()
	require.NoError(t, err)
	cb.Reset()
	tk.Done(t.Context(), errDown)
	assert.Equal(t, breaker.StateClosed, cb.State())
	assert.Equal(t, breaker.Counts{}, cb.Snapshot().Counts)
}

func TestTicket_halfOpenProbeHoldsItsSlotUntilDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		tk, _ := cb.Allow()
		tk.Done(t.Context(), errDown)
		time.Sleep(1100 * time.Millisecond)
		require.Equal(t, breaker.StateHalfOpen, cb.State())

		probe, err := cb.Allow()
		require.NoError(t, err)
		_, err = cb.Allow()
		var oe *breaker.OpenError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, breaker.StateHalfOpen, oe.State)

		probe.Done(t.Context(), nil)
		assert.Equal(t, breaker.StateClosed, cb.State())
	})
}
