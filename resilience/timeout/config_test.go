package timeout_test

import (
	"context"
	"expvar"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/timeout"
)

// TestConfigErrors pins the fields in the call-site form a reader finds in
// their code ("WithTimeout(d)", "Track(g)", "opts[1]") and the messages.
func TestConfigErrors(t *testing.T) {
	future := time.Now().Add(time.Hour)
	var nilGauge *gauge
	tests := []struct {
		name    string
		policy  resilience.Policy[int]
		field   string
		message string
	}{
		{"zero duration", timeout.WithTimeout[int](0),
			"WithTimeout(d)", "timeout: WithTimeout(d) is 0s, want > 0"},
		{"negative duration", timeout.WithTimeout[int](-time.Second),
			"WithTimeout(d)", "timeout: WithTimeout(d) is -1s, want > 0"},
		{"negative duration wins over a bad option", timeout.WithTimeout[int](-time.Second, nil),
			"WithTimeout(d)", "timeout: WithTimeout(d) is -1s, want > 0"},
		{"zero deadline", timeout.WithDeadline[int](time.Time{}),
			"WithDeadline(deadline)", "timeout: WithDeadline(deadline) is 0001-01-01 00:00:00 +0000 UTC, want a non-zero time.Time"},
		{"Track without Abandon", timeout.WithTimeout[int](time.Second, timeout.Track(new(gauge))),
			"Track(g)", "timeout: Track(g) is given without Abandon(), want Abandon() in the same options"},
		{"Track without Abandon, deadline", timeout.WithDeadline[int](future, timeout.Track(new(expvar.Int))),
			"Track(g)", "timeout: Track(g) is given without Abandon(), want Abandon() in the same options"},
		{"Track nil", timeout.WithTimeout[int](time.Second, timeout.Abandon(), timeout.Track(nil)),
			"Track(g)", "timeout: Track(g) is nil, want a non-nil Gauge"},
		{"Track typed nil", timeout.WithTimeout[int](time.Second, timeout.Abandon(), timeout.Track(nilGauge)),
			"Track(g)", "timeout: Track(g) is nil, want a non-nil Gauge"},
		{"nil Option", timeout.WithTimeout[int](time.Second, timeout.Abandon(), nil),
			"opts[1]", "timeout: opts[1] is nil, want an Option"},
		{"nil Option, deadline", timeout.WithDeadline[int](future, nil),
			"opts[0]", "timeout: opts[0] is nil, want an Option"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			call := tc.policy(func(context.Context) (int, error) { calls.Add(1); return 1, nil })
			for range 2 { // every call fails, not just the first
				v, err := call(t.Context())
				assert.Zero(t, v)
				require.ErrorIs(t, err, resilience.ErrInvalidConfig)
				var ce *resilience.ConfigError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "timeout", ce.Pkg)
				assert.Equal(t, tc.field, ce.Field)
				assert.EqualError(t, err, tc.message)
			}
			assert.Zero(t, calls.Load(), "fn must not be called with a bad configuration")
		})
	}
}

func TestConfig_validOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []timeout.Option
	}{
		{"none", nil},
		{"Abandon", []timeout.Option{timeout.Abandon()}},
		{"Abandon and Track", []timeout.Option{timeout.Abandon(), timeout.Track(new(gauge))}},
		{"Track before Abandon", []timeout.Option{timeout.Track(new(expvar.Int)), timeout.Abandon()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := timeout.WithTimeout[int](time.Hour, tc.opts...)(func(context.Context) (int, error) {
				return 1, nil
			})(t.Context())
			require.NoError(t, err)
			assert.Equal(t, 1, v)
		})
	}
}
