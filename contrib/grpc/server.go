package grpc

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/steadyhq/steady/resilience"
)

// ServerConfig configures the server interceptors
// [UnaryServerInterceptor] and [StreamServerInterceptor], which cap the
// deadline of every call a server handles.
type ServerConfig struct {
	// Max bounds every call's handler, whether the client sent a deadline
	// or not: a client's deadline can only shorten it, never extend it.
	// gRPC itself puts no cap on the grpc-timeout a client sends
	// ("99999999H" is honoured as "never"). It must be > 0.
	Max time.Duration

	// Offset is taken off the client's deadline, to allow for the time
	// the answer takes to go back. A deadline that the Offset uses up, or
	// that has passed, is answered at once with DEADLINE_EXCEEDED. It must
	// be >= 0. A client cancels its call when its own deadline passes, and
	// the server learns the deadline as a time left counted from the
	// request's arrival, so with an Offset below the network's round trip
	// the client's cancellation may reach the handler first, with the
	// cause context.Canceled instead of ErrPropagatedDeadline.
	Offset time.Duration

	// Logger receives a Debug record for each call answered at once
	// because its deadline had passed (or the Offset used it up). nil: log
	// nothing.
	Logger *slog.Logger
}

// Validate returns nil if c is valid, or else its first bad field as a
// [*resilience.ConfigError], e.g. "grpc: ServerConfig.Max is 0s, want >
// 0". The interceptors' constructors call it.
func (c ServerConfig) Validate() error {
	if c.Max <= 0 {
		return &resilience.ConfigError{Pkg: "grpc", Field: "ServerConfig.Max", Value: c.Max, Want: "> 0"}
	}
	if c.Offset < 0 {
		return &resilience.ConfigError{Pkg: "grpc", Field: "ServerConfig.Offset", Value: c.Offset, Want: ">= 0"}
	}
	return nil
}

// UnaryServerInterceptor returns a server interceptor that bounds each
// unary call's handler: its context ends at the earlier of the client's
// deadline less cfg.Offset and cfg.Max from now. When the client's
// deadline ends it, [context.Cause] of the handler's context is
// [resilience.ErrPropagatedDeadline] (so monitor counts a call cut by it
// as a propagated timeout); when Max does, it is
// [context.DeadlineExceeded]. The client's cancellation still reaches the
// handler, with its cause. A call whose deadline has passed, or that the
// Offset uses up, is answered at once with DEADLINE_EXCEEDED, and the
// handler is not called. It returns a *resilience.ConfigError if cfg is
// invalid.
func UnaryServerInterceptor(cfg ServerConfig) (grpc.UnaryServerInterceptor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		hctx, cancel, err := cfg.bound(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		defer cancel()
		return handler(hctx, req)
	}, nil
}

// StreamServerInterceptor returns a server interceptor that bounds each
// streaming call's handler as [UnaryServerInterceptor] bounds a unary
// one: the stream's Context is the bounded one. The stream's own
// RecvMsg and SendMsg still end only with gRPC's context (the client's
// deadline): a handler that must stop at Max selects on its Context's
// Done. It returns a *resilience.ConfigError if cfg is invalid.
func StreamServerInterceptor(cfg ServerConfig) (grpc.StreamServerInterceptor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		hctx, cancel, err := cfg.bound(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		defer cancel()
		return handler(srv, &boundStream{ServerStream: ss, ctx: hctx})
	}, nil
}

// boundStream is a ServerStream whose Context is the bounded one.
type boundStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *boundStream) Context() context.Context { return s.ctx }

// errExpired answers a call whose deadline has passed.
var errExpired = status.Error(codes.DeadlineExceeded, "grpc: the caller's deadline has passed")

// bound returns the handler's context for a call whose gRPC context is
// ctx, or errExpired when the call's deadline leaves no time.
//
// gRPC's context ends at the client's deadline with the cause
// context.DeadlineExceeded. The handler's context is therefore not
// derived from it (at equal instants either cause could win) but from a
// copy that keeps its values and not its end, with a deadline of its own
// (never later than gRPC's); the client's cancellation is passed on by
// hand.
func (c *ServerConfig) bound(ctx context.Context, method string) (context.Context, context.CancelFunc, error) {
	now := time.Now()
	end, cause := now.Add(c.Max), error(context.DeadlineExceeded)
	if dl, ok := ctx.Deadline(); ok {
		left := dl.Sub(now)
		if left <= c.Offset { // not left-Offset <= 0: it could wrap
			if l := c.Logger; l != nil {
				l.LogAttrs(ctx, slog.LevelDebug, "grpc: the caller's deadline has passed; not called",
					slog.String("method", method),
					slog.Duration("left", left),
					slog.Duration("offset", c.Offset),
				)
			}
			return nil, nil, errExpired
		}
		if left-c.Offset < c.Max {
			end, cause = dl.Add(-c.Offset), resilience.ErrPropagatedDeadline
		}
	}
	base, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	hctx, cancelDeadline := context.WithDeadlineCause(base, end, cause)
	unhook := context.AfterFunc(ctx, func() {
		if ctx.Err() == context.DeadlineExceeded {
			// gRPC's deadline, the client's: the handler's, no later,
			// is due too, and ends it with its own cause.
			return
		}
		stop(context.Cause(ctx))
	})
	return hctx, func() {
		unhook()
		cancelDeadline()
		stop(context.Canceled)
	}, nil
}
