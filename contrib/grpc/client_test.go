package grpc_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	steadygrpc "github.com/steadyhq/steady/contrib/grpc"
	"github.com/steadyhq/steady/internal/testlog"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// retries is a Retry config of up to n attempts about a millisecond apart.
func retries(n int) *retry.Config {
	return &retry.Config{MaxAttempts: n, BaseDelay: fast, MaxDelay: fast}
}

func TestRetry_retryableCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []codes.Code{codes.Unavailable, codes.ResourceExhausted} {
		t.Run(code.String(), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, failFirst(2, code))
			hc := dial(t, s, newClient(t, steadygrpc.Config{Retry: retries(3), Budget: budget.Unlimited()}))
			resp, err := check(t.Context(), hc)
			require.NoError(t, err)
			assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.Status)
			assert.Equal(t, int64(3), s.hits.Load())
		})
	}
}

func TestRetry_attemptTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	s := startServer(t, hang(1)) // the first attempt hangs until its limit
	hc := dial(t, s, newClient(t, steadygrpc.Config{Timeout: 300 * time.Millisecond, Retry: retries(3), Budget: budget.Unlimited()}))
	_, err := check(t.Context(), hc)
	require.NoError(t, err)
	assert.Equal(t, int64(2), s.hits.Load())
}

func TestRetry_permanentCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []codes.Code{codes.InvalidArgument, codes.NotFound, codes.Internal, codes.PermissionDenied, codes.Unimplemented} {
		t.Run(code.String(), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, always(code))
			hc := dial(t, s, newClient(t, steadygrpc.Config{Retry: retries(3), Budget: budget.Unlimited()}))
			_, err := check(t.Context(), hc)
			st, ok := status.FromError(err)
			require.True(t, ok, "a gRPC status error: %v", err)
			assert.Equal(t, code, st.Code())
			assert.Equal(t, "injected", st.Message(), "gRPC's own error, unchanged")
			assert.Equal(t, int64(1), s.hits.Load())
		})
	}
}

func TestRetry_serverDeadlineExceededIsNotRetried(t *testing.T) {
	t.Parallel()
	// The server's own limit, not the attempt's: retrying cannot help.
	s := startServer(t, always(codes.DeadlineExceeded))
	hc := dial(t, s, newClient(t, steadygrpc.Config{Timeout: time.Minute, Retry: retries(3), Budget: budget.Unlimited()}))
	_, err := check(t.Context(), hc)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.Equal(t, int64(1), s.hits.Load())
}

func TestRetry_callerDeadlineIsNotRetried(t *testing.T) {
	t.Parallel()
	s := startServer(t, hang(100))
	hc := dial(t, s, newClient(t, steadygrpc.Config{Timeout: time.Minute, Retry: retries(5), Budget: budget.Unlimited()}))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := check(ctx, hc)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.Less(t, time.Since(start), 30*time.Second, "returned long before the attempt's limit")
	assert.Equal(t, int64(1), s.hits.Load())
}

func TestRetry_callerCancellationIsNotRetried(t *testing.T) {
	t.Parallel()
	s := startServer(t, hang(100))
	hc := dial(t, s, newClient(t, steadygrpc.Config{Retry: retries(5), Budget: budget.Unlimited()}))
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for s.hits.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := check(ctx, hc)
	assert.Equal(t, codes.Canceled, status.Code(err))
	assert.Equal(t, int64(1), s.hits.Load())
}

func TestRetry_givesUpWithAStatus(t *testing.T) {
	t.Parallel()
	s := startServer(t, always(codes.Unavailable))
	hc := dial(t, s, newClient(t, steadygrpc.Config{Retry: retries(3), Budget: budget.Unlimited()}))
	_, err := check(t.Context(), hc)
	st, ok := status.FromError(err)
	require.True(t, ok, "a gRPC status error: %v", err)
	assert.Equal(t, codes.Unavailable, st.Code())
	var re *retry.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 3, re.Attempts)
	assert.Equal(t, int64(3), s.hits.Load())
}

func TestRetry_pushback(t *testing.T) {
	t.Parallel()
	const wait = 300 * time.Millisecond
	s := startServer(t, pushbackFirst("300"))
	// The backoff would be a millisecond: the pushback replaces it.
	rc := retries(3)
	rc.MaxRetryAfter = time.Minute
	hc := dial(t, s, newClient(t, steadygrpc.Config{Retry: rc, Budget: budget.Unlimited()}))
	_, err := check(t.Context(), hc)
	require.NoError(t, err)
	at := s.arrivals()
	require.Len(t, at, 2)
	assert.GreaterOrEqual(t, at[1].Sub(at[0]), wait, "the second attempt waited for the pushback")
}

func TestRetry_pushbackZeroRetriesAtOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t, pushbackFirst("0"))
	// The backoff would be a minute: "0" means now.
	rc := &retry.Config{MaxAttempts: 3, BaseDelay: time.Minute, MaxDelay: time.Minute}
	hc := dial(t, s, newClient(t, steadygrpc.Config{Retry: rc, Budget: budget.Unlimited()}))
	start := time.Now()
	_, err := check(t.Context(), hc)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 30*time.Second, "returned long before the backoff's minute")
	assert.Equal(t, int64(2), s.hits.Load())
}

func TestRetry_pushbackStops(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		vs   []string
	}{
		{"negative", []string{"-1"}},
		{"garbage", []string{"soon"}},
		{"fraction", []string{"1.5"}},
		{"empty", []string{""}},
		{"two values", []string{"10", "20"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, pushbackFirst(tc.vs...))
			hc := dial(t, s, newClient(t, steadygrpc.Config{Retry: retries(3), Budget: budget.Unlimited()}))
			_, err := check(t.Context(), hc)
			assert.Equal(t, codes.Unavailable, status.Code(err))
			assert.Equal(t, int64(1), s.hits.Load())
		})
	}
}

func TestRetry_pushbackPastTheDeadlineEndsAtOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t, pushbackFirst("600000")) // ten minutes
	rc := retries(3)
	rc.MaxRetryAfter = time.Hour
	hc := dial(t, s, newClient(t, steadygrpc.Config{Retry: rc, Budget: budget.Unlimited()}))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	start := time.Now()
	_, err := check(ctx, hc)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Less(t, time.Since(start), 30*time.Second, "did not wait for a pushback past the deadline")
	assert.Equal(t, int64(1), s.hits.Load())
}

func TestBreaker_opensAndRejectsWithoutCallingTheServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, always(codes.Unavailable))
	c := newClient(t, steadygrpc.Config{Breaker: &breaker.Settings{ConsecutiveFailures: 3, OpenTimeout: time.Hour}})
	hc := dial(t, s, c)
	for range 3 {
		_, err := check(t.Context(), hc)
		require.Equal(t, codes.Unavailable, status.Code(err))
	}
	require.Equal(t, int64(3), s.hits.Load())

	_, err := check(t.Context(), hc)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.ErrorIs(t, err, breaker.ErrOpen)
	var oe *breaker.OpenError
	assert.ErrorAs(t, err, &oe)
	assert.True(t, resilience.IsRejected(err))
	assert.Equal(t, int64(3), s.hits.Load(), "the rejected call did not reach the server")

	bs := c.Breakers()
	require.Len(t, bs, 1)
	for name, cb := range bs {
		assert.Equal(t, "passthrough:///"+s.addr, name)
		assert.Equal(t, breaker.StateOpen, cb.State())
	}
}

func TestBreaker_answersThatShowTheServerUpDoNotOpenIt(t *testing.T) {
	t.Parallel()
	s := startServer(t, always(codes.InvalidArgument))
	c := newClient(t, steadygrpc.Config{Breaker: &breaker.Settings{ConsecutiveFailures: 2}})
	hc := dial(t, s, c)
	for range 5 {
		_, err := check(t.Context(), hc)
		require.Equal(t, codes.InvalidArgument, status.Code(err))
	}
	assert.Equal(t, int64(5), s.hits.Load())
	for _, cb := range c.Breakers() {
		assert.Equal(t, breaker.StateClosed, cb.State())
	}
}

func TestBreaker_onePerTarget(t *testing.T) {
	t.Parallel()
	sick, well := startServer(t, always(codes.Unavailable)), startServer(t, nil)
	c := newClient(t, steadygrpc.Config{Breaker: &breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour}})
	sickc, wellc := dial(t, sick, c), dial(t, well, c)
	_, err := check(t.Context(), sickc)
	require.Error(t, err)
	_, err = check(t.Context(), sickc)
	require.ErrorIs(t, err, breaker.ErrOpen)
	_, err = check(t.Context(), wellc)
	assert.NoError(t, err, "the other target's breaker is its own")
	assert.Len(t, c.Breakers(), 2)
}

