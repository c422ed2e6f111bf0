package httpx_test

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// The four tests named after the original exercise's expectations.

func TestTimeoutBasic(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if r.URL.Path == "/slow" {
			sleep(r, 3*time.Second)
		}
		_, _ = w.Write([]byte("ok"))
	})

	resp, err := httpx.APICallWithTimeout(t.Context(), srv.URL+"/fast", 2*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok", string(resp.Body))
	assert.Equal(t, 1, resp.Attempts)

	start := time.Now()
	resp, err = httpx.APICallWithTimeout(t.Context(), srv.URL+"/slow", 100*time.Millisecond)
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var te *timeout.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 100*time.Millisecond, te.Duration)
	assert.Contains(t, err.Error(), "timeout after 100ms")
	assert.Less(t, elapsed, 2*time.Second, "returned long before the server's 3s sleep")
}

func TestDeadlineHandling(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		sleep(r, 3*time.Second)
	})

	t.Run("deadline fires", func(t *testing.T) {
		start := time.Now()
		_, err := httpx.APICallWithDeadline(t.Context(), srv.URL, time.Now().Add(100*time.Millisecond))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.False(t, te.Deadline.IsZero())
		assert.Less(t, time.Since(start), 2*time.Second)
	})

	t.Run("past deadline makes no request", func(t *testing.T) {
		before := hits.Load()
		_, err := httpx.APICallWithDeadline(t.Context(), srv.URL, time.Now().Add(-time.Second))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, before, hits.Load(), "no request for a deadline already past")
	})

	t.Run("parent deadline shorter wins", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := httpx.APICallWithDeadline(ctx, srv.URL, time.Now().Add(time.Hour))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var te *timeout.Error
		assert.False(t, errors.As(err, &te), "the parent's deadline is not the policy's: got %v", err)
		assert.Less(t, time.Since(start), 2*time.Second)
	})
}

func TestRetryWithBackoff(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(503, 502, 200))

	resp, err := httpx.APICallWithRetry(t.Context(), srv.URL, time.Second, 3)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 3, resp.Attempts)
	assert.EqualValues(t, 3, hits.Load())
	// Two backoffs of about 100ms and 200ms (jittered by ±50%).
	assert.GreaterOrEqual(t, resp.Duration, 150*time.Millisecond)
}

func TestTimeoutMetrics(t *testing.T) {
	// Not parallel: it reads the package-level monitor.Default.
	before := monitor.Default.Snapshot()

	err := httpx.MonitoredOperation(t.Context(), 50*time.Millisecond, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, httpx.MonitoredOperation(t.Context(), time.Second, func(context.Context) error { return nil }))
	boom := errors.New("boom")
	require.ErrorIs(t, httpx.MonitoredOperation(t.Context(), time.Second, func(context.Context) error { return boom }), boom)

	after := monitor.Default.Snapshot()
	assert.Equal(t, before.Total+3, after.Total)
	assert.Equal(t, before.Timeouts+1, after.Timeouts)
	assert.Equal(t, before.Successes+1, after.Successes)
	assert.Equal(t, before.Failures+1, after.Failures)
	assert.Greater(t, after.TimeoutRate, 0.0)
	assert.GreaterOrEqual(t, after.Max, 50*time.Millisecond)
}

func TestMonitoredOperation_badInput(t *testing.T) {
	before := monitor.Default.Snapshot().Total
	err := httpx.MonitoredOperation(t.Context(), time.Second, nil)
	assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
	assert.ErrorContains(t, err, "operation is nil")
	called := false
	err = httpx.MonitoredOperation(t.Context(), 0, func(context.Context) error { called = true; return nil })
	assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
	assert.False(t, called)
	assert.Equal(t, before, monitor.Default.Snapshot().Total, "bad input is not recorded")
}

