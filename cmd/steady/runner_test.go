package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/timeout"
)

// sleeper returns a caller that takes d and fails every third call, and
// the highest number of calls it saw at once.
func sleeper(d time.Duration) (caller, *atomic.Int64) {
	var now, peak, n atomic.Int64
	return func(ctx context.Context) (int, error) {
		cur := now.Add(1)
		defer now.Add(-1)
		for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return 1, ctx.Err()
		}
		if n.Add(1)%3 == 0 {
			return 1, errors.New("boom")
		}
		return 1, nil
	}, &peak
}

func TestRunPhase_pacesRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		do, peak := sleeper(50 * time.Millisecond)
		var tl tally
		calls, wall, err := runPhase(t.Context(), load{requests: 10, concurrency: 3, interval: 20 * time.Millisecond}, do, &tl)
		require.NoError(t, err)
		require.Len(t, calls, 10)
		for i, c := range calls {
			assert.Equal(t, time.Duration(i)*20*time.Millisecond, c.start, "request %d starts on schedule", i)
			assert.Equal(t, 50*time.Millisecond, c.latency)
			assert.Equal(t, 1, c.attempts)
		}
		assert.Equal(t, 9*20*time.Millisecond+50*time.Millisecond, wall)
		assert.LessOrEqual(t, peak.Load(), int64(3))
		assert.Equal(t, int64(10), tl.done.Load())
		assert.Equal(t, int64(7), tl.ok.Load())
		assert.Zero(t, tl.inFlight.Load())
	})
}

func TestRunPhase_concurrencyBoundsWithoutRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		do, peak := sleeper(100 * time.Millisecond)
		calls, wall, err := runPhase(t.Context(), load{requests: 6, concurrency: 2}, do, &tally{})
		require.NoError(t, err)
		assert.Equal(t, 300*time.Millisecond, wall, "6 calls of 100ms, 2 at a time")
		assert.Equal(t, int64(2), peak.Load())
		errs := 0
		for _, c := range calls {
			if c.err != nil {
				errs++
			}
		}
		assert.Equal(t, 2, errs, "every call's result is kept")
	})
}

func TestRunPhase_moreWorkersThanRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		do, peak := sleeper(time.Millisecond)
		calls, _, err := runPhase(t.Context(), load{requests: 2, concurrency: 50}, do, &tally{})
		require.NoError(t, err)
		assert.Len(t, calls, 2)
		assert.Equal(t, int64(2), peak.Load())
	})
}

func TestRunPhase_stopsWhenCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(250*time.Millisecond, cancel)
		do, _ := sleeper(time.Hour)
		var tl tally
		_, wall, err := runPhase(ctx, load{requests: 100, concurrency: 4, interval: 100 * time.Millisecond}, do, &tl)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 250*time.Millisecond, wall, "in-flight calls end with the context, and no new one starts")
		assert.Equal(t, int64(3), tl.done.Load(), "the calls sent at 0, 100ms and 200ms")
	})
}

func TestPlainCaller(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 2 {
			http.Error(w, "nope", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	tr := newTransport(1)
	t.Cleanup(tr.closeIdle)
	do := plainCaller(&http.Client{Transport: tr}, srv.URL)

	n, err := do(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	_, err = do(t.Context())
	var se *httpx.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, &httpx.StatusError{Method: "GET", URL: srv.URL, StatusCode: 404}, se)
	assert.Equal(t, "HTTP 404", cause(err))
	assert.Equal(t, int64(2), tr.n.Load(), "the transport counts every request sent")
}

func TestSteadyCaller_attempts(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.Error(w, "again", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	tr := newTransport(1)
	t.Cleanup(tr.closeIdle)
	c, err := httpx.NewClient(httpx.Config{Retry: &retryNow, HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)

	n, err := steadyCaller(c, srv.URL)(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, n, "succeeded on the second attempt")
	assert.Equal(t, int64(2), tr.n.Load())
}

func TestOutcomeAndCause(t *testing.T) {
	const (
		succeeded = resilience.OutcomeSuccess
		failed    = resilience.OutcomeFailure
		timedOut  = resilience.OutcomeTimeout
		rejected  = resilience.OutcomeRejected
	)
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name  string
		err   error
		want  resilience.Outcome
		cause string
	}{
		{"success", nil, succeeded, ""},
		{"plain status", &httpx.StatusError{Method: "GET", URL: "u", StatusCode: 503}, failed, "HTTP 503"},
		{"httpx status", fmt.Errorf("gave up: %w", &httpx.StatusError{Method: "GET", URL: "u", StatusCode: 429}), failed, "HTTP 429"},
		{"breaker open", fmt.Errorf("x: %w", &breaker.OpenError{Name: "h", State: breaker.StateOpen}), rejected, "circuit open"},
		{"attempt timeout", &timeout.Error{Duration: time.Second, Err: context.DeadlineExceeded}, timedOut, "timeout"},
		{"deadline", context.DeadlineExceeded, timedOut, "timeout"},
		{"canceled", fmt.Errorf("get: %w", context.Canceled), failed, "canceled"},
		{"connection refused", refused, failed, "connection refused"},
		{"connection reset", &url.Error{Op: "Get", URL: "u", Err: syscall.ECONNRESET}, failed, "connection reset"},
		{"EOF", &url.Error{Op: "Get", URL: "u", Err: io.EOF}, failed, "connection closed"},
		{"DNS", &url.Error{Op: "Get", URL: "u", Err: &net.DNSError{Err: "no such host", Name: "x.invalid"}}, failed, "DNS error"},
		{"body too large", fmt.Errorf("x: %w", httpx.ErrBodyTooLarge), failed, "body too large"},
		{"other", errors.New("boom"), failed, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, outcomeOf(tc.err))
			assert.Equal(t, tc.cause, cause(tc.err))
		})
	}
}

// A countingTransport is shared by the goroutines of a phase.
func TestCountingTransport_concurrent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	tr := newTransport(4)
	t.Cleanup(tr.closeIdle)
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				resp, err := hc.Get(srv.URL)
				if assert.NoError(t, err) {
					_ = resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(40), tr.n.Load())
}

