package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

type netTimeout struct{}

func (netTimeout) Error() string { return "i/o timeout" }
func (netTimeout) Timeout() bool { return true }

func TestMonitor_outcomes(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		// call makes the call through call (the monitored Func) and
		// returns what it returned.
		call func(call resilience.Func[int]) (int, error)
		fn   resilience.Func[int]
		want monitor.Stats // counts only
	}{
		{
			name: "success",
			fn: func(context.Context) (int, error) {
				time.Sleep(3 * time.Second)
				return 7, nil
			},
			want: monitor.Stats{Successes: 1},
		},
		{
			name: "failure",
			fn: func(context.Context) (int, error) {
				time.Sleep(3 * time.Second)
				return 0, boom
			},
			want: monitor.Stats{Failures: 1},
		},
		{
			name: "inner timeout is a timeout",
			fn: func(ctx context.Context) (int, error) {
				ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				defer cancel()
				<-ctx.Done()
				return 0, fmt.Errorf("attempt: %w", ctx.Err())
			},
			want: monitor.Stats{Timeouts: 1, LimitTimeouts: 1},
		},
		{
			name: "net-style timeout is a timeout",
			fn: func(context.Context) (int, error) {
				time.Sleep(3 * time.Second)
				return 0, netTimeout{}
			},
			want: monitor.Stats{Timeouts: 1, LimitTimeouts: 1},
		},
		{
			name: "caller's deadline is a timeout",
			call: func(call resilience.Func[int]) (int, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				return call(ctx)
			},
			fn: func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			},
			want: monitor.Stats{Timeouts: 1, DeadlineTimeouts: 1},
		},
		{
			name: "a propagated deadline is told apart",
			call: func(call resilience.Func[int]) (int, error) {
				// What httpx.Deadlines and contrib/grpc give a handler.
				ctx, cancel := context.WithTimeoutCause(context.Background(), 3*time.Second, resilience.ErrPropagatedDeadline)
				defer cancel()
				return call(ctx)
			},
			fn: func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			},
			want: monitor.Stats{Timeouts: 1, PropagatedTimeouts: 1},
		},
		{
			name: "an error carrying the propagated cause",
			fn: func(ctx context.Context) (int, error) {
				time.Sleep(3 * time.Second)
				// What a downstream hop returns when its own handler ran out
				// of the propagated deadline: no deadline of this caller.
				return 0, fmt.Errorf("downstream: %w", resilience.ErrPropagatedDeadline)
			},
			want: monitor.Stats{Timeouts: 1, LimitTimeouts: 1},
		},
		{
			name: "caller's cancel is not a failure",
			call: func(call resilience.Func[int]) (int, error) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				time.AfterFunc(3*time.Second, cancel)
				return call(ctx)
			},
			fn: func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			},
			want: monitor.Stats{Canceled: 1},
		},
		{
			name: "caller's cancel, whatever fn returned",
			call: func(call resilience.Func[int]) (int, error) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				time.AfterFunc(3*time.Second, cancel)
				return call(ctx)
			},
			fn: func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, boom
			},
			want: monitor.Stats{Canceled: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newMetrics(t, monitor.Config{})
				call := monitor.Monitor[int](m)(tc.fn)
				if tc.call == nil {
					tc.call = func(call resilience.Func[int]) (int, error) { return call(context.Background()) }
				}
				wantV, wantErr := tc.call(tc.fn) // the same call, unmonitored
				v, err := tc.call(call)
				assert.Equal(t, wantV, v, "value passes through")
				assert.Equal(t, wantErr, err, "error passes through")

				s := m.Snapshot()
				tc.want.Total = 1
				if tc.want.Timeouts == 1 {
					tc.want.TimeoutRate = 1
				}
				tc.want.Mean, tc.want.Max = 3*time.Second, 3*time.Second
				tc.want.P50, tc.want.P90, tc.want.P99 = s.P50, s.P90, s.P99
				assert.Equal(t, tc.want, s)
				assert.InEpsilon(t, float64(3*time.Second), float64(s.P50), 0.0625)
			})
		})
	}
}

func TestMonitor_rejectedIsCountedOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lb logBuffer
		m := newMetrics(t, monitor.Config{Logger: lb.logger(slog.LevelDebug)})
		refused := fmt.Errorf("charge: %w", rejection{})
		v, err := monitor.Monitor[int](m)(func(context.Context) (int, error) {
			time.Sleep(3 * time.Second) // however long the policy took to refuse
			return 0, refused
		})(context.Background())
		assert.Zero(t, v)
		assert.Same(t, refused, err, "error passes through")
		assert.Equal(t, monitor.Stats{Total: 1, Rejected: 1}, m.Snapshot(),
			"not a failure, not a timeout, no duration, no timeout rate")
		assert.Empty(t, lb.lines(t), "not logged")
	})
}

