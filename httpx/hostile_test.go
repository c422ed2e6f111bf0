package httpx_test

// Hostile servers: servers that lie, stall, loop or echo secrets. Add a
// row to the table that fits, or a test here when none does.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// rawServer serves each request on a raw loopback connection with the
// bytes respond returns, then closes the connection, so a response can lie
// in ways net/http's server would not allow. When respond returns stall, the
// connection is held open (after what came before) until the test ends.
func rawServer(t testing.TB, respond func(r *http.Request) (raw string, stall bool)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[conn] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { mu.Lock(); delete(conns, conn); mu.Unlock(); _ = conn.Close() }()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				raw, stall := respond(req)
				_, _ = io.WriteString(conn, raw)
				if stall {
					<-done
				}
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// lyingLength answers 200 with a Content-Length header of declared and
// then body, whatever its length, and closes the connection.
func lyingLength(declared, body string) func(*http.Request) (string, bool) {
	return func(*http.Request) (string, bool) {
		return "HTTP/1.1 200 OK\r\nContent-Length: " + declared + "\r\nConnection: close\r\n\r\n" + body, false
	}
}

// bodyShapes are responses whose declared length and body may disagree,
// read by a Client with limit as MaxBodySize.
var bodyShapes = []struct {
	name     string
	declared string
	body     string
	limit    int64
	wantBody string
	wantErr  error // ErrBodyTooLarge, errRead, or nil for wantBody
}{
	{"max int64 declared, 3 bytes sent, no limit", "9223372036854775807", "abc", math.MaxInt64, "", errRead},
	{"1<<62 declared, 3 bytes sent, no limit", strconv.FormatInt(1<<62, 10), "abc", math.MaxInt64, "", errRead},
	{"10 MiB declared, 1 byte sent", strconv.Itoa(10 << 20), "a", 0, "", errRead},
	{"declared over the limit", "100", strings.Repeat("x", 100), 10, "", httpx.ErrBodyTooLarge},
	{"declared at the limit", "10", strings.Repeat("x", 10), 10, strings.Repeat("x", 10), nil},
	{"declared shorter than sent", "2", "abcdef", 10, "ab", nil},
	{"declared zero, bytes sent", "0", "abc", 10, "", nil},
	{"negative", "-1", "abc", 10, "", errRead},
	{"not a number", "12ab", "abc", 10, "", errRead},
}

// errRead stands for any error but ErrBodyTooLarge in a table's wantErr.
var errRead = errors.New("an error reading the response")

func TestHostile_contentLengthIsNeverTrusted(t *testing.T) {
	t.Parallel()
	for _, tc := range bodyShapes {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := rawServer(t, lyingLength(tc.declared, tc.body))
			c := httptestClient(t, httpx.Config{MaxBodySize: tc.limit, Timeout: 5 * time.Second})
			var resp *httpx.APIResponse
			var err error
			require.NotPanics(t, func() { resp, err = c.Get(t.Context(), url) })
			switch tc.wantErr {
			case nil:
				require.NoError(t, err)
				assert.Equal(t, tc.wantBody, string(resp.Body))
			case errRead:
				require.Error(t, err)
				assert.NotErrorIs(t, err, httpx.ErrBodyTooLarge)
			default:
				require.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
}

// Not parallel: it measures the bytes the whole process allocates.
func TestHostile_declaredLengthDoesNotReserveMemory(t *testing.T) {
	const calls = 20
	url := rawServer(t, lyingLength(strconv.Itoa(10<<20), "a"))
	c := httptestClient(t, httpx.Config{Timeout: 5 * time.Second})
	allocated := func() uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.TotalAlloc
	}
	before := allocated()
	for range calls {
		_, err := c.Get(t.Context(), url)
		require.Error(t, err, "the body ends early")
	}
	// 20 × 10 MiB before the fix; a few KiB per call after.
	assert.Less(t, allocated()-before, uint64(16<<20), "bytes allocated by %d calls that received 1 byte each", calls)
}

// A body of exactly the limit is read into a buffer that never grows past
// the limit (plus the one byte that tells "more"), declared length or not.
func TestHostile_bodyBufferIsCappedAtTheLimit(t *testing.T) {
	const limit = 1 << 20
	body := strings.Repeat("a", limit)
	for _, declared := range []bool{true, false} {
		t.Run(fmt.Sprintf("declared=%v", declared), func(t *testing.T) {
			srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
				if declared {
					w.Header().Set("Content-Length", strconv.Itoa(limit))
				}
				_, _ = io.WriteString(w, body)
			})
			c := httptestClient(t, httpx.Config{MaxBodySize: limit})
			resp, err := c.Get(t.Context(), srv.URL)
			require.NoError(t, err)
			assert.Len(t, resp.Body, limit)
			assert.LessOrEqual(t, cap(resp.Body), limit+1, "the buffer never grew past the limit")
		})
	}
}

