package monitor_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

func TestConfig_Validate_badFields(t *testing.T) {
	rule := func(f func(*monitor.AlertRule)) monitor.Config {
		r := monitor.AlertRule{Threshold: 0.5}
		f(&r)
		return monitor.Config{Alerts: []monitor.AlertRule{r}}
	}
	tests := []struct {
		name string
		cfg  monitor.Config
		want string
	}{
		{"negative Window", rule(func(r *monitor.AlertRule) { r.Window = -time.Second }), "monitor: Config.Alerts[0].Window is -1s, want 0 (30s) or >= 1ms"},
		{"tiny Window", rule(func(r *monitor.AlertRule) { r.Window = time.Microsecond }), "monitor: Config.Alerts[0].Window is 1µs, want 0 (30s) or >= 1ms"},
		{"negative MinCalls", rule(func(r *monitor.AlertRule) { r.MinCalls = -1 }), "monitor: Config.Alerts[0].MinCalls is -1, want 0 (10) or > 0"},
		{"zero Threshold", rule(func(r *monitor.AlertRule) { r.Threshold = 0 }), "monitor: Config.Alerts[0].Threshold is 0, want > 0 and < 1"},
		{"negative Threshold", rule(func(r *monitor.AlertRule) { r.Threshold = -0.1 }), "monitor: Config.Alerts[0].Threshold is -0.1, want > 0 and < 1"},
		{"Threshold 1 never fires", rule(func(r *monitor.AlertRule) { r.Threshold = 1 }), "monitor: Config.Alerts[0].Threshold is 1, want > 0 and < 1"},
		{"Threshold as a percentage", rule(func(r *monitor.AlertRule) { r.Threshold = 20 }), "monitor: Config.Alerts[0].Threshold is 20, want > 0 and < 1"},
		{"NaN Threshold", rule(func(r *monitor.AlertRule) { r.Threshold = math.NaN() }), "monitor: Config.Alerts[0].Threshold is NaN, want > 0 and < 1"},
		{"negative Cooldown", rule(func(r *monitor.AlertRule) { r.Cooldown = -time.Minute }), "monitor: Config.Alerts[0].Cooldown is -1m0s, want 0 (Window) or > 0"},
		{
			"the second rule",
			monitor.Config{Alerts: []monitor.AlertRule{{Threshold: 0.5}, {Threshold: 1.5}}},
			"monitor: Config.Alerts[1].Threshold is 1.5, want > 0 and < 1",
		},
		{
			"the first bad field wins",
			monitor.Config{Alerts: []monitor.AlertRule{{Threshold: 2, Cooldown: -1}, {Window: -1, Threshold: 0.5}}},
			"monitor: Config.Alerts[0].Threshold is 2, want > 0 and < 1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
			assert.EqualError(t, err, tc.want)

			m, newErr := monitor.NewMetrics(tc.cfg)
			assert.Nil(t, m)
			assert.EqualError(t, newErr, tc.want, "NewMetrics returns Validate's error")
		})
	}
}

func TestConfig_Validate_validConfigs(t *testing.T) {
	for _, cfg := range []monitor.Config{
		{},
		{Name: "api", Logger: discard},
		{Alerts: []monitor.AlertRule{
			{Threshold: 0.1},
			{Window: time.Millisecond, MinCalls: 1, Threshold: 0.999, Cooldown: time.Nanosecond},
		}},
	} {
		assert.NoError(t, cfg.Validate(), "%+v", cfg)
	}
}

func TestNewMetrics_appliesConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m, err := monitor.NewMetrics(monitor.Config{
			Name:   "api",
			Alerts: []monitor.AlertRule{{Window: window, MinCalls: 1, Threshold: 0.5, OnAlert: ev.add}},
		})
		require.NoError(t, err)
		require.NotNil(t, m)

		_, _ = monitor.Monitor[int](m)(func(ctx context.Context) (int, error) {
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			<-ctx.Done()
			return 0, ctx.Err()
		})(context.Background())
		time.Sleep(tick)
		assert.Equal(t, int64(1), m.Snapshot().Timeouts)
		require.Len(t, ev.get(), 1, "the rule fires")
		assert.True(t, ev.get()[0].Firing)
		assert.Equal(t, "api", ev.get()[0].Name, "under the Name given")
	})
}

func TestNewMetrics_copiesAlerts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		alerts := []monitor.AlertRule{{Window: window, MinCalls: 1, Threshold: 0.5, OnAlert: ev.add}}
		m := newMetrics(t, monitor.Config{Alerts: alerts})
		alerts[0].Threshold = 0.99 // changing the caller's slice later changes nothing
		record(m, 9, timedOut)
		record(m, 1, success)
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 1)
		assert.Equal(t, 0.5, ev.get()[0].Threshold)
	})
}
