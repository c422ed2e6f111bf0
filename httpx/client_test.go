package httpx_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
)

// fastRetry retries quickly, so tests spend no time in backoff.
func fastRetry(attempts int) *retry.Config {
	return &retry.Config{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
}

func TestNewClient_validation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   httpx.Config
		field string
	}{
		{"negative timeout", httpx.Config{Timeout: -time.Second}, "Config.Timeout"},
		{"negative body size", httpx.Config{MaxBodySize: -1}, "Config.MaxBodySize"},
		{"bad retry", httpx.Config{Retry: &retry.Config{Multiplier: 0.5}}, "Config.Multiplier"},
		{"bad breaker", httpx.Config{Breaker: &breaker.Settings{FailureRate: 2}}, "FailureRate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := httpx.NewClient(tc.cfg)
			require.ErrorIs(t, err, resilience.ErrInvalidConfig)
			assert.ErrorContains(t, err, tc.field)
			_, err = httpx.NewTransport(nil, tc.cfg)
			require.ErrorIs(t, err, resilience.ErrInvalidConfig)
			assert.Equal(t, err, tc.cfg.Validate(), "Validate reports what the constructors do")
		})
	}
	_, err := httpx.NewClient(httpx.Config{})
	assert.NoError(t, err, "the zero Config is valid")
	assert.NoError(t, httpx.Config{}.Validate())
}

func TestClient_bodiesClosedAcrossRetries(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(503, 500, 429, 200))
	ct := newCountingTransport(t)
	c := httptestClient(t, httpx.Config{Timeout: time.Second, Retry: fastRetry(5), HTTPClient: &http.Client{Transport: ct}})

	resp, err := c.Get(t.Context(), srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "OK", string(resp.Body))
	assert.EqualValues(t, 4, hits.Load())
	assert.EqualValues(t, 4, ct.opened.Load())
	assert.EqualValues(t, 4, ct.closed.Load(), "every response body closed")
}

func TestClient_postNotRetriedUnlessAsked(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, failFirst("payload"))
	post := func(t *testing.T, c *httpx.Client, name, key string) (*httpx.APIResponse, error) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"?case="+name, strings.NewReader("payload"))
		require.NoError(t, err)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		return c.Do(t.Context(), req)
	}

	plain := httptestClient(t, httpx.Config{Retry: fastRetry(3)})
	resp, err := post(t, plain, "plain", "")
	var se *httpx.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 1, resp.Attempts, "POST is not retried by default")

	resp, err = post(t, plain, "keyed", "key-1")
	require.NoError(t, err, "POST with an Idempotency-Key is retried, its body replayed")
	assert.Equal(t, 2, resp.Attempts)

	asked := httptestClient(t, httpx.Config{Retry: fastRetry(3), RetryNonIdempotent: true})
	resp, err = post(t, asked, "asked", "")
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.EqualValues(t, 5, hits.Load())
}