// badURLs hold credentials in shapes that must fail before any request,
// with an error that wraps ErrInvalidURL and shows none of them. The
// secrets are those of assertNoSecrets.
var badURLs = []struct{ name, raw string }{
	{"zone that does not survive String", "http://alice:hunter2@[::1%25\xf4]:8080/?api_key=k3y-s3cret"},
	{"zone with a bad byte, no port", "http://alice:hunter2@[fe80::1%25\xff]/?token=k3y-s3cret"},
	{"scheme forgotten", "alice:hunter2@example.com/?token=k3y-s3cret"},
	{"slashes forgotten", "https:alice:hunter2@example.com/?token=k3y-s3cret"},
	{"host forgotten", "http://alice:hunter2/x?token=k3y-s3cret"},
	{"bad escape", "http://alice:hunter2@exa mple.com/%zz?token=k3y-s3cret"},
	{"scheme not http", "ftp://alice:hunter2@example.com/?token=k3y-s3cret"},
}

func TestHostile_badURLsFailWithoutShowingSecrets(t *testing.T) {
	t.Parallel()
	_, hits := server(t, statuses(200))
	tr, err := httpx.NewTransport(nil, httpx.Config{})
	require.NoError(t, err)
	c := httptestClient(t, httpx.Config{})
	for _, tc := range badURLs {
		t.Run(tc.name, func(t *testing.T) {
			calls := map[string]func() error{
				"ParseURL":           func() error { _, err := httpx.ParseURL(tc.raw); return err },
				"Client.Get":         func() error { _, err := c.Get(t.Context(), tc.raw); return err },
				"APICallWithTimeout": func() error { _, err := httpx.APICallWithTimeout(t.Context(), tc.raw, time.Second); return err },
				"APICallWithDeadline": func() error {
					_, err := httpx.APICallWithDeadline(t.Context(), tc.raw, time.Now().Add(time.Second))
					return err
				},
				"APICallWithRetry": func() error { _, err := httpx.APICallWithRetry(t.Context(), tc.raw, time.Second, 1); return err },
			}
			if u, err := url.Parse(tc.raw); err == nil {
				// A URL built by hand, not through ParseURL.
				req := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}
				calls["Client.Do"] = func() error { _, err := c.Do(t.Context(), req); return err }
				calls["Transport.RoundTrip"] = func() error { _, err := tr.RoundTrip(req.WithContext(t.Context())); return err }
			}
			for name, call := range calls {
				err := call()
				require.ErrorIs(t, err, httpx.ErrInvalidURL, name)
				assertNoSecrets(t, err.Error())
			}
		})
	}
	assert.Zero(t, hits.Load())
}

// redirectTo answers every request with a 302 to location.
func redirectTo(location string) func(http.ResponseWriter, *http.Request, int64) {
	return func(w http.ResponseWriter, _ *http.Request, _ int64) {
		w.Header().Set("Location", location) // as sent: http.Redirect would clean it
		w.WriteHeader(http.StatusFound)
	}
}

