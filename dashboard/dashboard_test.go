package dashboard_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/internal/testlog"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

func TestConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  dashboard.Config
		msg  string // "" for valid
	}{
		{"zero", dashboard.Config{}, ""},
		{"smallest tick", dashboard.Config{Tick: 10 * time.Millisecond, History: 10 * time.Millisecond}, ""},
		{"tick too short", dashboard.Config{Tick: time.Millisecond}, "dashboard: Config.Tick is 1ms, want 0 (1s) or >= 10ms"},
		{"negative tick", dashboard.Config{Tick: -time.Second}, "dashboard: Config.Tick is -1s, want 0 (1s) or >= 10ms"},
		{"negative history", dashboard.Config{History: -time.Second}, "dashboard: Config.History is -1s, want 0 (2m) or >= Tick"},
		{"history below tick", dashboard.Config{Tick: 2 * time.Second, History: time.Second}, "dashboard: Config.History is 1s, want 0 (2m) or >= Tick (2s)"},
		{"history below default tick", dashboard.Config{History: 500 * time.Millisecond}, "dashboard: Config.History is 500ms, want 0 (2m) or >= Tick (1s)"},
		{"too many points", dashboard.Config{Tick: 10 * time.Millisecond, History: time.Hour}, "dashboard: Config.History is 1h0m0s, want at most 10000 ticks of 10ms"},
		{"negative viewers", dashboard.Config{MaxViewers: -1}, "dashboard: Config.MaxViewers is -1, want 0 (32) or > 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			d, nerr := dashboard.New(tc.cfg)
			if tc.msg == "" {
				require.NoError(t, err)
				require.NoError(t, nerr)
				d.Close()
				return
			}
			require.EqualError(t, err, tc.msg)
			require.ErrorIs(t, err, resilience.ErrInvalidConfig)
			var ce *resilience.ConfigError
			require.ErrorAs(t, nerr, &ce)
			assert.Nil(t, d)
		})
	}
}

func TestRegister_errors(t *testing.T) {
	d, _ := manual(t, dashboard.Config{})
	m := &monitor.Metrics{}
	require.NoError(t, d.Register("a", dashboard.Parts{Metrics: m}))

	err := d.Register("a", dashboard.Parts{Metrics: m})
	require.ErrorIs(t, err, dashboard.ErrDuplicate)
	assert.EqualError(t, err, `dashboard: name already registered: "a"`)

	assert.EqualError(t, d.Register("", dashboard.Parts{Metrics: m}), "dashboard: Register with an empty name")
	assert.EqualError(t, d.Register("b", dashboard.Parts{}), `dashboard: Register "b" with no part set in Parts`)
	var nilBudget *budget.Ratio
	assert.Error(t, d.Register("b", dashboard.Parts{Budget: nilBudget}), "a nil pointer in Budget is no part")

	assert.True(t, d.Unregister("a"))
	assert.False(t, d.Unregister("a"))
	assert.False(t, d.Unregister("never"))
	require.NoError(t, d.Register("a", dashboard.Parts{Metrics: m}), "a name is free again once unregistered")
}

