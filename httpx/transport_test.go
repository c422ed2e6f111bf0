package httpx_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

func newTransport(t *testing.T, base http.RoundTripper, cfg httpx.Config) *http.Client {
	t.Helper()
	tr, err := httpx.NewTransport(base, cfg)
	require.NoError(t, err)
	return &http.Client{Transport: tr}
}

func TestTransport_retriesAndClosesDiscardedBodies(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(503, 502, 200))
	ct := newCountingTransport(t)
	client := newTransport(t, ct, httpx.Config{Timeout: time.Second, Retry: fastRetry(4)})

	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "OK", string(body))
	assert.EqualValues(t, 3, hits.Load())
	assert.EqualValues(t, 3, ct.opened.Load())
	assert.EqualValues(t, 3, ct.closed.Load(), "every body closed: two discarded by the transport, one by us")
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for _, b := range ct.bodies[:2] {
		assert.Positive(t, b.drawn.Load(), "a discarded body is drained so its connection is reused")
	}
}

func TestTransport_lastRetryableResponseIsReturned(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(503))
	ct := newCountingTransport(t)
	client := newTransport(t, ct, httpx.Config{Retry: fastRetry(3)})

	resp, err := client.Get(srv.URL)
	require.NoError(t, err, "a RoundTripper returns responses, whatever their status")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "Service Unavailable", string(body))
	require.NoError(t, resp.Body.Close())
	assert.EqualValues(t, 3, hits.Load())
	assert.EqualValues(t, 3, ct.closed.Load())
}

func TestTransport_replaysBodyAndSkipsNonIdempotent(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, failFirst("payload"))
	client := newTransport(t, nil, httpx.Config{Retry: fastRetry(3)})

	resp, err := client.Post(srv.URL+"?case=post", "text/plain", strings.NewReader("payload"))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "POST sent once")
	assert.EqualValues(t, 1, hits.Load())

	req, err := http.NewRequest(http.MethodPut, srv.URL+"?case=put", strings.NewReader("payload"))
	require.NoError(t, err)
	resp, err = client.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "PUT retried with its body replayed")
	assert.EqualValues(t, 3, hits.Load())
}

func TestTransport_timeoutCoversBody(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if r.URL.Path == "/slow-headers" {
			sleep(r, 3*time.Second)
		}
		_, _ = w.Write([]byte("start,"))
		w.(http.Flusher).Flush()
		if r.URL.Path == "/slow-body" {
			sleep(r, 3*time.Second)
		}
		_, _ = w.Write([]byte("end"))
	})
	// 500ms: enough for /fast on a loaded machine, far below the 3s sleeps.
	client := newTransport(t, nil, httpx.Config{Timeout: 500 * time.Millisecond})

	start := time.Now()
	_, err := client.Get(srv.URL + "/slow-headers")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var te *timeout.Error
	require.ErrorAs(t, err, &te)
	assert.Less(t, time.Since(start), 2*time.Second)

	resp, err := client.Get(srv.URL + "/slow-body")
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the attempt's limit covers reading the body")
	assert.ErrorAs(t, err, &te)
	assert.Less(t, time.Since(start), 4*time.Second)

	resp, err = client.Get(srv.URL + "/fast")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "start,end", string(body))
	require.NoError(t, resp.Body.Close())
}

func TestTransport_rejectsBadURLWithoutRequest(t *testing.T) {
	t.Parallel()
	ct := newCountingTransport(t)
	tr, err := httpx.NewTransport(ct, httpx.Config{})
	require.NoError(t, err)
	for _, raw := range []string{"ftp://example.com/file", "http://:8080/", "http://127.0.0.1:0/"} {
		req, err := http.NewRequest(http.MethodGet, raw, nil)
		require.NoError(t, err)
		_, err = tr.RoundTrip(req)
		require.ErrorIs(t, err, httpx.ErrInvalidURL, raw)
	}
	assert.Zero(t, ct.opened.Load(), "no request went out")
}

func TestTransport_errorStatusesReachBreakerAndMetrics(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(503))
	m := new(monitor.Metrics)
	client := newTransport(t, nil, httpx.Config{
		Metrics: m,
		Breaker: &breaker.Settings{ConsecutiveFailures: 3, OpenTimeout: time.Minute, Logger: discardLogger()},
	})
	for range 3 {
		resp, err := client.Get(srv.URL)
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		_ = resp.Body.Close()
	}
	_, err := client.Get(srv.URL)
	require.ErrorIs(t, err, breaker.ErrOpen, "three 503s, no retries configured: the breaker opened")
	assert.EqualValues(t, 3, hits.Load())
	s := m.Snapshot()
	assert.EqualValues(t, 3, s.Failures, "the three 503s")
	assert.EqualValues(t, 1, s.Rejected, "the call the open breaker refused")
	assert.Zero(t, s.Successes)
}

func TestTransport_errorResponseHoldsNoConnectionDuringBackoff(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("busy"))
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)

	// The backoff (300ms) outlasts the attempt's limit (100ms): the 503's
	// connection must go back to the pool before the limit can kill it.
	client := newTransport(t, base, httpx.Config{
		Timeout: 100 * time.Millisecond,
		Retry:   &retry.Config{MaxAttempts: 2, BaseDelay: 300 * time.Millisecond},
	})
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, "ok", string(body))
	assert.EqualValues(t, 1, conns.Load(), "one connection, reused for the retry")
}

// ctxRecorder is a real RoundTripper that records the context of each
// request it sends.
type ctxRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	ctxs []context.Context
}

