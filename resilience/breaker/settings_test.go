package breaker_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

func TestNew_invalidSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings breaker.Settings
		field    string
		msg      string
	}{
		{"negative FailureRate", breaker.Settings{FailureRate: -0.1}, "Settings.FailureRate",
			"breaker: Settings.FailureRate is -0.1, want 0 (off) or in (0, 1]"},
		{"FailureRate above 1", breaker.Settings{FailureRate: 1.5}, "Settings.FailureRate",
			"breaker: Settings.FailureRate is 1.5, want 0 (off) or in (0, 1]"},
		{"FailureRate NaN", breaker.Settings{FailureRate: math.NaN()}, "Settings.FailureRate", ""},
		{"TimeoutRate above 1 (a percentage?)", breaker.Settings{TimeoutRate: 50}, "Settings.TimeoutRate",
			"breaker: Settings.TimeoutRate is 50, want 0 (off) or in (0, 1]"},
		{"negative TimeoutRate", breaker.Settings{TimeoutRate: -1}, "Settings.TimeoutRate", ""},
		{"SlowCallRate above 1", breaker.Settings{SlowCallRate: 2, SlowCallDuration: time.Second}, "Settings.SlowCallRate", ""},
		{"SlowCallRate infinite", breaker.Settings{SlowCallRate: math.Inf(1), SlowCallDuration: time.Second}, "Settings.SlowCallRate", ""},
		{"SlowCallRate without SlowCallDuration", breaker.Settings{SlowCallRate: 0.5}, "Settings.SlowCallDuration",
			"breaker: Settings.SlowCallDuration is 0s, want > 0 when SlowCallRate is set"},
		{"negative SlowCallDuration", breaker.Settings{SlowCallDuration: -time.Second}, "Settings.SlowCallDuration",
			"breaker: Settings.SlowCallDuration is -1s, want 0 (off) or > 0"},
		{"negative Window", breaker.Settings{Window: -time.Minute}, "Settings.Window",
			"breaker: Settings.Window is -1m0s, want 0 (default 60s) or >= 10ms"},
		{"Window in the wrong unit", breaker.Settings{Window: 60}, "Settings.Window",
			"breaker: Settings.Window is 60ns, want 0 (default 60s) or >= 10ms"},
		{"negative OpenTimeout", breaker.Settings{OpenTimeout: -time.Second}, "Settings.OpenTimeout",
			"breaker: Settings.OpenTimeout is -1s, want 0 (default 30s) or >= 1ms"},
		{"OpenTimeout in the wrong unit", breaker.Settings{OpenTimeout: 30}, "Settings.OpenTimeout", ""},
		{"OpenTimeout at the int64 limit", breaker.Settings{OpenTimeout: math.MaxInt64}, "Settings.OpenTimeout",
			"breaker: Settings.OpenTimeout is 2562047h47m16.854775807s, want <= 8760h0m0s (365 days)"},
		{"negative SyncInterval", breaker.Settings{SyncInterval: -time.Second}, "Settings.SyncInterval",
			"breaker: Settings.SyncInterval is -1s, want 0 (default 500ms) or >= 10ms"},
		{"SyncInterval in the wrong unit", breaker.Settings{SyncInterval: 500}, "Settings.SyncInterval", ""},
		{"OpenTimeout just above 365 days", breaker.Settings{OpenTimeout: 365*24*time.Hour + 1}, "Settings.OpenTimeout", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cb, err := breaker.New(tc.settings)
			assert.Nil(t, cb)
			require.ErrorIs(t, err, resilience.ErrInvalidConfig)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "breaker", ce.Pkg)
			assert.Equal(t, tc.field, ce.Field)
			if tc.msg != "" {
				assert.EqualError(t, err, tc.msg)
			}
			assert.EqualError(t, tc.settings.Validate(), err.Error(), "New returns what Validate finds")
		})
	}
}

func TestNew_validSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings breaker.Settings
	}{
		{"zero", breaker.Settings{}},
		{"every rule", breaker.Settings{
			Name: "payments", ConsecutiveFailures: 5, FailureRate: 0.5, TimeoutRate: 0.2,
			SlowCallRate: 1, SlowCallDuration: time.Second, MinRequests: 1,
			Window: 10 * time.Millisecond, OpenTimeout: time.Millisecond, HalfOpenRequests: 10,
		}},
		{"SlowCallDuration alone", breaker.Settings{SlowCallDuration: time.Second}},
		{"rates at 1", breaker.Settings{FailureRate: 1, TimeoutRate: 1}},
		{"tiny rate", breaker.Settings{TimeoutRate: math.SmallestNonzeroFloat64}},
		{"OpenTimeout of 365 days", breaker.Settings{OpenTimeout: 365 * 24 * time.Hour}},
		{"huge Window", breaker.Settings{Window: math.MaxInt64}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cb, err := breaker.New(tc.settings)
			require.NoError(t, err)
			require.NoError(t, tc.settings.Validate())
			assert.Equal(t, breaker.StateClosed, cb.State())
			assert.Equal(t, tc.settings.Name, cb.Name())
		})
	}
}

// The longest OpenTimeout accepted (365 days; longer ones are refused, see
// TestNew_invalidSettings) opens the breaker for that long, plus jitter.
func TestSettings_longestOpenTimeoutOpensForThatLong(t *testing.T) {
	const longest = 365 * 24 * time.Hour
	cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: longest})
	defer cb.Reset() // stops the open period's timer
	start := time.Now()
	_, _ = breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 0, errDown })(t.Context())
	require.Equal(t, breaker.StateOpen, cb.State())
	next := cb.Snapshot().NextProbe
	assert.True(t, next.After(start.Add(longest)), "next probe %v, want after %v", next, start.Add(longest))
	assert.True(t, next.Before(time.Now().Add(longest+longest/10)), "next probe %v", next)
}