// retryingClientLoggingTo returns a Client with fast retries whose Logger
// writes Debug lines and up to w.
func retryingClientLoggingTo(t *testing.T, w io.Writer) *httpx.Client {
	return httptestClient(t, httpx.Config{
		Retry:  fastRetry(3),
		Logger: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
}

func TestClient_bodyWithoutGetBodyIsSentOnce(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(503, 200))
	var logged bytes.Buffer
	c := retryingClientLoggingTo(t, &logged)
	req, err := http.NewRequest(http.MethodPut, srv.URL, io.NopCloser(bytes.NewReader([]byte("x"))))
	require.NoError(t, err)
	require.Nil(t, req.GetBody)
	_, err = c.Do(t.Context(), req)
	var se *httpx.StatusError
	require.ErrorAs(t, err, &se)
	assert.EqualValues(t, 1, hits.Load(), "a body that cannot be replayed is not retried")
	assert.Contains(t, logged.String(), "level=DEBUG msg=\"httpx: failed request not retried\" method=PUT")
	assert.Contains(t, logged.String(), "reason=\"the request body cannot be replayed (no GetBody)\"",
		"the skipped retry is said, not silent")
}

func TestClient_unkeyedPostNotRetriedIsLogged(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(503, 200))
	var logged bytes.Buffer
	c := retryingClientLoggingTo(t, &logged)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/?token=s3cret", strings.NewReader("x"))
	require.NoError(t, err)
	_, err = c.Do(t.Context(), req)
	require.Error(t, err)
	assert.EqualValues(t, 1, hits.Load())
	assert.Contains(t, logged.String(), "method POST is not idempotent")
	assert.NotContains(t, logged.String(), "s3cret")

	// A call that fails with an error no retry would help logs nothing.
	logged.Reset()
	srv404, _ := server(t, statuses(404))
	req, err = http.NewRequest(http.MethodPost, srv404.URL, strings.NewReader("x"))
	require.NoError(t, err)
	_, err = c.Do(t.Context(), req)
	require.Error(t, err)
	assert.Empty(t, logged.String())
}

func TestClient_metricsRecordLogicalCalls(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		switch r.URL.Path {
		case "/flaky":
			if hit%2 == 1 {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
		case "/slow":
			sleep(r, 3*time.Second)
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	m := new(monitor.Metrics)
	// 500ms: room for a loaded machine to answer /flaky and /missing,
	// far below /slow's 3s.
	c := httptestClient(t, httpx.Config{Timeout: 500 * time.Millisecond, Retry: fastRetry(2), Metrics: m})

	_, err := c.Get(t.Context(), srv.URL+"/flaky")
	require.NoError(t, err)
	_, err = c.Get(t.Context(), srv.URL+"/slow")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = c.Get(t.Context(), srv.URL+"/missing")
	require.Error(t, err)

	s := m.Snapshot()
	assert.EqualValues(t, 3, s.Total, "one record per logical call, not per attempt")
	assert.EqualValues(t, 1, s.Successes)
	assert.EqualValues(t, 1, s.Timeouts)
	assert.EqualValues(t, 1, s.Failures)
}

func TestClient_breakerPerHost(t *testing.T) {
	t.Parallel()
	down, downHits := server(t, statuses(503))
	up, upHits := server(t, statuses(200))
	c := httptestClient(t, httpx.Config{Breaker: &breaker.Settings{ConsecutiveFailures: 3, OpenTimeout: time.Minute}})

	for range 3 {
		_, err := c.Get(t.Context(), down.URL)
		var se *httpx.StatusError
		require.ErrorAs(t, err, &se)
	}
	start := time.Now()
	_, err := c.Get(t.Context(), down.URL)
	require.ErrorIs(t, err, breaker.ErrOpen)
	assert.Less(t, time.Since(start), time.Second)
	assert.EqualValues(t, 3, downHits.Load(), "the open breaker sent nothing upstream")

	resp, err := c.Get(t.Context(), up.URL)
	require.NoError(t, err, "another host has its own breaker")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.EqualValues(t, 1, upHits.Load())

	bs := c.Breakers()
	require.Len(t, bs, 2)
	assert.Equal(t, breaker.StateOpen, bs[strings.TrimPrefix(down.URL, "http://")].State())
	assert.Equal(t, breaker.StateClosed, bs[strings.TrimPrefix(up.URL, "http://")].State())
}

func TestClient_openBreakerStopsRetries(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(503))
	c := httptestClient(t, httpx.Config{
		Retry:   fastRetry(10),
		Breaker: &breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Minute},
	})
	_, err := c.Get(t.Context(), srv.URL)
	require.Error(t, err)
	// Breaker outside Retry: it sees one logical call, a failure; the next
	// call is rejected without any attempt.
	_, err = c.Get(t.Context(), srv.URL)
	require.ErrorIs(t, err, breaker.ErrOpen)
	assert.EqualValues(t, 10, hits.Load())
}

