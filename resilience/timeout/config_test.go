package timeout_test

import (
	"context"
	"expvar"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/timeout"
)

// TestConfigErrors_panicWhenBuilt pins the fields in the call-site form a
// reader finds in their code ("WithTimeout(d)", "Track(g)", "opts[1]") and
// the messages of the panics that bad configuration raises when the policy
// is made, before any call.
func TestConfigErrors_panicWhenBuilt(t *testing.T) {
	future := time.Now().Add(time.Hour)
	var nilGauge *gauge
	tests := []struct {
		name    string
		build   func()
		field   string
		message string
	}{
		{"zero duration", func() { timeout.WithTimeout[int](0) },
			"WithTimeout(d)", "timeout: WithTimeout(d) is 0s, want > 0"},
		{"negative duration", func() { timeout.WithTimeout[int](-time.Second) },
			"WithTimeout(d)", "timeout: WithTimeout(d) is -1s, want > 0"},
		{"negative duration wins over a bad option", func() { timeout.WithTimeout[int](-time.Second, nil) },
			"WithTimeout(d)", "timeout: WithTimeout(d) is -1s, want > 0"},
		{"zero deadline", func() { timeout.WithDeadline[int](time.Time{}) },
			"WithDeadline(deadline)", "timeout: WithDeadline(deadline) is the zero time, want a time"},
		{"Track nil", func() { timeout.Track(nil) },
			"Track(g)", "timeout: Track(g) is nil, want a non-nil Gauge"},
		{"Track typed nil", func() { timeout.Track(nilGauge) },
			"Track(g)", "timeout: Track(g) is nil, want a non-nil Gauge"},
		{"nil Option", func() { timeout.WithTimeout[int](time.Second, timeout.Abandon(), nil) },
			"opts[1]", "timeout: opts[1] is nil, want an Option"},
		{"nil Option, deadline", func() { timeout.WithDeadline[int](future, nil) },
			"opts[0]", "timeout: opts[0] is nil, want an Option"},
		{"NewLimit zero", func() { timeout.NewLimit(0) },
			"NewLimit(d)", "timeout: NewLimit(d) is 0s, want > 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := panicValue(tc.build)
			err, ok := v.(error)
			require.True(t, ok, "panics with an error, got %v", v)
			require.ErrorIs(t, err, resilience.ErrInvalidConfig)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "timeout", ce.Pkg)
			assert.Equal(t, tc.field, ce.Field)
			assert.EqualError(t, err, tc.message)
		})
	}
}

func TestPolicy_nilNextPanicsWhenApplied(t *testing.T) {
	assert.Equal(t, resilience.ErrNilFunc, panicValue(func() { timeout.WithTimeout[int](time.Second)(nil) }))
	assert.Equal(t, resilience.ErrNilFunc, panicValue(func() {
		timeout.WithDeadline[int](time.Now(), timeout.Abandon())(nil)
	}))
}

// panicValue returns what f panicked with, or nil.
func panicValue(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
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
		{"Track alone", []timeout.Option{timeout.Track(new(expvar.Int))}},
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
