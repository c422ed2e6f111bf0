package grpc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	steadygrpc "github.com/steadyhq/steady/contrib/grpc"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
)

// pipelines are the interceptor configurations measured, against
// impl=bare (no interceptor).
func pipelines(b *testing.B) map[string]steadygrpc.Config {
	m, err := monitor.NewMetrics(monitor.Config{})
	if err != nil {
		b.Fatal(err)
	}
	rc := retry.DefaultConfig()
	return map[string]steadygrpc.Config{
		"timeout": {Timeout: time.Second},
		// The recommended pipeline: Monitor, Breaker, Retry (with the
		// default per-target budget), Timeout.
		"full": {Timeout: time.Second, Retry: &rc, Breaker: &breaker.Settings{}, Metrics: m},
	}
}

// BenchmarkUnary measures a unary call to a real gRPC server on loopback,
// bare and through the interceptor.
func BenchmarkUnary(b *testing.B) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, &server{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	defer func() { srv.Stop(); <-done }()

	run := func(b *testing.B, limit time.Duration, opts ...grpc.DialOption) {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
		conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		hc := healthpb.NewHealthClient(conn)
		ctx := context.Background()
		req := &healthpb.HealthCheckRequest{}
		if _, err := hc.Check(ctx, req); err != nil { // connect first
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			cctx, cancel := ctx, context.CancelFunc(func() {})
			if limit > 0 {
				cctx, cancel = context.WithTimeout(ctx, limit)
			}
			_, err := hc.Check(cctx, req)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("impl=bare", func(b *testing.B) { run(b, 0) })
	// The hand-written limit: a deadline costs gRPC some work of its own
	// (the grpc-timeout header, the server's timer).
	b.Run("impl=bare-timeout", func(b *testing.B) { run(b, time.Second) })
	for name, cfg := range pipelines(b) {
		c, err := steadygrpc.NewClient(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("impl="+name, func(b *testing.B) { run(b, 0, grpc.WithUnaryInterceptor(c.UnaryClientInterceptor())) })
	}
}

// BenchmarkInterceptor measures the interceptor alone, around an invoker
// that returns at once: the cost steady adds to every call.
func BenchmarkInterceptor(b *testing.B) {
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	ctx := context.Background()
	req, reply := &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{}
	b.Run("impl=bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = invoker(ctx, "/grpc.health.v1.Health/Check", req, reply, nil)
		}
	})
	b.Run("impl=bare-timeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			_ = invoker(cctx, "/grpc.health.v1.Health/Check", req, reply, nil)
			cancel()
		}
	})
	for name, cfg := range pipelines(b) {
		c, err := steadygrpc.NewClient(cfg)
		if err != nil {
			b.Fatal(err)
		}
		icpt := c.UnaryClientInterceptor()
		b.Run("impl="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := icpt(ctx, "/grpc.health.v1.Health/Check", req, reply, nil, invoker); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
