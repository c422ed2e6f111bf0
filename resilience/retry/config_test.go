package retry_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/retry"
)

func TestDefaultConfig(t *testing.T) {
	cfg := retry.DefaultConfig()
	assert.Equal(t, 3, cfg.MaxAttempts)
	assert.Equal(t, 100*time.Millisecond, cfg.BaseDelay)
	assert.Equal(t, 30*time.Second, cfg.MaxDelay)
	assert.Equal(t, 2.0, cfg.Multiplier)
	assert.True(t, cfg.Jitter)
	assert.Zero(t, cfg.MaxRetryAfter, "0 follows MaxDelay")
	assert.Nil(t, cfg.ShouldRetry)
	assert.Nil(t, cfg.OnRetry)
	require.NoError(t, cfg.Validate())
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  retry.Config
		want string // "" = valid
	}{
		{"zero config", retry.Config{}, ""},
		{"default config", retry.DefaultConfig(), ""},
		{"one attempt", retry.Config{MaxAttempts: 1}, ""},
		{"multiplier 1", retry.Config{Multiplier: 1}, ""},
		{"max delay equals base delay", retry.Config{BaseDelay: time.Second, MaxDelay: time.Second}, ""},
		{"base delay above default max with explicit max", retry.Config{BaseDelay: time.Minute, MaxDelay: time.Hour}, ""},
		{"max retry after below base delay", retry.Config{MaxRetryAfter: time.Nanosecond}, ""},

		{"negative max attempts", retry.Config{MaxAttempts: -1},
			"retry: Config.MaxAttempts is -1, want >= 0"},
		{"negative base delay", retry.Config{BaseDelay: -time.Second},
			"retry: Config.BaseDelay is -1s, want >= 0"},
		{"negative max delay", retry.Config{MaxDelay: -time.Millisecond},
			"retry: Config.MaxDelay is -1ms, want >= 0"},
		{"max delay below base delay", retry.Config{BaseDelay: time.Second, MaxDelay: 500 * time.Millisecond},
			"retry: Config.MaxDelay is 500ms, want >= Config.BaseDelay (1s)"},
		{"max delay below default base delay", retry.Config{MaxDelay: time.Millisecond},
			"retry: Config.MaxDelay is 1ms, want >= Config.BaseDelay (100ms)"},
		{"default max delay below base delay", retry.Config{BaseDelay: time.Minute},
			"retry: Config.MaxDelay is 0 (default 30s), want >= Config.BaseDelay (1m0s)"},
		{"multiplier below 1", retry.Config{Multiplier: 0.5},
			"retry: Config.Multiplier is 0.5, want >= 1"},
		{"negative multiplier", retry.Config{Multiplier: -2},
			"retry: Config.Multiplier is -2, want >= 1"},
		{"NaN multiplier", retry.Config{Multiplier: math.NaN()},
			"retry: Config.Multiplier is NaN, want >= 1"},
		{"+Inf multiplier", retry.Config{Multiplier: math.Inf(1)},
			"retry: Config.Multiplier is +Inf, want finite, >= 1"},
		{"-Inf multiplier", retry.Config{Multiplier: math.Inf(-1)},
			"retry: Config.Multiplier is -Inf, want >= 1"},
		{"negative max retry after", retry.Config{MaxRetryAfter: -time.Second},
			"retry: Config.MaxRetryAfter is -1s, want >= 0"},
		{"first bad field is reported", retry.Config{MaxAttempts: -1, Multiplier: 0.5},
			"retry: Config.MaxAttempts is -1, want >= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.want)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "retry", ce.Pkg)

			// Retry panics with the same error when the policy is made.
			assert.PanicsWithError(t, tc.want, func() { retry.Retry[int](tc.cfg) })
		})
	}
}

// The zero Config means 3 attempts, 100ms doubling, no jitter.
func TestConfig_zeroValueDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		f := failing(10, boom)
		_, err := retry.Retry[int](retry.Config{})(f.call)(context.Background())
		require.ErrorIs(t, err, retry.ErrExhausted)
		assert.Equal(t, 3, f.calls)
		assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, f.gaps())
	})
}

// A zero MaxDelay is 30s; a zero MaxRetryAfter follows MaxDelay.
func TestConfig_defaultCaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := failing(3, &statusErr{code: 503, after: time.Hour})
		_, err := retry.Retry[int](retry.Config{MaxAttempts: 4, BaseDelay: 20 * time.Second})(f.call)(context.Background())
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{30 * time.Second, 30 * time.Second, 30 * time.Second}, f.gaps())

		f = failing(3, errors.New("boom"))
		_, err = retry.Retry[int](retry.Config{MaxAttempts: 4, BaseDelay: 20 * time.Second})(f.call)(context.Background())
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{20 * time.Second, 30 * time.Second, 30 * time.Second}, f.gaps())
	})
}

func TestConfig_nilBudgetPointer(t *testing.T) {
	var b *budget.Adaptive
	err := retry.Config{Budget: b}.Validate()
	require.ErrorIs(t, err, resilience.ErrInvalidConfig)
	assert.EqualError(t, err, "retry: Config.Budget is a nil *budget.Adaptive, want a budget from package budget, or nil")
	assert.PanicsWithError(t, err.Error(), func() { retry.Retry[int](retry.Config{Budget: b}) })
	assert.NoError(t, retry.Config{Budget: nil}.Validate())
}