// TestFigures_perTick checks that the figures of a card are those of the
// calls of the last tick, not since the start, but for the total.
func TestFigures_perTick(t *testing.T) {
	d, clk := manual(t, dashboard.Config{})
	m := &monitor.Metrics{}
	require.NoError(t, d.Register("api", dashboard.Parts{Metrics: m}))

	// Registered with no calls: a card with zero figures at once.
	c := card(t, d.Snapshot(), "api")
	assert.Equal(t, int64(0), *c.Total)
	assert.Nil(t, c.Success)
	assert.Nil(t, c.P99)
	assert.Equal(t, "ok", c.Health)

	// Tick 1 (1s): 10 fast successes, 2 failures, timeouts of each cause.
	for range 10 {
		m.Record(10*time.Millisecond, resilience.OutcomeSuccess)
	}
	m.Record(10*time.Millisecond, resilience.OutcomeFailure)
	m.Record(10*time.Millisecond, resilience.OutcomeFailure)
	m.Record(time.Second, resilience.OutcomeTimeout)
	m.Record(time.Second, resilience.OutcomeDeadline)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(resilience.ErrPropagatedDeadline)
	m.RecordContext(ctx, time.Second, resilience.OutcomeDeadline)
	m.Record(0, resilience.OutcomeCanceled)
	clk.Add(time.Second)
	d.Step()
	s := d.Snapshot()
	assert.Equal(t, uint64(1), s.Seq)
	assert.Equal(t, clk.Now(), s.Time)
	c = card(t, s, "api")
	assert.Equal(t, int64(16), *c.Total)
	assert.InDelta(t, 16.0, *c.Rate, 1e-9)
	assert.InDelta(t, 10.0/15, *c.Success, 1e-9, "successes / (calls - canceled)")
	assert.InDelta(t, 3.0/15, *c.TimeoutRate, 1e-9)
	assert.Equal(t, dashboard.Timeouts{Total: 3, Limit: 1, Deadline: 1, Propagated: 1}, *c.Timeouts)
	assert.InDelta(t, 0.010, *c.P50, 0.001)
	assert.InDelta(t, 1.0, *c.P99, 0.07)
	assert.Equal(t, "bad", c.Health, "success below 90%")

	// Tick 2 (2s): 4 slow successes only. Per-tick figures forget tick 1.
	for range 4 {
		m.Record(200*time.Millisecond, resilience.OutcomeSuccess)
	}
	clk.Add(2 * time.Second)
	d.Step()
	c = card(t, d.Snapshot(), "api")
	assert.Equal(t, int64(20), *c.Total, "the total is cumulative")
	assert.InDelta(t, 2.0, *c.Rate, 1e-9)
	assert.InDelta(t, 1.0, *c.Success, 1e-9)
	assert.InDelta(t, 0.0, *c.TimeoutRate, 1e-9)
	assert.Equal(t, dashboard.Timeouts{}, *c.Timeouts)
	assert.InDelta(t, 0.200, *c.P50, 0.0125)
	assert.InDelta(t, 0.200, *c.P99, 0.0125)
	assert.Equal(t, "ok", c.Health)

	// Tick 3: no calls. No latency, no success ratio, a rate of 0.
	clk.Add(time.Second)
	d.Step()
	c = card(t, d.Snapshot(), "api")
	assert.InDelta(t, 0.0, *c.Rate, 1e-9)
	assert.Nil(t, c.Success)
	assert.Nil(t, c.P50)
	assert.Nil(t, c.P99)

	// The sparklines: a point per tick, oldest first.
	require.NotNil(t, c.History)
	assert.InDeltaSlice(t, []float64{16, 2, 0}, c.History.Rate, 1e-9)
	require.Len(t, c.History.P99, 3)
	assert.InDelta(t, 1.0, *c.History.P99[0], 0.07)
	assert.InDelta(t, 0.2, *c.History.P99[1], 0.0125)
	assert.Nil(t, c.History.P99[2])
}

func TestFigures_historyIsBounded(t *testing.T) {
	d, clk := manual(t, dashboard.Config{Tick: time.Second, History: 5 * time.Second})
	m := &monitor.Metrics{}
	require.NoError(t, d.Register("api", dashboard.Parts{Metrics: m}))
	for i := range 8 {
		for range i {
			m.Record(time.Millisecond, resilience.OutcomeSuccess)
		}
		clk.Add(time.Second)
		d.Step()
	}
	c := card(t, d.Snapshot(), "api")
	assert.InDeltaSlice(t, []float64{3, 4, 5, 6, 7}, c.History.Rate, 1e-9, "the last History/Tick points")
}

func TestFigures_alerts(t *testing.T) {
	// In a bubble, so that the rule's window moves on with fake time.
	synctest.Test(t, func(t *testing.T) {
		d, clk := manual(t, dashboard.Config{})
		m, err := monitor.NewMetrics(monitor.Config{Alerts: []monitor.AlertRule{{Window: time.Second, MinCalls: 1, Threshold: 0.5}}})
		require.NoError(t, err)
		require.NoError(t, d.Register("api", dashboard.Parts{Metrics: m}))
		clk.Add(time.Second)
		d.Step()
		assert.Empty(t, card(t, d.Snapshot(), "api").Alerts)

		// 10 timeouts every 100ms for 2s: full windows of timeouts.
		for range 20 {
			for range 10 {
				m.Record(time.Second, resilience.OutcomeTimeout)
			}
			time.Sleep(100 * time.Millisecond)
		}
		clk.Add(time.Second)
		d.Step()
		c := card(t, d.Snapshot(), "api")
		require.Len(t, c.Alerts, 1)
		a := c.Alerts[0]
		assert.Equal(t, 1.0, a.Rate)
		assert.Equal(t, 0.5, a.Threshold)
		assert.Equal(t, 1.0, a.Window)
		assert.Positive(t, a.Calls)
		assert.Equal(t, a.Calls, a.Timeouts)
		assert.Equal(t, "bad", c.Health, "an alert firing")
	})
}

