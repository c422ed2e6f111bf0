package grpc_test

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	steadygrpc "github.com/steadyhq/steady/contrib/grpc"
)

// server is a real gRPC health server on loopback whose Check runs fault,
// with the 1-based number of the hit, and counts its hits.
type server struct {
	healthpb.UnimplementedHealthServer
	addr  string
	hits  atomic.Int64
	fault func(ctx context.Context, n int64) error
	// watched, when not nil, receives the cause of each Watch's end.
	watched chan error

	mu    sync.Mutex // guards times
	times []time.Time
}

func (s *server) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	n := s.hits.Add(1)
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	_ = grpc.SetHeader(ctx, metadata.Pairs("hit", strconv.FormatInt(n, 10)))
	if s.fault != nil {
		if err := s.fault(ctx, n); err != nil {
			return nil, err
		}
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// Watch sends SERVING, then holds the stream until its context ends and
// reports that context's cause on watched.
func (s *server) Watch(_ *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	s.hits.Add(1)
	if err := stream.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}); err != nil {
		return err
	}
	ctx := stream.Context()
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
	}
	if s.watched != nil {
		s.watched <- context.Cause(ctx)
	}
	return status.FromContextError(ctx.Err()).Err()
}

// arrivals returns when each hit arrived.
func (s *server) arrivals() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

// startServer starts a gRPC server on a free loopback port with fault as
// its Check's behaviour, and stops it when the test ends.
func startServer(t *testing.T, fault func(ctx context.Context, n int64) error, opts ...grpc.ServerOption) *server {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &server{addr: lis.Addr().String(), fault: fault}
	gs := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(gs, s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = gs.Serve(lis)
	}()
	t.Cleanup(func() {
		gs.Stop()
		<-done
	})
	return s
}

// dial returns a health client for s whose calls go through c's
// interceptor (none when c is nil).
func dial(t *testing.T, s *server, c *steadygrpc.Client) healthpb.HealthClient {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if c != nil {
		opts = append(opts, grpc.WithUnaryInterceptor(c.UnaryClientInterceptor()))
	}
	conn, err := grpc.NewClient("passthrough:///"+s.addr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return healthpb.NewHealthClient(conn)
}

// newClient returns a Client for cfg, failing the test on an error.
func newClient(t *testing.T, cfg steadygrpc.Config) *steadygrpc.Client {
	t.Helper()
	c, err := steadygrpc.NewClient(cfg)
	require.NoError(t, err)
	return c
}

// check makes one Check call with ctx.
func check(ctx context.Context, hc healthpb.HealthClient, opts ...grpc.CallOption) (*healthpb.HealthCheckResponse, error) {
	return hc.Check(ctx, &healthpb.HealthCheckRequest{}, opts...)
}

// failFirst returns a fault that fails the first n hits with code and
// lets the rest through.
func failFirst(n int64, code codes.Code) func(context.Context, int64) error {
	return func(_ context.Context, hit int64) error {
		if hit <= n {
			return status.Error(code, "injected")
		}
		return nil
	}
}

// always returns a fault that fails every hit with code.
func always(code codes.Code) func(context.Context, int64) error {
	return func(context.Context, int64) error { return status.Error(code, "injected") }
}

// hang returns a fault that holds the first n hits until their context
// ends (or a minute passes) and lets the rest through.
func hang(n int64) func(context.Context, int64) error {
	return func(ctx context.Context, hit int64) error {
		if hit > n {
			return nil
		}
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-time.After(time.Minute):
			return nil
		}
	}
}

// pushbackFirst returns a fault that fails the first hit with UNAVAILABLE
// and the pushback trailer values vs, and lets the rest through.
func pushbackFirst(vs ...string) func(context.Context, int64) error {
	return func(ctx context.Context, hit int64) error {
		if hit > 1 {
			return nil
		}
		md := metadata.MD{}
		md[steadygrpc.PushbackTrailer] = vs
		_ = grpc.SetTrailer(ctx, md)
		return status.Error(codes.Unavailable, "busy")
	}
}

// fast is a retry backoff of about a millisecond.
const fast = time.Millisecond