func TestClient_nilRequest(t *testing.T) {
	t.Parallel()
	c := httptestClient(t, httpx.Config{})
	_, err := c.Do(t.Context(), nil)
	assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
	req, _ := http.NewRequest(http.MethodGet, "ftp://example.com", nil)
	_, err = c.Do(t.Context(), req)
	assert.ErrorIs(t, err, httpx.ErrInvalidURL)
	assert.False(t, errors.Is(err, resilience.ErrInvalidConfig))
}

func TestClient_breakerIgnoresClientErrors(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	c := httptestClient(t, httpx.Config{Breaker: &breaker.Settings{ConsecutiveFailures: 2, OpenTimeout: time.Minute}})
	for range 5 {
		_, err := c.Get(t.Context(), srv.URL+"/missing")
		var se *httpx.StatusError
		require.ErrorAs(t, err, &se)
	}
	resp, err := c.Get(t.Context(), srv.URL+"/healthy")
	require.NoError(t, err, "404s show the host is up: they do not open its breaker")
	assert.Equal(t, "ok", string(resp.Body))
	assert.EqualValues(t, 6, hits.Load())
}

func TestClient_headIgnoresDeclaredLength(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		w.Header().Set("Content-Length", "100")
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(strings.Repeat("x", 100)))
		}
	})
	c := httptestClient(t, httpx.Config{MaxBodySize: 10})
	req, err := http.NewRequest(http.MethodHead, srv.URL, nil)
	require.NoError(t, err)
	resp, err := c.Do(t.Context(), req)
	require.NoError(t, err, "a HEAD response has no body to be too large")
	assert.Equal(t, "100", resp.Header.Get("Content-Length"))

	_, err = c.Get(t.Context(), srv.URL)
	require.ErrorIs(t, err, httpx.ErrBodyTooLarge, "the GET brings the 100 bytes")
}

func TestClient_hugeBodyLimit(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, statuses(200))
	c := httptestClient(t, httpx.Config{MaxBodySize: math.MaxInt64})
	resp, err := c.Get(t.Context(), srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "OK", string(resp.Body))
}

// closeRecorder is a request body that records whether it was closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (b *closeRecorder) Close() error { b.closed = true; return nil }

func TestClientAndTransport_closeRequestBodyOnEarlyErrors(t *testing.T) {
	t.Parallel()
	c := httptestClient(t, httpx.Config{})
	tr, err := httpx.NewTransport(nil, httpx.Config{})
	require.NoError(t, err)
	ftp, _ := url.Parse("ftp://example.com/")
	tests := []struct {
		name string
		url  *url.URL
		ctx  context.Context
	}{
		{"unsupported scheme", ftp, t.Context()},
		{"nil URL", nil, t.Context()},
		{"nil context", ftp, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := &closeRecorder{Reader: strings.NewReader("payload")}
			req := &http.Request{Method: http.MethodPost, URL: tc.url, Header: http.Header{}, Body: body}
			_, err := c.Do(tc.ctx, req)
			require.Error(t, err)
			assert.True(t, body.closed, "Client.Do closes the body, as http.Client.Do does")

			if tc.ctx == nil {
				return // a RoundTripper has no context argument
			}
			body = &closeRecorder{Reader: strings.NewReader("payload")}
			req = &http.Request{Method: http.MethodPost, URL: tc.url, Header: http.Header{}, Body: body}
			_, err = tr.RoundTrip(req.WithContext(tc.ctx))
			require.Error(t, err)
			assert.True(t, body.closed, "Transport.RoundTrip closes the body, as a RoundTripper must")
		})
	}
}

