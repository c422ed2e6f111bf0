package grpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	steadygrpc "github.com/steadyhq/steady/contrib/grpc"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
)

// A failed hedged call hands the caller the header and trailer of the
// attempt whose error it returns, as an unhedged call does: request ids in
// trailers are read after errors too.
func TestHedge_failedCallKeepsItsMetadata(t *testing.T) {
	t.Parallel()
	for _, hedged := range []bool{false, true} {
		s := startServer(t, func(ctx context.Context, _ int64) error {
			_ = grpc.SetHeader(ctx, metadata.Pairs("h", "1"))
			_ = grpc.SetTrailer(ctx, metadata.Pairs("request-id", "abc"))
			return status.Error(codes.InvalidArgument, "bad")
		})
		cfg := steadygrpc.Config{}
		if hedged {
			cfg.Hedge, cfg.Budget = &hedge.Config{Delay: time.Minute}, budget.Unlimited()
		}
		hc := dial(t, s, newClient(t, cfg))
		var header, trailer metadata.MD
		_, err := check(t.Context(), hc, grpc.Header(&header), grpc.Trailer(&trailer))
		assert.Equal(t, codes.InvalidArgument, status.Code(err))
		assert.Equal(t, []string{"abc"}, trailer.Get("request-id"), "hedged=%v: the trailer", hedged)
		assert.Equal(t, []string{"1"}, header.Get("h"), "hedged=%v: the header", hedged)
	}
}

// A losing hedge may still be sending when the call returns; the caller
// may change its request at once (run with -race).
func TestHedge_callerMayReuseItsRequest(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(context.Context, int64) error {
		time.Sleep(time.Millisecond)
		return nil
	})
	c := newClient(t, steadygrpc.Config{Hedge: &hedge.Config{Delay: time.Millisecond, MaxHedges: 3}, Budget: budget.Unlimited()})
	hc := dial(t, s, c)
	req := &healthpb.HealthCheckRequest{}
	for i := range 200 {
		_, err := hc.Check(t.Context(), req)
		require.NoError(t, err)
		req.Service = string(rune('a' + i%26))
	}
	var hedges int64
	for _, h := range c.Hedgers() {
		hedges += h.Snapshot().Hedges
	}
	assert.Positive(t, hedges, "some calls were hedged")
}

// When retries give up on the server's answer, the status the caller gets
// keeps the server's details, and its message reads once "rpc error".
func TestRetry_gaveUpKeepsTheStatusDetails(t *testing.T) {
	t.Parallel()
	withDetails := func(code codes.Code) func(context.Context, int64) error {
		return func(context.Context, int64) error {
			st, err := status.New(code, "bad").WithDetails(&errdetails.BadRequest{
				FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "x"}},
			})
			if err != nil {
				return err
			}
			return st.Err()
		}
	}
	for _, tc := range []struct {
		name string
		code codes.Code
		cfg  steadygrpc.Config
	}{
		{"no policy", codes.InvalidArgument, steadygrpc.Config{}},
		{"a code not retried", codes.InvalidArgument, steadygrpc.Config{Retry: retries(3)}},
		{"retries exhausted", codes.Unavailable, steadygrpc.Config{Retry: retries(3)}},
		{"breaker", codes.InvalidArgument, steadygrpc.Config{Breaker: &breaker.Settings{}}},
		{"timeout", codes.InvalidArgument, steadygrpc.Config{Timeout: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, withDetails(tc.code))
			hc := dial(t, s, newClient(t, tc.cfg))
			_, err := check(t.Context(), hc)
			st, ok := status.FromError(err)
			require.True(t, ok)
			assert.Equal(t, tc.code, st.Code())
			require.Len(t, st.Details(), 1, "the server's details")
			assert.Contains(t, st.Message(), "bad")
			assert.NotContains(t, st.Message(), "rpc error", "%q", st.Message())
			assert.Equal(t, 1, strings.Count(err.Error(), "rpc error"), "%q", err.Error())
		})
	}
}

// A server that caps deadlines with an Offset answers an attempt's
// deadline a little before the attempt's own timer fires: that is still
// the attempt's own limit, and retried.
func TestRetry_anOffsetServerAnswersTheAttemptsLimit(t *testing.T) {
	t.Parallel()
	s := capped(t, steadygrpc.ServerConfig{Max: time.Minute, Offset: 40 * time.Millisecond}, hang(1))
	c := newClient(t, steadygrpc.Config{Timeout: 300 * time.Millisecond, Retry: retries(3), Budget: budget.Unlimited()})
	hc := dial(t, s, c)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := check(ctx, hc)
	require.NoError(t, err, "the second attempt succeeds")
	assert.Equal(t, int64(2), s.hits.Load())
}