func TestMonitor_passesThroughUnchanged(t *testing.T) {
	want := errors.New("boom")
	m := newMetrics(t, monitor.Config{})
	v, err := monitor.Monitor[string](m)(func(context.Context) (string, error) { return "partial", want })(t.Context())
	assert.Equal(t, "partial", v)
	assert.Same(t, want, err)
}

func TestMonitor_passesContext(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "v")
	var got any
	_, err := monitor.Monitor[int](newMetrics(t, monitor.Config{}))(func(ctx context.Context) (int, error) {
		got = ctx.Value(key{})
		return 0, nil
	})(ctx)
	require.NoError(t, err)
	assert.Equal(t, "v", got)
}

func TestMonitor_panicCountsAsFailure(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	call := monitor.Monitor[int](m)(func(context.Context) (int, error) { panic("kaboom") })
	assert.PanicsWithValue(t, "kaboom", func() { _, _ = call(t.Context()) }, "the panic goes on")
	s := m.Snapshot()
	assert.Equal(t, int64(1), s.Total)
	assert.Equal(t, int64(1), s.Failures)
}

func TestMonitor_sharedAcrossResultTypes(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	ints := resilience.Compose(monitor.Monitor[int](m))(func(context.Context) (int, error) { return 1, nil })
	strs := resilience.Compose(monitor.Monitor[string](m))(func(context.Context) (string, error) { return "", errors.New("x") })
	for range 3 {
		_, _ = ints(t.Context())
		_, _ = strs(t.Context())
	}
	_, _ = resilience.Do(t.Context(), func(context.Context) (bool, error) { return true, nil }, monitor.Monitor[bool](m))
	s := m.Snapshot()
	assert.Equal(t, int64(7), s.Total)
	assert.Equal(t, int64(4), s.Successes)
	assert.Equal(t, int64(3), s.Failures)
}

func TestMonitor_badInput(t *testing.T) {
	called := false
	fn := func(context.Context) (int, error) { called = true; return 1, nil }

	t.Run("nil Metrics panics when the policy is built", func(t *testing.T) {
		defer func() {
			err, ok := recover().(error)
			require.True(t, ok, "the panic value is an error")
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
			assert.EqualError(t, err, "monitor: Monitor(m) is nil, want a *Metrics (NewMetrics or a zero Metrics)")
		}()
		monitor.Monitor[int](nil)
		t.Fatal("Monitor(nil) did not panic")
	})
	t.Run("nil next panics when the policy is applied", func(t *testing.T) {
		p := monitor.Monitor[int](newMetrics(t, monitor.Config{}))
		assert.PanicsWithValue(t, resilience.ErrNilFunc, func() { p(nil) })
	})
	t.Run("nil ctx is an error, not recorded", func(t *testing.T) {
		m := newMetrics(t, monitor.Config{})
		// a nil context is the bad input under test
		_, err := monitor.Monitor[int](m)(fn)(nil)
		assert.ErrorIs(t, err, resilience.ErrNilContext)
		assert.Zero(t, m.Snapshot().Total)
	})
	assert.False(t, called, "fn must not run when the input is bad")
}

// A configuration error or a nil ctx inside the call is a mistake in the
// caller's code, not a failure of the dependency.
func TestMonitor_misuseInsideTheCallIsRejected(t *testing.T) {
	cfgErr := &resilience.ConfigError{Pkg: "retry", Field: "Config.BaseDelay", Value: -time.Nanosecond, Want: ">= 0"}
	tests := []struct {
		name string
		err  error
	}{
		{"configuration error", cfgErr},
		{"wrapped configuration error", fmt.Errorf("charge: %w", cfgErr)},
		{"nil context", resilience.ErrNilContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMetrics(t, monitor.Config{})
			_, err := monitor.Monitor[int](m)(func(context.Context) (int, error) { return 0, tc.err })(t.Context())
			assert.Equal(t, tc.err, err, "passes through")
			assert.Equal(t, monitor.Stats{Total: 1, Rejected: 1}, m.Snapshot(), "rejected, not a failure")
		})
	}
	t.Run("from a nested call with a nil context", func(t *testing.T) {
		m := newMetrics(t, monitor.Config{})
		var noCtx context.Context
		_, err := monitor.Monitor[int](m)(func(context.Context) (int, error) {
			return resilience.Do(noCtx, func(context.Context) (int, error) { return 1, nil })
		})(t.Context())
		require.ErrorIs(t, err, resilience.ErrNilContext)
		assert.Equal(t, monitor.Stats{Total: 1, Rejected: 1}, m.Snapshot())
	})
}

