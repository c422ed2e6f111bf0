package grpc

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
)

// grpc-go's server context ends at the client's deadline with the cause
// context.DeadlineExceeded; the handler's must end then with the cause
// ErrPropagatedDeadline, though both end at the same instant.
func TestBound_propagatedCauseWinsAtEqualInstants(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		grpcCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		cfg := ServerConfig{Max: time.Hour}
		hctx, stop, err := cfg.bound(grpcCtx, "/m")
		require.NoError(t, err)
		defer stop()
		<-hctx.Done()
		assert.Equal(t, resilience.ErrPropagatedDeadline, context.Cause(hctx))
		assert.Equal(t, context.DeadlineExceeded, hctx.Err())
	})
}

func TestBound_causes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    ServerConfig
		client time.Duration // the client's time left; 0: none
		cancel bool          // the client cancels after 10ms
		cause  error
		after  time.Duration // when the handler's context ends
	}{
		{"max, no client deadline", ServerConfig{Max: time.Second}, 0, false, context.DeadlineExceeded, time.Second},
		{"max before the client's deadline", ServerConfig{Max: time.Second}, time.Hour, false, context.DeadlineExceeded, time.Second},
		{"client's deadline before max", ServerConfig{Max: time.Hour}, time.Second, false, resilience.ErrPropagatedDeadline, time.Second},
		{"client's deadline less the offset", ServerConfig{Max: time.Hour, Offset: 300 * time.Millisecond}, time.Second, false, resilience.ErrPropagatedDeadline, 700 * time.Millisecond},
		{"client's cancellation", ServerConfig{Max: time.Hour}, time.Second, true, context.Canceled, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				grpcCtx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.client > 0 {
					grpcCtx, cancel = context.WithTimeout(grpcCtx, tc.client)
					defer cancel()
				}
				if tc.cancel {
					time.AfterFunc(10*time.Millisecond, cancel)
				}
				start := time.Now()
				hctx, stop, err := tc.cfg.bound(grpcCtx, "/m")
				require.NoError(t, err)
				defer stop()
				<-hctx.Done()
				assert.Equal(t, tc.cause, context.Cause(hctx))
				assert.Equal(t, tc.after, time.Since(start))
			})
		})
	}
}

func TestBound_noTimeLeft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, left := range []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond} {
			grpcCtx, cancel := context.WithTimeout(context.Background(), left)
			cfg := ServerConfig{Max: time.Hour, Offset: 300 * time.Millisecond}
			_, _, err := cfg.bound(grpcCtx, "/m")
			assert.Equal(t, errExpired, err, "left %v", left)
			cancel()
		}
	})
}