// leakyServers send back, one way or another, credentials that must not
// reach an error (those of assertNoSecrets).
var leakyServers = []struct {
	name  string
	start func(t *testing.T) string // returns the URL to call
}{
	{"unparsable Location", func(t *testing.T) string {
		srv, _ := server(t, redirectTo("http://alice:hunter2@127.0.0.1:abc/?token=k3y-s3cret"))
		return srv.URL
	}},
	{"Location with a bad escape", func(t *testing.T) string {
		srv, _ := server(t, redirectTo("http://alice:hunter2@127.0.0.1/%zz?token=k3y-s3cret"))
		return srv.URL
	}},
	{"Location to a closed port", func(t *testing.T) string {
		srv, _ := server(t, redirectTo("http://alice:hunter2@127.0.0.1:1/?token=k3y-s3cret"))
		return srv.URL
	}},
	{"Location with another scheme", func(t *testing.T) string {
		srv, _ := server(t, redirectTo("ftp://alice:hunter2@example.com/?token=k3y-s3cret"))
		return srv.URL
	}},
	{"redirect loop through secrets", func(t *testing.T) string {
		srv, _ := server(t, redirectTo("/loop?token=k3y-s3cret&user=alice"))
		return srv.URL
	}},
	{"status line echoing the request", func(t *testing.T) string {
		return rawServer(t, func(r *http.Request) (string, bool) {
			return "HTTP/1.1 2x0 " + r.RequestURI + "\r\n\r\n", false
		}) + "/?token=k3y-s3cret"
	}},
	{"header line echoing the request", func(t *testing.T) string {
		return rawServer(t, func(r *http.Request) (string, bool) {
			return "HTTP/1.1 200 OK\r\n" + r.RequestURI + "\r\n\r\n", false
		}) + "/?token=k3y-s3cret"
	}},
}

func TestHostile_serverCannotPutSecretsInErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range leakyServers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := tc.start(t)
			own := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
			t.Cleanup(own.CloseIdleConnections)
			clients := map[string]*httpx.Client{
				"steady's http.Client": httptestClient(t, httpx.Config{Timeout: 5 * time.Second}),
				"user's http.Client":   httptestClient(t, httpx.Config{Timeout: 5 * time.Second, HTTPClient: own}),
			}
			for name, c := range clients {
				_, err := c.Get(t.Context(), target)
				require.Error(t, err, name)
				assertNoSecrets(t, err.Error())
			}
			_, err := httpx.APICallWithRetry(t.Context(), target, 5*time.Second, 0)
			require.Error(t, err)
			assertNoSecrets(t, err.Error())
		})
	}
}

func TestHostile_redirectLoopIsNotRetried(t *testing.T) {
	t.Parallel()
	t.Run("APICallWithRetry", func(t *testing.T) {
		t.Parallel()
		srv, hits := server(t, redirectTo("/again"))
		_, err := httpx.APICallWithRetry(t.Context(), srv.URL, 5*time.Second, 2)
		require.Error(t, err)
		assert.EqualValues(t, 10, hits.Load(), "one attempt: the first request and 9 redirects")
	})
	t.Run("user's http.Client", func(t *testing.T) {
		t.Parallel()
		srv, hits := server(t, redirectTo("/again"))
		own := &http.Client{}
		c := httptestClient(t, httpx.Config{Retry: fastRetry(3), HTTPClient: own})
		_, err := c.Get(t.Context(), srv.URL)
		require.Error(t, err)
		assert.EqualValues(t, 10, hits.Load())
		assert.Nil(t, own.CheckRedirect, "the user's client is not modified")
	})
	t.Run("user's CheckRedirect is kept", func(t *testing.T) {
		t.Parallel()
		srv, hits := server(t, redirectTo("/again"))
		errMine := errors.New("mine")
		own := &http.Client{CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 2 {
				return errMine
			}
			return nil
		}}
		c := httptestClient(t, httpx.Config{Retry: fastRetry(3), HTTPClient: own})
		_, err := c.Get(t.Context(), srv.URL)
		require.Error(t, err)
		assert.EqualValues(t, 6, hits.Load(), "3 attempts of 2 requests: the user's policy decides")
	})
}