// A call made after the caller's deadline had passed never gave the
// dependency a chance to answer: it is not a timeout of the dependency.
func TestMonitor_deadlinePassedBeforeTheCall(t *testing.T) {
	boom := errors.New("boom")
	expired := func() (context.Context, context.CancelFunc) {
		return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	}
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		fn   resilience.Func[int]
		want monitor.Stats
	}{
		{
			name: "fails with ctx.Err: rejected",
			ctx:  expired,
			fn:   func(ctx context.Context) (int, error) { return 0, ctx.Err() },
			want: monitor.Stats{Total: 1, Rejected: 1},
		},
		{
			name: "fails otherwise: rejected too",
			ctx:  expired,
			fn: func(context.Context) (int, error) {
				time.Sleep(time.Second)
				return 0, boom
			},
			want: monitor.Stats{Total: 1, Rejected: 1},
		},
		{
			name: "succeeds anyway: a success",
			ctx:  expired,
			fn: func(context.Context) (int, error) {
				time.Sleep(time.Second)
				return 7, nil
			},
			want: monitor.Stats{Total: 1, Successes: 1, Mean: time.Second, Max: time.Second},
		},
		{
			name: "already canceled: canceled",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			fn:   func(ctx context.Context) (int, error) { return 0, ctx.Err() },
			want: monitor.Stats{Total: 1, Canceled: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var lb logBuffer
				m := newMetrics(t, monitor.Config{Logger: lb.logger(slog.LevelDebug)})
				ctx, cancel := tc.ctx()
				defer cancel()
				called := false
				fn := func(ctx context.Context) (int, error) { called = true; return tc.fn(ctx) }
				wantV, wantErr := tc.fn(ctx)
				v, err := monitor.Monitor[int](m)(fn)(ctx)
				assert.True(t, called, "Monitor still makes the call")
				assert.Equal(t, wantV, v, "value passes through")
				assert.Equal(t, wantErr, err, "error passes through")
				s := m.Snapshot()
				tc.want.P50, tc.want.P90, tc.want.P99 = s.P50, s.P90, s.P99
				assert.Equal(t, tc.want, s)
				assert.Zero(t, s.TimeoutRate)
				assert.Empty(t, lb.lines(t), "not logged as a timeout")
			})
		})
	}
}

// In a pipeline, a timeout policy refuses a call whose caller's deadline
// has passed, and so does Monitor count it; a deadline that passes during
// the call is still a timeout.
func TestMonitor_deadlinePassedBeforeTheCall_withTimeoutPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetrics(t, monitor.Config{})
		var calls int
		call := resilience.Compose(
			monitor.Monitor[int](m),
			timeout.WithTimeout[int](time.Minute),
		)(func(ctx context.Context) (int, error) {
			calls++
			<-ctx.Done()
			return 0, ctx.Err()
		})

		late, cancel := context.WithTimeout(context.Background(), -time.Second)
		defer cancel()
		_, err := call(late)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, monitor.Stats{Total: 1, Rejected: 1}, m.Snapshot())

		soon, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = call(soon)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		s := m.Snapshot()
		assert.Equal(t, int64(1), s.Timeouts, "the deadline passed during the call")
		assert.Equal(t, int64(1), s.Rejected)
		assert.Equal(t, 1.0, s.TimeoutRate)
		assert.Equal(t, 1, calls, "the timeout policy did not call fn with the expired context")
	})
}

// With a timeout in abandon mode inside, Stats.Abandoned counts the calls
// that timed out while their work goes on, and comes down as it ends.
func TestMonitor_abandonedCallsInStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetrics(t, monitor.Config{})
		release := make(chan struct{})
		call := resilience.Compose(
			monitor.Monitor[int](m),
			timeout.WithTimeout[int](time.Second, timeout.Abandon(), timeout.Track(m.Abandoned())),
		)(func(context.Context) (int, error) {
			<-release // ignores its context
			return 1, nil
		})

		for range 3 {
			_, err := call(context.Background())
			require.Error(t, err)
		}
		s := m.Snapshot()
		assert.Equal(t, int64(3), s.Timeouts)
		assert.Equal(t, int64(3), s.Abandoned, "all three still running")
		assert.Equal(t, time.Second, s.Mean, "the callers waited the limit, not the work")

		close(release)
		synctest.Wait() // the abandoned work returns
		s = m.Snapshot()
		assert.Zero(t, s.Abandoned)
		assert.Equal(t, int64(3), s.Total, "the work ending late is no new call")
	})
}
