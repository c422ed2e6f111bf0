package grpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	steadygrpc "github.com/steadyhq/steady/contrib/grpc"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// handlerEnd is what a handler saw of its context.
type handlerEnd struct {
	deadline time.Time
	cause    error
}

// waitForEnd returns a fault that waits for its context to end (or a
// minute) and reports what it saw on ends.
func waitForEnd(ends chan<- handlerEnd) func(context.Context, int64) error {
	return func(ctx context.Context, _ int64) error {
		dl, _ := ctx.Deadline()
		select {
		case <-ctx.Done():
		case <-time.After(time.Minute):
		}
		ends <- handlerEnd{deadline: dl, cause: context.Cause(ctx)}
		return status.FromContextError(ctx.Err()).Err()
	}
}

// capped starts a server whose calls go through the interceptors of cfg,
// with fault as its Check.
func capped(t *testing.T, cfg steadygrpc.ServerConfig, fault func(context.Context, int64) error) *server {
	t.Helper()
	u, err := steadygrpc.UnaryServerInterceptor(cfg)
	require.NoError(t, err)
	st, err := steadygrpc.StreamServerInterceptor(cfg)
	require.NoError(t, err)
	return startServer(t, fault, grpc.UnaryInterceptor(u), grpc.StreamInterceptor(st))
}

func TestServer_maxCapsAHugeClientDeadline(t *testing.T) {
	t.Parallel()
	ends := make(chan handlerEnd, 1)
	s := capped(t, steadygrpc.ServerConfig{Max: 100 * time.Millisecond}, waitForEnd(ends))
	hc := dial(t, s, nil)
	// gRPC sends this as a grpc-timeout of some 876000 hours, and honours it.
	ctx, cancel := context.WithTimeout(t.Context(), 100*365*24*time.Hour)
	defer cancel()
	start := time.Now()
	_, err := check(ctx, hc)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.Less(t, time.Since(start), 30*time.Second, "the handler ended at Max, long before the client's deadline")
	end := <-ends
	assert.Equal(t, context.DeadlineExceeded, end.cause, "Max, the server's own limit, ended it")
}

func TestServer_maxAppliesWithoutAClientDeadline(t *testing.T) {
	t.Parallel()
	ends := make(chan handlerEnd, 1)
	s := capped(t, steadygrpc.ServerConfig{Max: 100 * time.Millisecond}, waitForEnd(ends))
	hc := dial(t, s, nil)
	_, err := check(t.Context(), hc) // no deadline
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	end := <-ends
	assert.Equal(t, context.DeadlineExceeded, end.cause)
}

func TestServer_clientDeadlineIsPropagated(t *testing.T) {
	t.Parallel()
	// An Offset of more than the network's round trip makes the server's
	// end come before the client's cancellation, which the client sends
	// when its own timer fires.
	for _, offset := range []time.Duration{100 * time.Millisecond, time.Second} {
		t.Run("offset="+offset.String(), func(t *testing.T) {
			t.Parallel()
			ends := make(chan handlerEnd, 1)
			s := capped(t, steadygrpc.ServerConfig{Max: time.Hour, Offset: offset}, waitForEnd(ends))
			hc := dial(t, s, nil)
			ctx, cancel := context.WithTimeout(t.Context(), offset+300*time.Millisecond)
			defer cancel()
			clientDL, _ := ctx.Deadline()
			_, err := check(ctx, hc)
			assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
			end := <-ends
			assert.Equal(t, resilience.ErrPropagatedDeadline, end.cause, "the client's deadline ended it")
			assert.ErrorIs(t, end.cause, context.DeadlineExceeded)
			// The server learns the deadline as a time left, and counts
			// it from the request's arrival: its deadline is the
			// client's, less the offset, plus the request's transit.
			assert.WithinDuration(t, clientDL.Add(-offset), end.deadline, 250*time.Millisecond)
		})
	}
}