func TestFigures_breakerTransitions(t *testing.T) {
	d, clk := manual(t, dashboard.Config{})
	cb, err := breaker.New(breaker.Settings{ConsecutiveFailures: 2, OpenTimeout: time.Hour})
	require.NoError(t, err)
	require.NoError(t, d.Register("db", dashboard.Parts{Breaker: cb}))
	c := card(t, d.Snapshot(), "db")
	assert.Equal(t, "closed", c.Breaker.State)
	assert.Empty(t, c.Breaker.Transitions)
	assert.Nil(t, c.Total, "no Metrics: no call figures")
	assert.Nil(t, c.Rate)

	fail := func() {
		tk, err := cb.Allow()
		if err == nil {
			tk.Done(context.Background(), errors.New("boom"))
		}
	}
	fail()
	fail()
	fail() // rejected
	clk.Add(time.Second)
	d.Step()
	c = card(t, d.Snapshot(), "db")
	assert.Equal(t, "open", c.Breaker.State)
	assert.Equal(t, int64(1), c.Breaker.Rejected)
	assert.Equal(t, []dashboard.Transition{{Time: clk.Now(), From: "closed", To: "open"}}, c.Breaker.Transitions)
	assert.Equal(t, "bad", c.Health)

	cb.Reset()
	clk.Add(time.Second)
	d.Step()
	c = card(t, d.Snapshot(), "db")
	assert.Equal(t, "closed", c.Breaker.State)
	assert.Equal(t, int64(0), c.Breaker.Rejected)
	require.Len(t, c.Breaker.Transitions, 2)
	assert.Equal(t, dashboard.Transition{Time: clk.Now(), From: "open", To: "closed"}, c.Breaker.Transitions[1])
	assert.Equal(t, "ok", c.Health)

	// Many trips in one tick: the last 10 are kept, in an order the
	// state machine allows.
	for range 8 {
		fail()
		fail()
		cb.Reset()
	}
	clk.Add(time.Second)
	d.Step()
	tr := card(t, d.Snapshot(), "db").Breaker.Transitions
	require.Len(t, tr, 10)
	for i := 1; i < len(tr); i++ {
		assert.Equal(t, tr[i-1].To, tr[i].From, "transition %d follows the one before", i)
	}
	assert.Equal(t, "closed", tr[9].To)
}

func TestFigures_halfOpenWarns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, clk := manual(t, dashboard.Config{})
		cb, err := breaker.New(breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Millisecond})
		require.NoError(t, err)
		require.NoError(t, d.Register("db", dashboard.Parts{Breaker: cb}))
		tk, err := cb.Allow()
		require.NoError(t, err)
		tk.Done(context.Background(), errors.New("boom"))
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		clk.Add(time.Second)
		d.Step()
		c := card(t, d.Snapshot(), "db")
		assert.Equal(t, "half-open", c.Breaker.State)
		assert.Equal(t, "warn", c.Health)
		assert.Equal(t, []string{"closed>open", "open>half-open"}, fromTo(c.Breaker.Transitions))
	})
}

func fromTo(tr []dashboard.Transition) []string {
	var s []string
	for _, x := range tr {
		s = append(s, x.From+">"+x.To)
	}
	return s
}

