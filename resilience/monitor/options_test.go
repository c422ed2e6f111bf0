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

func TestNewMetrics_badOptions(t *testing.T) {
	rule := func(f func(*monitor.AlertRule)) monitor.Option {
		r := monitor.AlertRule{Threshold: 0.5}
		f(&r)
		return monitor.Alert(r)
	}
	tests := []struct {
		name string
		opt  monitor.Option
		want string
	}{
		{"nil Logger", monitor.Logger(nil), "monitor: Logger(l) is nil, want a *slog.Logger (slog.New(slog.DiscardHandler) silences)"},
		{"nil Option", nil, "monitor: opts[0] is nil, want an Option"},
		{"negative Window", rule(func(r *monitor.AlertRule) { r.Window = -time.Second }), "monitor: AlertRule.Window is -1s, want 0 (30s) or >= 1ms"},
		{"tiny Window", rule(func(r *monitor.AlertRule) { r.Window = time.Microsecond }), "monitor: AlertRule.Window is 1µs, want 0 (30s) or >= 1ms"},
		{"negative MinCalls", rule(func(r *monitor.AlertRule) { r.MinCalls = -1 }), "monitor: AlertRule.MinCalls is -1, want 0 (10) or > 0"},
		{"zero Threshold", rule(func(r *monitor.AlertRule) { r.Threshold = 0 }), "monitor: AlertRule.Threshold is 0, want > 0 and < 1"},
		{"negative Threshold", rule(func(r *monitor.AlertRule) { r.Threshold = -0.1 }), "monitor: AlertRule.Threshold is -0.1, want > 0 and < 1"},
		{"Threshold 1 never fires", rule(func(r *monitor.AlertRule) { r.Threshold = 1 }), "monitor: AlertRule.Threshold is 1, want > 0 and < 1"},
		{"Threshold as a percentage", rule(func(r *monitor.AlertRule) { r.Threshold = 20 }), "monitor: AlertRule.Threshold is 20, want > 0 and < 1"},
		{"NaN Threshold", rule(func(r *monitor.AlertRule) { r.Threshold = math.NaN() }), "monitor: AlertRule.Threshold is NaN, want > 0 and < 1"},
		{"negative Cooldown", rule(func(r *monitor.AlertRule) { r.Cooldown = -time.Minute }), "monitor: AlertRule.Cooldown is -1m0s, want 0 (Window) or > 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := monitor.NewMetrics(tc.opt)
			err := m.Err()
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
			assert.EqualError(t, err, tc.want)

			// The Metrics still records, and Monitor fails every call.
			m.Record(time.Millisecond, success)
			assert.Equal(t, int64(1), m.Snapshot().Total)
			_, callErr := monitor.Monitor[int](m)(nil)(t.Context())
			assert.Same(t, err, callErr)

			// New returns the same error instead of keeping it.
			nm, newErr := monitor.New(tc.opt)
			assert.Nil(t, nm)
			require.ErrorAs(t, newErr, &ce)
			assert.ErrorIs(t, newErr, resilience.ErrInvalidConfig)
			assert.EqualError(t, newErr, tc.want)
		})
	}
}

func TestNew_namesTheOption(t *testing.T) {
	m, err := monitor.New(monitor.Name("api"), nil, monitor.Logger(discard))
	assert.Nil(t, m)
	assert.EqualError(t, err, "monitor: opts[1] is nil, want an Option")
}

func TestNew_validOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m, err := monitor.New(
			monitor.Name("api"),
			monitor.Logger(discard),
			monitor.Alert(monitor.AlertRule{Window: window, MinCalls: 1, Threshold: 0.5, OnAlert: ev.add}),
		)
		require.NoError(t, err)
		require.NotNil(t, m)
		require.NoError(t, m.Err())

		// The options are applied: the rule fires, under the name given.
		_, _ = monitor.Monitor[int](m)(func(ctx context.Context) (int, error) {
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			<-ctx.Done()
			return 0, ctx.Err()
		})(context.Background())
		time.Sleep(tick)
		assert.Equal(t, int64(1), m.Snapshot().Timeouts)
		require.Len(t, ev.get(), 1)
		assert.True(t, ev.get()[0].Firing)
		assert.Equal(t, "api", ev.get()[0].Name)
	})
}

func TestNewMetrics_firstErrorWins(t *testing.T) {
	m := monitor.NewMetrics(
		monitor.Alert(monitor.AlertRule{Threshold: 2}),
		monitor.Logger(nil),
	)
	assert.EqualError(t, m.Err(), "monitor: AlertRule.Threshold is 2, want > 0 and < 1")
}

func TestNewMetrics_validOptions(t *testing.T) {
	m := monitor.NewMetrics(
		monitor.Name("api"),
		monitor.Logger(discard),
		monitor.Alert(monitor.AlertRule{Threshold: 0.1}),
		monitor.Alert(monitor.AlertRule{Window: time.Millisecond, MinCalls: 1, Threshold: 0.999, Cooldown: time.Nanosecond}),
	)
	require.NoError(t, m.Err())
	assert.NoError(t, monitor.Default.Err())
}
