package budget_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/budget"
)

func TestConfigs_validate(t *testing.T) {
	tests := []struct {
		name    string
		err     func() error
		new     func() error
		message string // "" when valid
	}{
		{"ratio zero", budget.RatioConfig{}.Validate, newRatio(budget.RatioConfig{}), ""},
		{"ratio at limits", budget.RatioConfig{Ratio: 10, MinPerSecond: 0.01, TTL: time.Minute}.Validate,
			newRatio(budget.RatioConfig{Ratio: 10, MinPerSecond: 0.01, TTL: time.Minute}), ""},
		{"ratio negative", budget.RatioConfig{Ratio: -0.1}.Validate, newRatio(budget.RatioConfig{Ratio: -0.1}),
			"budget: RatioConfig.Ratio is -0.1, want in (0, 10] (or 0 for 0.2)"},
		{"ratio NaN", budget.RatioConfig{Ratio: math.NaN()}.Validate, newRatio(budget.RatioConfig{Ratio: math.NaN()}),
			"budget: RatioConfig.Ratio is NaN, want in (0, 10] (or 0 for 0.2)"},
		{"ratio above 10", budget.RatioConfig{Ratio: 11}.Validate, newRatio(budget.RatioConfig{Ratio: 11}),
			"budget: RatioConfig.Ratio is 11, want in (0, 10] (or 0 for 0.2)"},
		{"min per second negative", budget.RatioConfig{MinPerSecond: -1}.Validate, newRatio(budget.RatioConfig{MinPerSecond: -1}),
			"budget: RatioConfig.MinPerSecond is -1, want > 0 and finite (or 0 for 10)"},
		{"min per second infinite", budget.RatioConfig{MinPerSecond: math.Inf(1)}.Validate, newRatio(budget.RatioConfig{MinPerSecond: math.Inf(1)}),
			"budget: RatioConfig.MinPerSecond is +Inf, want > 0 and finite (or 0 for 10)"},
		{"ttl in nanoseconds", budget.RatioConfig{TTL: 10}.Validate, newRatio(budget.RatioConfig{TTL: 10}),
			"budget: RatioConfig.TTL is 10ns, want between 1s and 1m0s (or 0 for 10s)"},
		{"ttl above a minute", budget.RatioConfig{TTL: time.Hour}.Validate, newRatio(budget.RatioConfig{TTL: time.Hour}),
			"budget: RatioConfig.TTL is 1h0m0s, want between 1s and 1m0s (or 0 for 10s)"},

		{"adaptive zero", budget.AdaptiveConfig{}.Validate, newAdaptive(budget.AdaptiveConfig{}), ""},
		{"adaptive at limits", budget.AdaptiveConfig{Capacity: 1, Ratio: 0.001}.Validate, newAdaptive(budget.AdaptiveConfig{Capacity: 1, Ratio: 0.001}), ""},
		{"capacity negative", budget.AdaptiveConfig{Capacity: -1}.Validate, newAdaptive(budget.AdaptiveConfig{Capacity: -1}),
			"budget: AdaptiveConfig.Capacity is -1, want in [1, 1000000] (or 0 for 100)"},
		{"capacity too large", budget.AdaptiveConfig{Capacity: 1_000_001}.Validate, newAdaptive(budget.AdaptiveConfig{Capacity: 1_000_001}),
			"budget: AdaptiveConfig.Capacity is 1000001, want in [1, 1000000] (or 0 for 100)"},
		{"adaptive ratio too small", budget.AdaptiveConfig{Ratio: 0.0001}.Validate, newAdaptive(budget.AdaptiveConfig{Ratio: 0.0001}),
			"budget: AdaptiveConfig.Ratio is 0.0001, want in [0.001, 10] (or 0 for 0.1)"},
		{"adaptive ratio NaN", budget.AdaptiveConfig{Ratio: math.NaN()}.Validate, newAdaptive(budget.AdaptiveConfig{Ratio: math.NaN()}),
			"budget: AdaptiveConfig.Ratio is NaN, want in [0.001, 10] (or 0 for 0.1)"},

		{"throttler zero", budget.ThrottlerConfig{}.Validate, newThrottler(budget.ThrottlerConfig{}), ""},
		{"throttler at limits", budget.ThrottlerConfig{K: 1, Window: time.Second}.Validate, newThrottler(budget.ThrottlerConfig{K: 1, Window: time.Second}), ""},
		{"K below 1", budget.ThrottlerConfig{K: 0.5}.Validate, newThrottler(budget.ThrottlerConfig{K: 0.5}),
			"budget: ThrottlerConfig.K is 0.5, want in [1, 100] (or 0 for 2)"},
		{"K NaN", budget.ThrottlerConfig{K: math.NaN()}.Validate, newThrottler(budget.ThrottlerConfig{K: math.NaN()}),
			"budget: ThrottlerConfig.K is NaN, want in [1, 100] (or 0 for 2)"},
		{"window negative", budget.ThrottlerConfig{Window: -time.Second}.Validate, newThrottler(budget.ThrottlerConfig{Window: -time.Second}),
			"budget: ThrottlerConfig.Window is -1s, want between 1s and 1h0m0s (or 0 for 2m)"},
		{"window too long", budget.ThrottlerConfig{Window: 2 * time.Hour}.Validate, newThrottler(budget.ThrottlerConfig{Window: 2 * time.Hour}),
			"budget: ThrottlerConfig.Window is 2h0m0s, want between 1s and 1h0m0s (or 0 for 2m)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err, newErr := tc.err(), tc.new()
			if tc.message == "" {
				assert.NoError(t, err)
				assert.NoError(t, newErr)
				return
			}
			require.Error(t, err)
			assert.EqualError(t, err, tc.message)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
			var ce *resilience.ConfigError
			assert.ErrorAs(t, err, &ce)
			assert.EqualError(t, newErr, tc.message, "the constructor returns Validate's error")
		})
	}
}

func newRatio(c budget.RatioConfig) func() error {
	return func() error {
		b, err := budget.NewRatio(c)
		if err == nil && b == nil {
			panic("nil budget without error")
		}
		return err
	}
}

func newAdaptive(c budget.AdaptiveConfig) func() error {
	return func() error { _, err := budget.NewAdaptive(c); return err }
}

func newThrottler(c budget.ThrottlerConfig) func() error {
	return func() error { _, err := budget.NewThrottler(c); return err }
}

func TestThrottle_nilThrottlerPanicsWhenBuilt(t *testing.T) {
	defer func() {
		err, ok := recover().(error)
		require.True(t, ok)
		assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
		assert.EqualError(t, err, "budget: Throttle(t) is nil, want a Throttler from NewThrottler")
	}()
	budget.Throttle[int](nil)
}