// slowServers stall, trickle, flood or ask for a long wait. Each call has
// a 2 s deadline and an attempt Timeout of 300 ms unless the row sets one,
// far below the servers' 3 s sleeps, and must return long before the
// server would have finished.
var slowServers = []struct {
	name    string
	handler func(w http.ResponseWriter, r *http.Request, hit int64)
	cfg     httpx.Config
	want    func(t *testing.T, err error)
}{
	{"slow headers", func(w http.ResponseWriter, r *http.Request, _ int64) {
		sleep(r, 3*time.Second)
	}, httpx.Config{}, isTimeout},
	{"body stalls after the headers", func(w http.ResponseWriter, r *http.Request, _ int64) {
		w.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(w, "abc")
		w.(http.Flusher).Flush()
		sleep(r, 3*time.Second)
	}, httpx.Config{}, isTimeout},
	{"body trickles", func(w http.ResponseWriter, r *http.Request, _ int64) {
		for r.Context().Err() == nil {
			_, _ = io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			sleep(r, 50*time.Millisecond)
		}
	}, httpx.Config{}, isTimeout},
	{"endless body", func(w http.ResponseWriter, r *http.Request, _ int64) {
		chunk := make([]byte, 32<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}, httpx.Config{MaxBodySize: 64 << 10, Timeout: 1500 * time.Millisecond}, func(t *testing.T, err error) {
		require.ErrorIs(t, err, httpx.ErrBodyTooLarge, "the limit, long before the attempt's time is up")
	}},
	{"huge headers", func(w http.ResponseWriter, r *http.Request, _ int64) {
		for i := range 64 {
			w.Header().Set(fmt.Sprintf("X-Junk-%d", i), strings.Repeat("j", 32<<10))
		}
	}, httpx.Config{}, func(t *testing.T, err error) {
		require.Error(t, err, "2 MiB of headers is no API response")
	}},
	{"Retry-After of ten years", func(w http.ResponseWriter, r *http.Request, _ int64) {
		w.Header().Set("Retry-After", strconv.Itoa(10*365*24*3600))
		w.WriteHeader(http.StatusServiceUnavailable)
	}, httpx.Config{Retry: &retry.Config{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxRetryAfter: 48 * time.Hour}},
		func(t *testing.T, err error) {
			var se *httpx.StatusError
			require.ErrorAs(t, err, &se, "the wait would pass the deadline: the last response's error, at once")
			assert.Equal(t, 24*time.Hour, se.Wait, "capped")
		}},
}

func isTimeout(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var te *timeout.Error
	assert.ErrorAs(t, err, &te, "the attempt's limit, not the caller's deadline")
}

func TestHostile_slowServersDoNotHoldTheCaller(t *testing.T) {
	t.Parallel()
	for _, tc := range slowServers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := server(t, tc.handler)
			cfg := tc.cfg
			if cfg.Timeout == 0 {
				cfg.Timeout = 300 * time.Millisecond
			}
			c := httptestClient(t, cfg)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			start := time.Now()
			_, err := c.Get(ctx, srv.URL)
			tc.want(t, err)
			assert.Less(t, time.Since(start), 2500*time.Millisecond, "returned long before the server's 3 s")
		})
	}
}

// harmlessParams mirrors the allowlist of query names whose values errors
// may show (see the package doc).
var harmlessParams = []string{"page", "per_page", "page_size", "limit", "offset", "sort", "order"}

