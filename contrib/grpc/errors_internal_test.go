package grpc

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

func TestStatusOf(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "down")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		code codes.Code
	}{
		{"retry gave up", context.Background(), &retry.Error{Attempts: 3, Err: &attemptError{err: unavailable}}, codes.Unavailable},
		{"open breaker", context.Background(), &breaker.OpenError{Name: "t", State: breaker.StateOpen}, codes.Unavailable},
		{"a timeout of a policy", context.Background(), &timeout.Error{Duration: time.Second, Err: context.DeadlineExceeded}, codes.DeadlineExceeded},
		{"the caller canceled", canceled, &retry.Error{Attempts: 1, Err: &attemptError{err: unavailable}}, codes.Canceled},
		{"anything else", context.Background(), errors.New("boom"), codes.Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := statusOf(tc.ctx, tc.err)
			st, ok := status.FromError(err)
			require.True(t, ok, "a gRPC status error")
			assert.Equal(t, tc.code, st.Code())
			assert.ErrorIs(t, err, tc.err, "errors.Is sees what the policies returned")
		})
	}
	assert.Same(t, unavailable, statusOf(context.Background(), &attemptError{err: unavailable}), "gRPC's own error, unchanged")
}

func TestStatusOf_message(t *testing.T) {
	err := statusOf(context.Background(), &breaker.OpenError{Name: "t", State: breaker.StateHalfOpen})
	assert.EqualError(t, err, `rpc error: code = Unavailable desc = breaker "t": circuit half-open, probe slots taken`)
	assert.Equal(t, `breaker "t": circuit half-open, probe slots taken`, status.Convert(err).Message())
}

func TestClassify(t *testing.T) {
	live := context.Background()
	expired, cancel := context.WithDeadline(live, time.Now().Add(-time.Second))
	defer cancel()
	// Attempts whose deadline has not quite come: the server answered a
	// little early (an Offset), or long before (its own limit).
	nearly, cancel := context.WithDeadline(live, time.Now().Add(20*time.Millisecond))
	defer cancel()
	far, cancel := context.WithDeadline(live, time.Now().Add(time.Hour))
	defer cancel()
	callerNearly, cancel := context.WithDeadline(live, time.Now().Add(20*time.Millisecond))
	defer cancel()
	for _, tc := range []struct {
		name       string
		ctx        context.Context // the attempt's
		code       codes.Code
		trailer    metadata.MD
		retryable  bool
		timeout    bool
		retryAfter time.Duration
	}{
		{"unavailable", live, codes.Unavailable, nil, true, false, 0},
		{"resource exhausted", live, codes.ResourceExhausted, nil, true, false, 0},
		{"the attempt's own limit", expired, codes.DeadlineExceeded, nil, true, true, 0},
		{"the server's deadline", live, codes.DeadlineExceeded, nil, false, true, 0},
		{"answered early for the attempt's limit", nearly, codes.DeadlineExceeded, nil, true, true, 0},
		{"the server's own limit, long before the attempt's", far, codes.DeadlineExceeded, nil, false, true, 0},
		{"the caller's deadline, answered early", callerNearly, codes.DeadlineExceeded, nil, false, true, 0},
		{"invalid argument", live, codes.InvalidArgument, nil, false, false, 0},
		{"pushback", live, codes.Unavailable, metadata.Pairs(PushbackTrailer, "250"), true, false, 250 * time.Millisecond},
		{"pushback zero", live, codes.Unavailable, metadata.Pairs(PushbackTrailer, "0"), true, false, time.Nanosecond},
		{"pushback huge", live, codes.Unavailable, metadata.Pairs(PushbackTrailer, "9223372036854775807"), true, false, math.MaxInt64},
		{"pushback negative", live, codes.Unavailable, metadata.Pairs(PushbackTrailer, "-5"), false, false, 0},
		{"pushback garbage", live, codes.Unavailable, metadata.Pairs(PushbackTrailer, "5ms"), false, false, 0},
		{"pushback twice", live, codes.Unavailable, metadata.Pairs(PushbackTrailer, "5", PushbackTrailer, "6"), false, false, 0},
		{"pushback on a code not retried", live, codes.InvalidArgument, metadata.Pairs(PushbackTrailer, "5"), false, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := &call{c: &Client{}, ctx: live, method: "/m"}
			if tc.ctx == callerNearly {
				cl.ctx = callerNearly // the attempt's deadline is the caller's
			}
			err := cl.classify(tc.ctx, time.Now().Add(-time.Second), status.Error(tc.code, "x"), tc.trailer)
			var ae *attemptError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.retryable, ae.Retryable(), "Retryable")
			assert.Equal(t, tc.timeout, ae.Timeout(), "Timeout")
			assert.Equal(t, tc.retryAfter, ae.RetryAfter(), "RetryAfter")
			assert.Equal(t, tc.retryable, retry.IsRetryable(err), "retry agrees")
			assert.Equal(t, tc.timeout, resilience.IsTimeout(err), "resilience agrees")
		})
	}
}