func TestServer_expiredDeadlineIsAnsweredWithoutTheHandler(t *testing.T) {
	t.Parallel()
	ends := make(chan handlerEnd, 1)
	s := capped(t, steadygrpc.ServerConfig{Max: time.Hour, Offset: 10 * time.Second}, waitForEnd(ends))
	hc := dial(t, s, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // the Offset uses it up
	defer cancel()
	_, err := check(ctx, hc)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.Equal(t, int64(0), s.hits.Load(), "the handler was not called")

	// A stream too.
	stream, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = stream.Recv()
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.Equal(t, int64(0), s.hits.Load())
}

func TestServer_clientCancellationReachesTheHandler(t *testing.T) {
	t.Parallel()
	ends := make(chan handlerEnd, 1)
	s := capped(t, steadygrpc.ServerConfig{Max: time.Hour}, waitForEnd(ends))
	hc := dial(t, s, nil)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for s.hits.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := check(ctx, hc)
	assert.Equal(t, codes.Canceled, status.Code(err))
	end := <-ends
	assert.ErrorIs(t, end.cause, context.Canceled)
}

func TestServer_streamIsCapped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		max      time.Duration
		deadline time.Duration // the client's; 0 for none
		cause    error
	}{
		{"max", 100 * time.Millisecond, 0, context.DeadlineExceeded},
		{"client deadline", time.Hour, 300 * time.Millisecond, resilience.ErrPropagatedDeadline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := steadygrpc.ServerConfig{Max: tc.max, Offset: 100 * time.Millisecond}
			u, err := steadygrpc.UnaryServerInterceptor(cfg)
			require.NoError(t, err)
			st, err := steadygrpc.StreamServerInterceptor(cfg)
			require.NoError(t, err)
			lis := make(chan error, 1)
			s := startServer(t, nil, grpc.UnaryInterceptor(u), grpc.StreamInterceptor(st))
			s.watched = lis
			hc := dial(t, s, nil)
			ctx := t.Context()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			stream, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
			_, err = stream.Recv()
			require.NoError(t, err)
			_, err = stream.Recv()
			assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
			assert.Equal(t, tc.cause, <-lis)
		})
	}
}

func TestServerConfig_bad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   steadygrpc.ServerConfig
		field string
	}{
		{"no max", steadygrpc.ServerConfig{}, "ServerConfig.Max"},
		{"negative max", steadygrpc.ServerConfig{Max: -time.Second}, "ServerConfig.Max"},
		{"negative offset", steadygrpc.ServerConfig{Max: time.Second, Offset: -1}, "ServerConfig.Offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := steadygrpc.UnaryServerInterceptor(tc.cfg)
			assert.Nil(t, u)
			require.ErrorIs(t, err, resilience.ErrInvalidConfig)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
			s, err := steadygrpc.StreamServerInterceptor(tc.cfg)
			assert.Nil(t, s)
			assert.Equal(t, tc.cfg.Validate(), err)
		})
	}
}

// TestServer_propagatedTimeoutsAreCountedApart: a handler that calls its
// own dependency through monitor.Monitor with the context the interceptor
// gave it counts a propagated timeout when the client's deadline ends the
// call, and a limit timeout when the server's own timeout does.
func TestServer_propagatedTimeoutsAreCountedApart(t *testing.T) {
	t.Parallel()
	m := new(monitor.Metrics)
	dependency := monitor.Monitor[int](m)(timeout.WithTimeout[int](time.Second)(func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}))
	s := capped(t, steadygrpc.ServerConfig{Max: time.Hour, Offset: 100 * time.Millisecond}, func(ctx context.Context, _ int64) error {
		_, err := dependency(ctx)
		return status.FromContextError(err).Err()
	})
	hc := dial(t, s, nil)

	// The client gives 400ms: the handler's dependency call ends at the
	// propagated deadline, long before its own 1s limit.
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	_, err := check(ctx, hc)
	cancel()
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	// The client gives 10s: the dependency's own 1s limit fires.
	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	_, err = check(ctx, hc)
	cancel()
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))

	st := m.Snapshot()
	assert.Equal(t, int64(2), st.Timeouts, "%v", st)
	assert.Equal(t, int64(1), st.PropagatedTimeouts, "the client's deadline")
	assert.Equal(t, int64(1), st.LimitTimeouts, "the dependency's own limit")
	assert.Zero(t, st.DeadlineTimeouts)
}