// FuzzURLToError takes URL templates whose {u}, {p} and {t} are replaced by
// a user name, a password and a token, calls them through ParseURL and
// Client.Get (against a server answering 500, and against a closed port),
// and checks that no error shows a secret, unless the URL put it where
// errors show things: the scheme, the host, the path, a query name or an
// allowlisted query value.
func FuzzURLToError(f *testing.F) {
	toTemplate := strings.NewReplacer("alice", "{u}", "hunter2", "{p}", "k3y-s3cret", "{t}")
	for _, row := range badURLs {
		f.Add(toTemplate.Replace(row.raw))
	}
	f.Add("http://{u}:{p}@127.0.0.1:8080/x?api_key={t}&page=2")
	f.Add("http://{u}@h/?a=1;token={t}#{p}")
	f.Add("https://{u}:{p}@h/?{t}")

	srv, _ := server(f, statuses(500))
	dialTo := func(addr string) *http.Client {
		tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
		return &http.Client{Transport: tr}
	}
	// A third client logs all it can (Debug: requests not retried; the
	// monitor's timeouts; the breaker's changes) into logs, which must not
	// show a secret either.
	logs := new(lockedBuffer)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	metrics, err := monitor.NewMetrics(monitor.Config{Logger: logger})
	require.NoError(f, err)
	clients := []*httpx.Client{
		httptestClient(f, httpx.Config{Timeout: 2 * time.Second, HTTPClient: dialTo(srv.Listener.Addr().String())}),
		httptestClient(f, httpx.Config{Timeout: 2 * time.Second, HTTPClient: dialTo("127.0.0.1:1")}),
		httptestClient(f, httpx.Config{
			Timeout:    2 * time.Second,
			HTTPClient: dialTo(srv.Listener.Addr().String()),
			Retry:      &retry.Config{MaxAttempts: 2, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond},
			Metrics:    metrics,
			Breaker:    &breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour, Logger: logger}, // no timer logs between iterations
			Logger:     logger,
		}),
	}
	// POSTs go through a client without a breaker, which would reject
	// them once a host has failed.
	poster := httptestClient(f, httpx.Config{
		Timeout:    2 * time.Second,
		HTTPClient: dialTo(srv.Listener.Addr().String()),
		Retry:      &retry.Config{MaxAttempts: 2, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond},
		Logger:     logger,
	})
	secrets := strings.NewReplacer("{u}", "Uu7user", "{p}", "Pp7pass", "{t}", "Tt7tokn")

	f.Fuzz(func(t *testing.T, template string) {
		if len(template) > 1024 {
			t.Skip()
		}
		raw := secrets.Replace(template)
		check := []string{"Uu7user", "Pp7pass", "Tt7tokn"}
		if u, err := url.Parse(raw); err == nil {
			shown := []string{u.Scheme, u.Host, u.Path, u.EscapedPath()}
			for _, part := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
				name, value, _ := strings.Cut(part, "=")
				shown = append(shown, name, unescape(name))
				if slices.Contains(harmlessParams, strings.ToLower(unescape(name))) {
					shown = append(shown, value, unescape(value))
				}
			}
			check = slices.DeleteFunc(check, func(s string) bool {
				return slices.ContainsFunc(shown, func(p string) bool { return strings.Contains(p, s) })
			})
		}
		var errs []error
		if _, err := httpx.ParseURL(raw); err != nil {
			errs = append(errs, err)
		}
		logs.Reset()
		for _, c := range clients {
			if _, err := c.Get(t.Context(), raw); err != nil {
				errs = append(errs, err)
			}
		}
		// An unkeyed POST that fails is not retried, and says so at Debug.
		if u, err := httpx.ParseURL(raw); err == nil {
			req := &http.Request{Method: http.MethodPost, URL: u, Header: http.Header{},
				Body: io.NopCloser(strings.NewReader("x"))}
			if _, err := poster.Do(t.Context(), req); err != nil {
				errs = append(errs, err)
			}
		}
		for _, err := range errs {
			for _, s := range check {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("the error for %q shows %q: %v", raw, s, err)
				}
			}
		}
		for _, s := range check {
			if text := logs.String(); strings.Contains(text, s) {
				t.Fatalf("the logs for %q show %q:\n%s", raw, s, text)
			}
		}
	})
}