func TestFigures_otherParts(t *testing.T) {
	d, clk := manual(t, dashboard.Config{})
	h, err := hedge.New(hedge.Config{Delay: time.Millisecond})
	require.NoError(t, err)
	b, err := budget.NewRatio(budget.RatioConfig{})
	require.NoError(t, err)
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 2, MaxQueue: 3})
	require.NoError(t, err)
	a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{Max: 2 * time.Second})
	require.NoError(t, err)
	require.NoError(t, d.Register("all", dashboard.Parts{Hedger: h, Budget: b, Bulkhead: bh, Adaptive: a}))

	// Two calls through the hedger, one slow enough to be hedged.
	pol := hedge.Hedge[int](h)
	_, err = pol(func(ctx context.Context) (int, error) { return 1, nil })(context.Background())
	require.NoError(t, err)
	var n atomic.Int32
	_, err = pol(func(ctx context.Context) (int, error) {
		if n.Add(1) == 1 {
			<-ctx.Done() // the first attempt waits for the hedge to win
		}
		return 2, nil
	})(context.Background())
	require.NoError(t, err)
	require.NoError(t, bh.Acquire(context.Background()))
	defer bh.Release()

	clk.Add(time.Second)
	d.Step()
	c := card(t, d.Snapshot(), "all")
	require.NotNil(t, c.Hedge)
	assert.Equal(t, int64(1), c.Hedge.Hedges)
	assert.InDelta(t, 0.5, *c.Hedge.Rate, 1e-9, "hedges / calls in the tick")
	assert.InDelta(t, 0.001, c.Hedge.Delay, 1e-9)
	require.NotNil(t, c.Budget)
	assert.Equal(t, b.Snapshot().Headroom, c.Budget.Headroom)
	require.NotNil(t, c.Bulkhead)
	assert.Equal(t, dashboard.Bulkhead{InFlight: 1, MaxConcurrent: 2, MaxQueue: 3}, *c.Bulkhead)
	require.NotNil(t, c.Limit)
	assert.InDelta(t, 2.0, *c.Limit, 1e-9, "Max before there is data")
	assert.Nil(t, c.Breaker)
	assert.Nil(t, c.Total)
}

// nanBudget is a Budget of the user's own whose figures JSON cannot carry.
type nanBudget struct{}

func (nanBudget) Request()       {}
func (nanBudget) Retry() bool    { return true }
func (nanBudget) Done(_, _ bool) {}
func (nanBudget) Snapshot() budget.Stats {
	return budget.Stats{Headroom: math.Inf(1), RejectRate: math.NaN()}
}

func TestFigures_notANumber(t *testing.T) {
	d, clk := manual(t, dashboard.Config{})
	require.NoError(t, d.Register("own", dashboard.Parts{Budget: nanBudget{}}))
	clk.Add(time.Second)
	d.Step()
	st := open(t, serve(t, d), "")
	c := card(t, st.MustNext().Snapshot, "own")
	assert.Equal(t, dashboard.Budget{}, *c.Budget, "NaN and Inf are sent as 0")
}

// panicBudget is a Budget of the user's own whose Snapshot panics.
type panicBudget struct{ nanBudget }

func (panicBudget) Snapshot() budget.Stats { panic("broken budget") }

// TestFigures_aPanickingPartIsReportedOnce: a panic in a Budget of the
// user's own does not take the sampler (and the program) down; it is
// logged once, and the card goes on without its budget.
func TestFigures_aPanickingPartIsReportedOnce(t *testing.T) {
	var log testlog.Buffer
	d, clk := manual(t, dashboard.Config{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	m := new(monitor.Metrics)
	require.NoError(t, d.Register("own", dashboard.Parts{Metrics: m, Budget: panicBudget{}}))
	for range 3 {
		m.Record(time.Millisecond, resilience.OutcomeSuccess)
		clk.Add(time.Second)
		d.Step()
	}
	c := card(t, d.Snapshot(), "own")
	assert.Nil(t, c.Budget, "no budget figures from a Budget that panicked")
	require.NotNil(t, c.Rate)
	assert.Equal(t, 1.0, *c.Rate, "the rest of the card goes on")
	assert.Equal(t, 1, strings.Count(log.String(), "broken budget"), "reported once:\n%s", log.String())
}

// TestFigures_aResetMetrics: the tick in which the Metrics was Reset
// shows the calls recorded since, with their percentiles.
func TestFigures_aResetMetrics(t *testing.T) {
	d, clk := manual(t, dashboard.Config{})
	m := new(monitor.Metrics)
	require.NoError(t, d.Register("dep", dashboard.Parts{Metrics: m}))
	for range 50 { // more calls than after the Reset, in the same bucket
		m.Record(10*time.Millisecond, resilience.OutcomeSuccess)
	}
	clk.Add(time.Second)
	d.Step()
	m.Reset()
	for range 20 {
		m.Record(10*time.Millisecond, resilience.OutcomeSuccess)
	}
	clk.Add(time.Second)
	d.Step()
	c := card(t, d.Snapshot(), "dep")
	require.NotNil(t, c.Rate)
	assert.Equal(t, 20.0, *c.Rate)
	require.NotNil(t, c.P99, "the calls since the Reset have a p99")
	assert.InEpsilon(t, 0.010, *c.P99, 0.0625)
}