func TestHedge_secondAttemptWinsWhenTheFirstIsSlow(t *testing.T) {
	t.Parallel()
	s := startServer(t, hang(1)) // the first attempt hangs; the hedge answers
	c := newClient(t, steadygrpc.Config{Hedge: &hedge.Config{Delay: 50 * time.Millisecond}, Budget: budget.Unlimited()})
	hc := dial(t, s, c)
	var header, trailer metadata.MD
	resp, err := check(t.Context(), hc, grpc.Header(&header), grpc.Trailer(&trailer))
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.Status, "the winner's reply reached the caller's")
	assert.Equal(t, []string{"2"}, header.Get("hit"), "the winner's header reached the caller's option")
	assert.Equal(t, int64(2), s.hits.Load())
	hs := c.Hedgers()
	require.Len(t, hs, 1)
	for _, h := range hs {
		// Which attempt wins depends on which reached the server first
		// (the first hit hangs), so only the hedge is counted here.
		assert.Equal(t, int64(1), h.Snapshot().Hedges)
	}
}

func TestHedge_fastCallsAreNotHedged(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := newClient(t, steadygrpc.Config{Hedge: &hedge.Config{Delay: time.Minute}})
	hc := dial(t, s, c)
	for range 5 {
		_, err := check(t.Context(), hc)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(5), s.hits.Load())
}

func TestBudget_stopsARetryStorm(t *testing.T) {
	t.Parallel()
	s := startServer(t, always(codes.Unavailable))
	// The default budget: each target gets a budget.Adaptive.
	c := newClient(t, steadygrpc.Config{Retry: retries(5)})
	hc := dial(t, s, c)
	const calls = 400
	for range calls {
		_, err := check(t.Context(), hc)
		require.Equal(t, codes.Unavailable, status.Code(err))
	}
	// Without a budget: 5 attempts a call, 2000 hits. The budget's
	// tokens go, and then no retry is made.
	assert.LessOrEqual(t, s.hits.Load(), int64(calls+budget.DefaultCapacity), "the budget clamps the retries of an outage")
	bs := c.Budgets()
	require.Len(t, bs, 1)
	for _, b := range bs {
		assert.Positive(t, b.Snapshot().Denied)
	}
}

func TestMetrics_countLogicalCalls(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(ctx context.Context, n int64) error {
		switch n {
		case 1, 2: // one call, retried once
			if n == 1 {
				return status.Error(codes.Unavailable, "once")
			}
		case 3:
			return status.Error(codes.InvalidArgument, "bad")
		case 4:
			<-ctx.Done() // the attempt's limit
			return ctx.Err()
		}
		return nil
	})
	m, err := monitor.NewMetrics(monitor.Config{})
	require.NoError(t, err)
	rc := retries(2)
	rc.ShouldRetry = func(err error) bool { return status.Code(err) == codes.Unavailable }
	c := newClient(t, steadygrpc.Config{Metrics: m, Timeout: 500 * time.Millisecond, Retry: rc, Budget: budget.Unlimited()})
	hc := dial(t, s, c)
	_, err = check(t.Context(), hc) // hits 1, 2: success
	require.NoError(t, err)
	_, err = check(t.Context(), hc) // hit 3: failure
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = check(t.Context(), hc) // hit 4: timeout
	require.Equal(t, codes.DeadlineExceeded, status.Code(err))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var te *timeout.Error
	require.ErrorAs(t, err, &te)

	st := m.Snapshot()
	assert.Equal(t, int64(3), st.Total)
	assert.Equal(t, int64(1), st.Successes)
	assert.Equal(t, int64(1), st.Failures)
	assert.Equal(t, int64(1), st.Timeouts)
}

func TestMetrics_countBreakerRejections(t *testing.T) {
	t.Parallel()
	s := startServer(t, always(codes.Internal))
	m, err := monitor.NewMetrics(monitor.Config{})
	require.NoError(t, err)
	c := newClient(t, steadygrpc.Config{Metrics: m, Breaker: &breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour}})
	hc := dial(t, s, c)
	_, err = check(t.Context(), hc)
	require.Equal(t, codes.Internal, status.Code(err))
	_, err = check(t.Context(), hc)
	require.ErrorIs(t, err, breaker.ErrOpen)
	st := m.Snapshot()
	assert.Equal(t, int64(2), st.Total)
	assert.Equal(t, int64(1), st.Failures)
	assert.Equal(t, int64(1), st.Rejected)
}

func TestAdaptiveTimeout_perTarget(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := newClient(t, steadygrpc.Config{Timeout: time.Second, AdaptiveTimeout: &timeout.AdaptiveConfig{}})
	hc := dial(t, s, c)
	_, err := check(t.Context(), hc)
	require.NoError(t, err)
	as := c.AdaptiveTimeouts()
	require.Len(t, as, 1)
	for _, a := range as {
		assert.LessOrEqual(t, a.Current(), time.Second, "Timeout is the ceiling")
	}
}