func TestClient_breakersKeptForABoundedNumberOfHosts(t *testing.T) {
	t.Parallel()
	const maxHosts, sick = 1024, 3 // maxHosts as documented on Config.Breaker
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		if strings.HasPrefix(r.Host, "sick") {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	c := httptestClient(t, httpx.Config{
		HTTPClient: &http.Client{Transport: toServer(t, srv)}, // every host name leads to srv
		Breaker:    &breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour},
	})
	for i := range sick {
		_, err := c.Get(t.Context(), fmt.Sprintf("http://sick%d.test/", i))
		require.Error(t, err)
	}
	for i := range maxHosts + 100 {
		_, err := c.Get(t.Context(), fmt.Sprintf("http://h%d.test/", i))
		require.NoError(t, err)
	}
	bs := c.Breakers()
	assert.LessOrEqual(t, len(bs), maxHosts)
	for i := range sick {
		cb := bs[fmt.Sprintf("sick%d.test", i)]
		require.NotNil(t, cb, "an open breaker is never forgotten")
		assert.Equal(t, breaker.StateOpen, cb.State())
	}
	assert.Contains(t, bs, fmt.Sprintf("h%d.test", maxHosts+99), "the most recent host is kept")
}

// Webhooks to many dead hosts: every breaker opens and none is called
// again. The table stays bounded all the same.
func TestClient_deadHostsStayBounded(t *testing.T) {
	t.Parallel()
	const maxHosts = 1024 // as documented on Config.Breaker
	srv, _ := server(t, statuses(http.StatusServiceUnavailable))
	c := httptestClient(t, httpx.Config{
		HTTPClient: &http.Client{Transport: toServer(t, srv)},
		Breaker:    &breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour},
	})
	for i := range maxHosts + 100 {
		_, err := c.Get(t.Context(), fmt.Sprintf("http://dead%d.test/", i))
		require.Error(t, err)
	}
	bs := c.Breakers()
	assert.LessOrEqual(t, len(bs), maxHosts)
	assert.Contains(t, bs, fmt.Sprintf("dead%d.test", maxHosts+99), "the most recent host is kept")
}

// With Breaker.MaxWaiting, a call made while the host's breaker is open
// waits for the host to come back, sending nothing until a probe does. A
// call that is the probe returns the probe's answer (it is never sent
// twice), so the host here recovers before the first probe.
func TestClient_breakerMaxWaitingWaitsForRecovery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		transport bool
		downFor   time.Duration
	}{{"client", false, 50 * time.Millisecond}, {"transport", true, 50 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			var down atomic.Bool
			down.Store(true)
			srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
				if down.Load() {
					http.Error(w, "down", http.StatusServiceUnavailable)
					return
				}
				_, _ = w.Write([]byte("ok"))
			})
			cfg := httpx.Config{Breaker: &breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: 100 * time.Millisecond, MaxWaiting: 10}}
			var call func(ctx context.Context) (string, error)
			if tc.transport {
				tr, err := httpx.NewTransport(nil, cfg)
				require.NoError(t, err)
				hc := &http.Client{Transport: tr}
				call = func(ctx context.Context) (string, error) {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
					resp, err := hc.Do(req)
					if err != nil {
						return "", err
					}
					defer resp.Body.Close()
					b, err := io.ReadAll(resp.Body)
					if resp.StatusCode != http.StatusOK {
						return "", fmt.Errorf("status %d", resp.StatusCode)
					}
					return string(b), err
				}
			} else {
				cl := httptestClient(t, cfg)
				call = func(ctx context.Context) (string, error) {
					resp, err := cl.Get(ctx, srv.URL)
					if err != nil {
						return "", err
					}
					return string(resp.Body), nil
				}
			}
			_, err := call(t.Context()) // a 503: opens the breaker
			require.Error(t, err)
			time.AfterFunc(tc.downFor, func() { down.Store(false) })
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			body, err := call(ctx)
			require.NoError(t, err, "the call waits for the recovery")
			assert.Equal(t, "ok", body)
			// The first call, then only probes, each at least 100ms apart.
			assert.LessOrEqual(t, hits.Load(), int64(2+tc.downFor/(100*time.Millisecond)), "only probes reach the host while it is down")
		})
	}
}