func (c *ctxRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.ctxs = append(c.ctxs, r.Context())
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

func TestTransport_bodyReadToEOFReleasesAttemptContext(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if r.URL.Path == "/long-error" {
			w.WriteHeader(http.StatusNotFound) // longer than what is held in memory
			_, _ = w.Write(make([]byte, 64<<10))
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	rec := &ctxRecorder{base: base}
	client := newTransport(t, rec, httpx.Config{Timeout: time.Minute})

	for i, path := range []string{"/ok", "/long-error"} {
		resp, err := client.Get(srv.URL + path)
		require.NoError(t, err)
		_, err = io.ReadAll(resp.Body)
		require.NoError(t, err, path)
		rec.mu.Lock()
		ctx := rec.ctxs[i]
		rec.mu.Unlock()
		// Not closed yet: the end of the body alone releases the context,
		// and with it the timer of the one-minute limit.
		assert.Error(t, ctx.Err(), "%s: attempt context released at EOF", path)
		require.NoError(t, resp.Body.Close())
	}
}

// toServer returns a transport that dials srv whatever the host, so that
// tests can call many host names.
func toServer(t *testing.T, srv *httptest.Server) *http.Transport {
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// A host with a call in flight is never forgotten: the outcome of that call
// must reach the breaker that the next call asks.
func TestTransport_hostWithCallsInFlightIsNeverForgotten(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		if strings.HasPrefix(r.Host, "sick") {
			stalledBody(w, r, 0)
		}
	})
	tr, err := httpx.NewTransport(toServer(t, srv), httpx.Config{
		Timeout: 300 * time.Millisecond,
		Breaker: &breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour},
	})
	require.NoError(t, err)
	hc := &http.Client{Transport: tr}
	resp, err := hc.Get("http://sick.test/")
	require.NoError(t, err)
	for i := range 1100 { // more hosts than are kept
		r, err := hc.Get(fmt.Sprintf("http://h%d.test/", i))
		require.NoError(t, err)
		_, _ = io.ReadAll(r.Body)
		require.NoError(t, r.Body.Close())
	}
	_, err = io.ReadAll(resp.Body)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the stalled body times out: sick.test's breaker opens")
	require.NoError(t, resp.Body.Close())

	before := hits.Load()
	_, err = hc.Get("http://sick.test/")
	require.ErrorIs(t, err, breaker.ErrOpen, "the breaker that counted the timeout is the one asked")
	assert.Equal(t, before, hits.Load(), "sick.test is not called again")
}

// A response body left unread is settled when the attempt's limit fires, so
// a half-open breaker whose probe's body was forgotten takes the next probe.
func TestTransport_unreadBodySettlesAtTheLimit(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	tr, err := httpx.NewTransport(newCountingTransport(t), httpx.Config{
		Timeout: 50 * time.Millisecond,
		Breaker: &breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Millisecond},
	})
	require.NoError(t, err)
	hc := &http.Client{Transport: tr}
	resp, err := hc.Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	u, _ := url.Parse(srv.URL)
	cb := tr.Breakers()[u.Host]
	require.Equal(t, breaker.StateOpen, cb.State())

	require.Eventually(t, func() bool { return cb.State() == breaker.StateHalfOpen }, 5*time.Second, 5*time.Millisecond)
	forgotten, err := hc.Get(srv.URL) // the probe; its body is left alone
	require.NoError(t, err)
	defer forgotten.Body.Close()

	// Past the limit the probe counts as timed out, the breaker reopens,
	// and after OpenTimeout a new probe gets through.
	require.Eventually(t, func() bool {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return true
	}, 5*time.Second, 10*time.Millisecond, "the breaker never took another probe: %v", cb.State())
}

// A 101 response's body is the connection, writable, as net/http gives it.
func TestTransport_switchingProtocolsBodyIsTheConnection(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
		b := make([]byte, 4)
		if _, err := io.ReadFull(brw, b); err == nil {
			_, _ = conn.Write(b)
		}
	})
	m := new(monitor.Metrics)
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	tr, err := httpx.NewTransport(base, httpx.Config{Timeout: time.Second, Metrics: m})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	rw, ok := resp.Body.(io.ReadWriteCloser)
	require.True(t, ok, "the body is %T", resp.Body)
	_, err = rw.Write([]byte("ping"))
	require.NoError(t, err)
	got := make([]byte, 4)
	_, err = io.ReadFull(rw, got)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(got))
	assert.EqualValues(t, 1, m.Snapshot().Successes, "the switch is the call")
}

// Without retries, an error status is handed over with its headers, as any
// RoundTripper does: its body is not read first.
func TestTransport_errorStatusWithoutRetriesDoesNotWaitForTheBody(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		w.WriteHeader(http.StatusNotFound)
		w.(http.Flusher).Flush()
		sleep(r, 3*time.Second)
		_, _ = io.WriteString(w, "gone")
	})
	tr, err := httpx.NewTransport(newCountingTransport(t), httpx.Config{})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	start := time.Now()
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 2*time.Second, "returned long before the body's 3 s")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.NoError(t, resp.Body.Close())
}

// A request whose deadline had passed before it was sent is counted as
// rejected, as monitor.Monitor counts it, not as a timeout of the host.
func TestTransport_requestAlreadyPastItsDeadlineIsRejected(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(http.StatusOK))
	m := new(monitor.Metrics)
	tr, err := httpx.NewTransport(newCountingTransport(t), httpx.Config{Metrics: m})
	require.NoError(t, err)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	_, err = tr.RoundTrip(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	s := m.Snapshot()
	assert.EqualValues(t, 1, s.Rejected, "%v", s)
	assert.Zero(t, s.Timeouts)
	assert.Zero(t, hits.Load())
}
