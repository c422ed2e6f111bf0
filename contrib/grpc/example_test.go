package grpc_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	steadygrpc "github.com/steadyhq/steady/contrib/grpc"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/retry"
)

// flaky is a health service that answers UNAVAILABLE to the first failures
// calls and SERVING after that, or waits for its context when hang is set.
type flaky struct {
	healthpb.UnimplementedHealthServer
	failures int64
	hang     bool
	calls    atomic.Int64
}

func (f *flaky) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if f.hang {
		<-ctx.Done()
		fmt.Println("handler ended:", context.Cause(ctx))
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if f.calls.Add(1) <= f.failures {
		return nil, status.Error(codes.Unavailable, "warming up")
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// serve starts a gRPC server with svc on loopback and returns its address
// and a func that stops it.
func serve(svc healthpb.HealthServer, opts ...grpc.ServerOption) (string, func()) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, svc)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	return lis.Addr().String(), func() { srv.Stop(); <-done }
}

// Retries of UNAVAILABLE, with the attempt limit sent to the server as
// each attempt's deadline.
func Example() {
	svc := &flaky{failures: 2}
	addr, stop := serve(svc)
	defer stop()

	c, err := steadygrpc.NewClient(steadygrpc.Config{
		Timeout: time.Second, // each attempt
		Retry:   &retry.Config{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
	})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(c.UnaryClientInterceptor()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	fmt.Println(resp.GetStatus(), err, "after", svc.calls.Load(), "attempts")
	// Output: SERVING <nil> after 3 attempts
}

// A breaker per target: once open, calls fail fast with UNAVAILABLE and
// breaker.ErrOpen, without reaching the server.
func ExampleClient_Breakers() {
	svc := &flaky{failures: 100}
	addr, stop := serve(svc)
	defer stop()

	c, err := steadygrpc.NewClient(steadygrpc.Config{
		Breaker: &breaker.Settings{ConsecutiveFailures: 2, OpenTimeout: time.Minute},
	})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(c.UnaryClientInterceptor()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)

	for range 3 {
		_, err = hc.Check(context.Background(), &healthpb.HealthCheckRequest{})
		fmt.Println(status.Code(err), errors.Is(err, breaker.ErrOpen))
	}
	fmt.Println("server calls:", svc.calls.Load())
	for target, cb := range c.Breakers() {
		fmt.Println(target == conn.Target(), cb.State())
	}
	// Output:
	// Unavailable false
	// Unavailable false
	// Unavailable true
	// server calls: 2
	// true open
}

// A server that runs no call longer than its Max, whatever deadline the
// client sends; the client's own deadline, when shorter, ends the handler
// with the cause resilience.ErrPropagatedDeadline.
func ExampleUnaryServerInterceptor() {
	capped, err := steadygrpc.UnaryServerInterceptor(steadygrpc.ServerConfig{
		Max:    200 * time.Millisecond,
		Offset: 100 * time.Millisecond, // more than a round trip, loaded or not
	})
	if err != nil {
		log.Fatal(err)
	}
	addr, stop := serve(&flaky{hang: true}, grpc.UnaryInterceptor(capped))
	defer stop()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)

	// A client that would wait a day: Max ends the handler.
	ctx, cancel := context.WithTimeout(context.Background(), 24*time.Hour)
	_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{})
	cancel()
	fmt.Println(status.Code(err))

	// A client with 250ms left: its deadline less the Offset (about
	// 150ms from now) comes before Max, and ends the handler.
	ctx, cancel = context.WithTimeout(context.Background(), 250*time.Millisecond)
	_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{})
	cancel()
	fmt.Println(status.Code(err))
	fmt.Println(errors.Is(resilience.ErrPropagatedDeadline, context.DeadlineExceeded))
	// Output:
	// handler ended: context deadline exceeded
	// DeadlineExceeded
	// handler ended: the caller's propagated deadline passed: context deadline exceeded
	// DeadlineExceeded
	// true
}

// A bad configuration is an error from NewClient that names the field.
func ExampleNewClient() {
	_, err := steadygrpc.NewClient(steadygrpc.Config{Timeout: -time.Second})
	fmt.Println(err)
	fmt.Println(errors.Is(err, resilience.ErrInvalidConfig))
	// Output:
	// grpc: Config.Timeout is -1s, want >= 0
	// true
}