func TestAPICall_slowBody(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("first part,"))
		w.(http.Flusher).Flush()
		sleep(r, 3*time.Second)
		_, _ = w.Write([]byte("too late"))
	})
	start := time.Now()
	resp, err := httpx.APICallWithTimeout(t.Context(), srv.URL, 200*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the limit covers reading the body")
	assert.Nil(t, resp, "a body cut short is never returned")
	var te *timeout.Error
	require.ErrorAs(t, err, &te)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestAPICall_parentDeadlineShorterThanTimeout(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) { sleep(r, 3*time.Second) })
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := httpx.APICallWithTimeout(ctx, srv.URL, time.Minute)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var te *timeout.Error
	assert.False(t, errors.As(err, &te), "the caller's deadline is reported as the caller's, got %v", err)
}

func TestAPICall_callerCancel(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) { sleep(r, 3*time.Second) })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := httpx.APICallWithRetry(ctx, srv.URL, time.Minute, 3)
	require.ErrorIs(t, err, context.Canceled)
	var re *retry.Error
	assert.False(t, errors.As(err, &re), "the caller's cancellation is not retried until retries run out: %v", err)
}

func TestAPICall_nonSuccessStatus(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(404))
	resp, err := httpx.APICallWithRetry(t.Context(), srv.URL+"/missing", time.Second, 3)
	var se *httpx.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusNotFound, se.StatusCode)
	require.NotNil(t, resp, "the response comes back with the error")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "Not Found", string(resp.Body))
	assert.EqualValues(t, 1, hits.Load(), "404 is not retried")
	assert.Equal(t, 1, resp.Attempts)
}

func TestAPICallWithRetry_counts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxRetries int
		codes      []int
		wantHits   int64
		wantOK     bool
		gaveUp     bool // retries ran out: a *retry.Error
	}{
		{"no retries", 0, []int{503}, 1, false, true},
		{"three retries, always failing", 3, []int{503}, 4, false, true},
		{"succeeds on the last attempt", 2, []int{500, 503, 200}, 3, true, false},
		{"408 retried", 1, []int{408, 200}, 2, true, false},
		{"501 not retried", 3, []int{501}, 1, false, false},
		{"400 not retried", 3, []int{400}, 1, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := server(t, statuses(tc.codes...))
			resp, err := httpx.APICallWithRetry(t.Context(), srv.URL, time.Second, tc.maxRetries)
			assert.Equal(t, tc.wantHits, hits.Load())
			require.NotNil(t, resp)
			assert.EqualValues(t, tc.wantHits, resp.Attempts)
			if tc.wantOK {
				require.NoError(t, err)
				return
			}
			var se *httpx.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.codes[len(tc.codes)-1], resp.StatusCode)
			var re *retry.Error
			if !tc.gaveUp {
				assert.NotErrorAs(t, err, &re, "a status that is not retried comes back as the *StatusError")
				return
			}
			require.ErrorAs(t, err, &re)
			assert.EqualValues(t, tc.wantHits, re.Attempts)
		})
	}
}

func TestAPICallWithRetry_attemptTimeoutRetried(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit == 1 {
			sleep(r, 3*time.Second)
		}
		_, _ = w.Write([]byte("ok"))
	})
	resp, err := httpx.APICallWithRetry(t.Context(), srv.URL, 500*time.Millisecond, 4)
	require.NoError(t, err)
	// The first attempt hung and was cut; one of the next (normally the
	// second, but a loaded machine may need more) succeeded.
	assert.GreaterOrEqual(t, resp.Attempts, 2)
	assert.EqualValues(t, resp.Attempts, hits.Load())
}

func TestAPICallWithRetry_connectionErrorRetried(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit == 1 {
			// Drop the connection without a response.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	resp, err := httpx.APICallWithRetry(t.Context(), srv.URL, time.Second, 2)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(resp.Body))
	assert.EqualValues(t, 2, hits.Load())
}

func TestAPICallWithRetry_retryAfter(t *testing.T) {
	t.Parallel()
	date := func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header func() string
		min    time.Duration
	}{
		{"seconds", func() string { return "1" }, time.Second},
		// An HTTP date has whole seconds: now+2s truncated is > 1s away.
		{"HTTP date", date, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
				if hit == 1 {
					w.Header().Set("Retry-After", tc.header())
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				_, _ = w.Write([]byte("ok"))
			})
			resp, err := httpx.APICallWithRetry(t.Context(), srv.URL, time.Second, 1)
			require.NoError(t, err)
			assert.EqualValues(t, 2, hits.Load())
			assert.GreaterOrEqual(t, resp.Duration, tc.min, "waited as the server asked, not the 100ms backoff")
		})
	}

	t.Run("longer than the deadline gives up at once", func(t *testing.T) {
		t.Parallel()
		srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		// Capped at the backoff's 30s MaxDelay, the wait would fit in
		// this deadline; the server's 120s is honoured, so it does not.
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		start := time.Now()
		resp, err := httpx.APICallWithRetry(ctx, srv.URL, time.Second, 3)
		var se *httpx.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 120*time.Second, se.RetryAfter())
		assert.EqualValues(t, 1, hits.Load())
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Less(t, time.Since(start), 3*time.Second, "did not sleep towards the deadline")
	})
}