// lockedBuffer is a bytes.Buffer that many goroutines may write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// FuzzBodyShapes has a raw server declare any Content-Length and send any
// body, and checks that Client.Get never panics, returns at most the limit
// (and no more than was sent), and allocates in proportion to what arrived,
// not to what was declared.
func FuzzBodyShapes(f *testing.F) {
	for _, row := range bodyShapes {
		if n, err := strconv.ParseInt(row.declared, 10, 64); err == nil {
			f.Add(n, []byte(row.body))
		}
	}
	f.Add(int64(-1<<63), []byte("x"))
	f.Add(int64(20), []byte(strings.Repeat("y", 20)))

	base := rawServer(f, func(r *http.Request) (string, bool) {
		q := r.URL.Query()
		body, _ := hex.DecodeString(q.Get("body"))
		return "HTTP/1.1 200 OK\r\nContent-Length: " + q.Get("cl") + "\r\nConnection: close\r\n\r\n" + string(body), false
	})
	type limited struct {
		c     *httpx.Client
		limit int64
	}
	clients := []limited{
		{httptestClient(f, httpx.Config{Timeout: 2 * time.Second, MaxBodySize: 16}), 16},
		{httptestClient(f, httpx.Config{Timeout: 2 * time.Second, MaxBodySize: math.MaxInt64}), math.MaxInt64},
	}

	f.Fuzz(func(t *testing.T, declared int64, body []byte) {
		if len(body) > 64<<10 {
			t.Skip()
		}
		target := base + "/?cl=" + strconv.FormatInt(declared, 10) + "&body=" + hex.EncodeToString(body)
		for _, lc := range clients {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			resp, err := lc.c.Get(t.Context(), target)
			runtime.ReadMemStats(&ms)
			if grown := ms.TotalAlloc - before; grown > 2<<20+4*uint64(len(body)) {
				t.Fatalf("declared %d, sent %d bytes: the call allocated %d bytes", declared, len(body), grown)
			}
			if err != nil {
				continue
			}
			if int64(len(resp.Body)) > lc.limit || !strings.HasPrefix(string(body), string(resp.Body)) {
				t.Fatalf("declared %d, sent %d bytes, limit %d: got %d bytes", declared, len(body), lc.limit, len(resp.Body))
			}
		}
	})
}

// stalledBody sends the headers and part of the body, then stalls.
func stalledBody(w http.ResponseWriter, r *http.Request, _ int64) {
	w.Header().Set("Content-Length", "10")
	_, _ = io.WriteString(w, "abc")
	w.(http.Flusher).Flush()
	sleep(r, 3*time.Second)
}

// A Transport's call ends with its body: a body that stalls past the limit
// is a timeout for the metrics and the breaker, as it is through Client.
func TestHostile_transportCountsAStalledBodyAsATimeout(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, stalledBody)
	m := new(monitor.Metrics)
	tr, err := httpx.NewTransport(newCountingTransport(t), httpx.Config{
		Timeout: 200 * time.Millisecond,
		Metrics: m,
		Breaker: &breaker.Settings{TimeoutRate: 0.5, MinRequests: 10},
	})
	require.NoError(t, err)
	hc := &http.Client{Transport: tr}
	for range 10 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err, "the headers arrive at once")
		_, err = io.ReadAll(resp.Body)
		isTimeout(t, err)
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.False(t, errors.As(te.Err, new(*timeout.Error)), "one *timeout.Error, the call's own, in the chain")
		require.NoError(t, resp.Body.Close())
	}
	s := m.Snapshot()
	assert.EqualValues(t, 10, s.Timeouts, "%v", s)
	assert.Zero(t, s.Successes)

	u, _ := url.Parse(srv.URL)
	cb := tr.Breakers()[u.Host]
	require.NotNil(t, cb)
	assert.Equal(t, breaker.StateOpen, cb.State(), "a TimeoutRate breaker opens, as it does through Client")
	_, err = hc.Get(srv.URL)
	require.ErrorIs(t, err, breaker.ErrOpen)
	assert.EqualValues(t, 10, hits.Load(), "the open breaker sends nothing")
	assert.EqualValues(t, 1, m.Snapshot().Rejected)
}