func TestNewClient_badConfig(t *testing.T) {
	t.Parallel()
	var nilBudget *budget.Adaptive
	for _, tc := range []struct {
		name  string
		cfg   steadygrpc.Config
		field string
	}{
		{"negative timeout", steadygrpc.Config{Timeout: -time.Second}, "Config.Timeout"},
		{"adaptive without a ceiling", steadygrpc.Config{AdaptiveTimeout: &timeout.AdaptiveConfig{}}, "Config.AdaptiveTimeout.Max"},
		{"adaptive above the ceiling", steadygrpc.Config{Timeout: time.Second, AdaptiveTimeout: &timeout.AdaptiveConfig{Max: time.Minute}}, "Config.AdaptiveTimeout.Max"},
		{"retry", steadygrpc.Config{Retry: &retry.Config{Multiplier: 0.5}}, "Config.Multiplier"},
		{"breaker", steadygrpc.Config{Breaker: &breaker.Settings{FailureRate: 2}}, "Settings.FailureRate"},
		{"hedge", steadygrpc.Config{Hedge: &hedge.Config{MaxHedges: 99}}, "Config.MaxHedges"},
		{"typed nil budget", steadygrpc.Config{Budget: nilBudget}, "Config.Budget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := steadygrpc.NewClient(tc.cfg)
			assert.Nil(t, c)
			require.ErrorIs(t, err, resilience.ErrInvalidConfig)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
			assert.Equal(t, err, tc.cfg.Validate())
		})
	}
}

func TestNewClient_message(t *testing.T) {
	t.Parallel()
	_, err := steadygrpc.NewClient(steadygrpc.Config{Timeout: -time.Second})
	assert.EqualError(t, err, "grpc: Config.Timeout is -1s, want >= 0")
}

func TestClient_zeroConfigPassesCallsThrough(t *testing.T) {
	t.Parallel()
	s := startServer(t, failFirst(1, codes.Unavailable))
	hc := dial(t, s, newClient(t, steadygrpc.Config{}))
	_, err := check(t.Context(), hc)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	_, err = check(t.Context(), hc)
	assert.NoError(t, err)
	assert.Equal(t, int64(2), s.hits.Load())
	assert.False(t, errors.Is(err, context.Canceled))
}

func TestRetry_pushbackStopIsLogged(t *testing.T) {
	t.Parallel()
	var buf testlog.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startServer(t, pushbackFirst("-1"))
	hc := dial(t, s, newClient(t, steadygrpc.Config{Retry: retries(3), Budget: budget.Unlimited(), Logger: logger}))
	_, err := check(t.Context(), hc)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	out := buf.String()
	assert.Contains(t, out, "pushback stops the retries")
	assert.Contains(t, out, "/grpc.health.v1.Health/Check")
}

func TestClient_attemptDeadlineReachesTheServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		limit, caller time.Duration
		wantAtMost    time.Duration
	}{
		{"the attempt's limit is shorter", 2 * time.Second, time.Hour, 2 * time.Second},
		{"the caller's deadline is shorter", time.Hour, 2 * time.Second, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			left := make(chan time.Duration, 1)
			s := startServer(t, func(ctx context.Context, _ int64) error {
				dl, ok := ctx.Deadline()
				if !ok {
					left <- -1
					return nil
				}
				left <- time.Until(dl)
				return nil
			})
			hc := dial(t, s, newClient(t, steadygrpc.Config{Timeout: tc.limit}))
			ctx, cancel := context.WithTimeout(t.Context(), tc.caller)
			defer cancel()
			_, err := check(ctx, hc)
			require.NoError(t, err)
			d := <-left
			assert.LessOrEqual(t, d, tc.wantAtMost, "the server got the least of the two")
			assert.Greater(t, d, tc.wantAtMost/2)
		})
	}
}

func TestIdempotent_otherMethodsGetOneAttempt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		idempotent func(string) bool
		hits       int64
	}{
		{"accepted", func(m string) bool { return m == "/grpc.health.v1.Health/Check" }, 3},
		{"not accepted", func(m string) bool { return m == "/grpc.health.v1.Health/List" }, 1},
		{"panics: no", func(string) bool { panic("oops") }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, always(codes.Unavailable))
			var buf testlog.Buffer
			c := newClient(t, steadygrpc.Config{
				Retry:      retries(3),
				Hedge:      &hedge.Config{Delay: time.Minute},
				Budget:     budget.Unlimited(),
				Idempotent: tc.idempotent,
				Logger:     slog.New(slog.NewTextHandler(&buf, nil)),
			})
			_, err := check(t.Context(), dial(t, s, c))
			assert.Equal(t, codes.Unavailable, status.Code(err))
			assert.Equal(t, tc.hits, s.hits.Load())
			if tc.name == "panics: no" {
				assert.Contains(t, buf.String(), "oops")
			}
		})
	}
}