func TestAPICallWithRetry_cancelDuringBackoff(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	ctx, cancel := context.WithCancel(t.Context())
	var once atomic.Bool
	go func() {
		// Cancel once the first attempt is in: the call is then waiting
		// out a 30s Retry-After.
		for hits.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		once.Store(true)
		cancel()
	}()
	start := time.Now()
	_, err := httpx.APICallWithRetry(ctx, srv.URL, time.Second, 3)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, once.Load())
	assert.Less(t, time.Since(start), 5*time.Second, "returned promptly, not after the 30s wait")
	assert.EqualValues(t, 1, hits.Load())
}

func TestAPICall_bodyLimit(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", int(httpx.DefaultMaxBodySize)+1)
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if r.URL.Query().Get("chunked") != "" {
			w.(http.Flusher).Flush() // no Content-Length: the limit is found by reading
		}
		_, _ = w.Write([]byte(big))
	})
	for _, q := range []string{"", "?chunked=1"} {
		_, err := httpx.APICallWithRetry(t.Context(), srv.URL+q, 5*time.Second, 2)
		require.ErrorIs(t, err, httpx.ErrBodyTooLarge)
		assert.ErrorContains(t, err, "larger than 10485760 bytes")
	}

	small := httptestClient(t, httpx.Config{MaxBodySize: 10})
	srv2, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) { _, _ = w.Write([]byte("0123456789")) })
	resp, err := small.Get(t.Context(), srv2.URL)
	require.NoError(t, err, "exactly at the limit is fine")
	assert.Len(t, resp.Body, 10)
}

func TestAPICall_badInput(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(200))
	var nilCtx context.Context // the bad input of one row
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"empty URL", func() error { _, err := httpx.APICallWithTimeout(t.Context(), "", time.Second); return err }, httpx.ErrInvalidURL},
		{"unparsable URL", func() error {
			_, err := httpx.APICallWithTimeout(t.Context(), "http://a b/%zz", time.Second)
			return err
		}, httpx.ErrInvalidURL},
		{"ftp scheme", func() error {
			_, err := httpx.APICallWithTimeout(t.Context(), "ftp://example.com/x", time.Second)
			return err
		}, httpx.ErrInvalidURL},
		{"relative URL", func() error { _, err := httpx.APICallWithTimeout(t.Context(), "/just/a/path", time.Second); return err }, httpx.ErrInvalidURL},
		{"no host", func() error { _, err := httpx.APICallWithTimeout(t.Context(), "http:///x", time.Second); return err }, httpx.ErrInvalidURL},
		{"port but no host name", func() error {
			_, err := httpx.APICallWithTimeout(t.Context(), "http://:"+strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)+"/", time.Second)
			return err
		}, httpx.ErrInvalidURL},
		{"port out of range", func() error {
			_, err := httpx.APICallWithRetry(t.Context(), "http://127.0.0.1:99999999999/", time.Second, 3)
			return err
		}, httpx.ErrInvalidURL},
		{"scheme missing", func() error {
			_, err := httpx.APICallWithTimeout(t.Context(), "localhost:8080/x", time.Second)
			return err
		}, httpx.ErrInvalidURL},
		{"retries overflow", func() error {
			_, err := httpx.APICallWithRetry(t.Context(), srv.URL, time.Second, math.MaxInt)
			return err
		}, resilience.ErrInvalidConfig},
		{"zero timeout", func() error { _, err := httpx.APICallWithTimeout(t.Context(), srv.URL, 0); return err }, resilience.ErrInvalidConfig},
		{"negative timeout", func() error { _, err := httpx.APICallWithRetry(t.Context(), srv.URL, -time.Second, 1); return err }, resilience.ErrInvalidConfig},
		{"negative retries", func() error { _, err := httpx.APICallWithRetry(t.Context(), srv.URL, time.Second, -1); return err }, resilience.ErrInvalidConfig},
		{"zero deadline", func() error { _, err := httpx.APICallWithDeadline(t.Context(), srv.URL, time.Time{}); return err }, resilience.ErrInvalidConfig},
		{"nil context", func() error { _, err := httpx.APICallWithTimeout(nilCtx, srv.URL, time.Second); return err }, resilience.ErrNilContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorIs(t, tc.call(), tc.want)
		})
	}
	assert.Zero(t, hits.Load(), "bad input makes no request")
}

