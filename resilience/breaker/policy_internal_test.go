package breaker

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A call that the gate sent to gobreaker as a probe, but that gobreaker
// admits after another probe closed it, is an ordinary closed-state call:
// counted in the window like any other, and a failure (a panic included)
// trips the breaker when a rule fires. The race is too narrow to provoke
// from outside, so the test hands callProbe the half-open phase that the
// gate saw before the breaker closed.
func TestCallProbe_gobreakerClosedSinceTheGateLooked(t *testing.T) {
	errDown := errors.New("down")
	tests := []struct {
		name   string
		next   func(context.Context) (int, error)
		counts Counts // after one such call
		trips  bool   // whether a second one trips the breaker
	}{
		{"success", func(context.Context) (int, error) { return 1, nil },
			Counts{Calls: 1, Successes: 1}, false},
		{"failure", func(context.Context) (int, error) { return 0, errDown },
			Counts{Calls: 1, Failures: 1, ConsecutiveFailures: 1, FailureRate: 1}, true},
		{"panic", func(context.Context) (int, error) { panic("boom") },
			Counts{Calls: 1, Failures: 1, ConsecutiveFailures: 1, FailureRate: 1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cb, err := New(Settings{ConsecutiveFailures: 2, OpenTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
				require.NoError(t, err)
				fail := Breaker[int](cb)(func(context.Context) (int, error) { return 0, errDown })
				ok := Breaker[int](cb)(func(context.Context) (int, error) { return 1, nil })
				_, _ = fail(t.Context())
				_, _ = fail(t.Context())
				require.Equal(t, StateOpen, cb.State())
				time.Sleep(1100 * time.Millisecond)
				require.Equal(t, StateHalfOpen, cb.State())
				seen := cb.cur.Load() // what the gate saw
				_, err = ok(t.Context())
				require.NoError(t, err)
				require.Equal(t, StateClosed, cb.State())

				call := func() {
					defer func() { _ = recover() }()
					_, _ = callProbe(cb, seen, t.Context(), tc.next)
				}
				call()
				assert.Equal(t, StateClosed, cb.State())
				assert.Equal(t, tc.counts, cb.Snapshot().Counts)
				call()
				if tc.trips {
					assert.Equal(t, StateOpen, cb.State(), "ConsecutiveFailures 2")
					assert.Equal(t, uint64(2), cb.Snapshot().Transitions.Trips)
				} else {
					assert.Equal(t, StateClosed, cb.State())
				}
				cb.Reset()
			})
		})
	}
}
