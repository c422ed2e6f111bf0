package grpc_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	steadygrpc "github.com/steadyhq/steady/contrib/grpc"
)

// rawCheck sends a Health/Check to s over plain HTTP/2 with the
// grpc-timeout header value timeout, as a client that is not grpc-go may,
// and returns the grpc-status the server answered with.
func rawCheck(t *testing.T, s *server, timeout string) string {
	t.Helper()
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true) // h2c, as gRPC without TLS
	tr := &http.Transport{Protocols: &protocols}
	defer tr.CloseIdleConnections()
	// An empty HealthCheckRequest in gRPC's framing: not compressed,
	// length 0.
	body := strings.NewReader("\x00\x00\x00\x00\x00")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.addr+"/grpc.health.v1.Health/Check", body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	req.Header.Set("Grpc-Timeout", timeout)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	if v := resp.Header.Get("Grpc-Status"); v != "" {
		return v // a trailers-only answer
	}
	return resp.Trailer.Get("Grpc-Status")
}

func TestServer_rawHugeGrpcTimeoutRunsWithMax(t *testing.T) {
	t.Parallel()
	ends := make(chan handlerEnd, 1)
	s := capped(t, steadygrpc.ServerConfig{Max: 100 * time.Millisecond}, waitForEnd(ends))
	start := time.Now()
	// grpc-go honours this as "no limit": without Max, the handler
	// would run for as long as it likes.
	got := rawCheck(t, s, "99999999H")
	assert.Equal(t, "4", got, "DEADLINE_EXCEEDED (%d)", codes.DeadlineExceeded)
	assert.Less(t, time.Since(start), 30*time.Second)
	end := <-ends
	assert.Equal(t, context.DeadlineExceeded, end.cause, "Max ended it")
	assert.WithinDuration(t, start.Add(100*time.Millisecond), end.deadline, 5*time.Second)
}

func TestServer_rawZeroGrpcTimeoutIsAnsweredAtOnce(t *testing.T) {
	t.Parallel()
	ends := make(chan handlerEnd, 1)
	s := capped(t, steadygrpc.ServerConfig{Max: time.Hour}, waitForEnd(ends))
	assert.Equal(t, "4", rawCheck(t, s, "0n"))
	assert.Equal(t, int64(0), s.hits.Load(), "the handler was not called")
}

func TestServer_rawHugeGrpcTimeoutIsUncappedByGRPC(t *testing.T) {
	t.Parallel()
	// What the interceptor guards against: grpc-go itself gives the
	// handler the client's "99999999H", about 11,400 years, or none.
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
	assert.Equal(t, "0", rawCheck(t, s, "99999999H"))
	if d := <-left; d >= 0 {
		assert.Greater(t, d, 365*24*time.Hour)
	}
}