func TestAPICall_errorsRedactCredentials(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, statuses(500))
	withCreds := strings.Replace(srv.URL, "http://", "http://alice:hunter2@", 1) + "/x?api_key=k3y-s3cret&page=1"

	_, err := httpx.APICallWithRetry(t.Context(), withCreds, time.Second, 0)
	require.Error(t, err)
	assertNoSecrets(t, err.Error())
	assert.Contains(t, err.Error(), "REDACTED")
	assert.Contains(t, err.Error(), "page=1")

	// A connection error goes through net/http's *url.Error, which keeps
	// the user name; ours does not.
	closed := strings.Replace(withCreds, srv.Listener.Addr().String(), "127.0.0.1:1", 1)
	_, err = httpx.APICallWithTimeout(t.Context(), closed, time.Second)
	require.Error(t, err)
	assertNoSecrets(t, err.Error())

	_, err = httpx.APICallWithTimeout(t.Context(), "ftp://alice:hunter2@example.com/?token=k3y-s3cret", time.Second)
	require.ErrorIs(t, err, httpx.ErrInvalidURL)
	assertNoSecrets(t, err.Error())
	// Shapes a typo can give, where url.Parse puts the credentials in the
	// scheme, the opaque part or the port.
	for _, bad := range []string{
		"http://alice:hunter2@exa mple.com/%zz",
		"alice:hunter2@example.com/?token=k3y-s3cret",
		"https:alice:hunter2@example.com",
		"http://alice:hunter2/x",
		"//alice:hunter2@example.com/",
	} {
		_, err = httpx.APICallWithTimeout(t.Context(), bad, time.Second)
		require.ErrorIs(t, err, httpx.ErrInvalidURL, bad)
		assertNoSecrets(t, err.Error())
	}
}

func assertNoSecrets(t *testing.T, msg string) {
	t.Helper()
	for _, secret := range []string{"alice", "hunter2", "k3y-s3cret"} {
		assert.NotContains(t, msg, secret)
	}
}

func httptestClient(t testing.TB, cfg httpx.Config) *httpx.Client {
	t.Helper()
	c, err := httpx.NewClient(cfg)
	require.NoError(t, err)
	return c
}

// Each layer of an error says only what it knows: the limit once, the
// deadline once.
func TestAPICalls_errorTextSaysEachThingOnce(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) { sleep(r, 3*time.Second) })

	_, err := httpx.APICallWithTimeout(t.Context(), srv.URL+"/slow", 100*time.Millisecond)
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "timeout after 100ms"), err.Error())
	assert.True(t, strings.HasSuffix(err.Error(), "/slow\": context deadline exceeded"), err.Error())

	deadline := time.Now().Add(100 * time.Millisecond)
	_, err = httpx.APICallWithDeadline(t.Context(), srv.URL+"/slow", deadline)
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), deadline.Format(time.RFC3339Nano)), err.Error())

	_, err = httpx.APICallWithRetry(t.Context(), srv.URL+"/slow", 100*time.Millisecond, 1)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "retry: gave up after 2 attempts: timeout after 100ms: Get "), err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "timeout after"), err.Error())
}