// A hedge that runs alongside an attempt is not a try; a retry is.
func TestSteadyCaller_hedgesAreNotTries(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch hits.Add(1) {
		case 1:
			<-r.Context().Done() // slow: hedged, then canceled when the hedge wins
			return
		case 2:
			http.Error(w, "again", http.StatusServiceUnavailable) // the hedge fails: retried
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	tr := newTransport(2)
	t.Cleanup(tr.closeIdle)
	c, err := httpx.NewClient(httpx.Config{
		Retry:      &retryNow,
		Timeout:    300 * time.Millisecond,
		Hedge:      &hedge.Config{Delay: 20 * time.Millisecond},
		HTTPClient: &http.Client{Transport: tr},
	})
	require.NoError(t, err)

	n, err := steadyCaller(c, srv.URL)(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the first try and its hedge, then a retry")
	assert.GreaterOrEqual(t, tr.n.Load(), int64(3))
}

// Each call's deadline counts from when it was due, as its latency does:
// a call sent late, because every worker was busy, has less time left, and
// one sent after its deadline fails at once.
func TestRunPhase_deadlineFromDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		do, _ := sleeper(50 * time.Millisecond)
		calls, wall, err := runPhase(t.Context(), load{requests: 4, concurrency: 1, interval: 10 * time.Millisecond, deadline: 60 * time.Millisecond}, do, &tally{})
		require.NoError(t, err)
		require.Len(t, calls, 4)
		// Call 0: due and sent at 0, done at 50ms.
		assert.Equal(t, call{due: 0, start: 0, latency: 50 * time.Millisecond, attempts: 1}, calls[0])
		// Call 1: due at 10ms, sent at 50ms, its deadline at 70ms.
		assert.Equal(t, 10*time.Millisecond, calls[1].due)
		assert.Equal(t, 50*time.Millisecond, calls[1].start)
		assert.Equal(t, 60*time.Millisecond, calls[1].latency, "from due to the deadline")
		assert.ErrorIs(t, calls[1].err, context.DeadlineExceeded)
		// Call 2: due at 20ms, sent at 70ms, deadline at 80ms.
		assert.Equal(t, 60*time.Millisecond, calls[2].latency)
		assert.ErrorIs(t, calls[2].err, context.DeadlineExceeded)
		// Call 3: due at 30ms, sent at 80ms, deadline at 90ms.
		assert.Equal(t, 80*time.Millisecond, calls[3].start)
		assert.ErrorIs(t, calls[3].err, context.DeadlineExceeded)
		assert.Equal(t, 90*time.Millisecond, wall)
	})
}

// Without a rate, a call is due when it is sent; without a deadline, it
// runs as long as it takes.
func TestRunPhase_noRateNoDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		do, _ := sleeper(time.Minute)
		calls, _, err := runPhase(t.Context(), load{requests: 2, concurrency: 1}, do, &tally{})
		require.NoError(t, err)
		assert.Equal(t, call{due: time.Minute, start: time.Minute, latency: time.Minute, attempts: 1}, calls[1])
	})
}
