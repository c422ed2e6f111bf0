package httpx_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
)

func TestDeadlineConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   httpx.DeadlineConfig
		field string
	}{
		{"no Max", httpx.DeadlineConfig{}, "DeadlineConfig.Max"},
		{"negative Max", httpx.DeadlineConfig{Max: -time.Second}, "DeadlineConfig.Max"},
		{"negative Offset", httpx.DeadlineConfig{Max: time.Second, Offset: -1}, "DeadlineConfig.Offset"},
		{"bad Header", httpx.DeadlineConfig{Max: time.Second, Header: "Grpc Timeout"}, "DeadlineConfig.Header"},
		{"Header with a colon", httpx.DeadlineConfig{Max: time.Second, Header: "X:Y"}, "DeadlineConfig.Header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
			assert.Equal(t, tt.field, ce.Field)
			assert.Contains(t, err.Error(), tt.field)
			// Deadlines panics with the same error, when the server is built.
			assert.PanicsWithError(t, err.Error(), func() { httpx.Deadlines(tt.cfg) })
		})
	}
	assert.NoError(t, httpx.DeadlineConfig{Max: time.Second}.Validate())
	assert.NoError(t, httpx.DeadlineConfig{Max: time.Second, Header: "X-Request-Timeout", Offset: time.Millisecond}.Validate())

	mw := httpx.Deadlines(httpx.DeadlineConfig{Max: time.Second})
	assert.PanicsWithError(t, "httpx: Deadlines' handler is nil, want a non-nil http.Handler", func() { mw(nil) })
}

// seen is what a handler behind Deadlines saw.
type seen struct {
	called bool
	left   time.Duration // until its context's deadline
	cause  error         // its context's cause once done
}

// serveDeadline runs one request with the given header values through
// Deadlines(cfg) in a synctest bubble, so that time is exact: the handler
// records the time left on its context and waits for the context's end.
func serveDeadline(t *testing.T, cfg httpx.DeadlineConfig, remote string, values ...string) (seen, *httptest.ResponseRecorder) {
	t.Helper()
	var s seen
	rec := httptest.NewRecorder()
	synctest.Test(t, func(t *testing.T) {
		h := httpx.Deadlines(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.called = true
			dl, ok := r.Context().Deadline()
			require.True(t, ok, "the handler's context has no deadline")
			s.left = time.Until(dl)
			<-r.Context().Done()
			s.cause = context.Cause(r.Context())
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if remote != "" {
			req.RemoteAddr = remote
		}
		header := cfg.Header
		if header == "" {
			header = httpx.DeadlineHeader
		}
		for _, v := range values {
			req.Header.Add(header, v)
		}
		h.ServeHTTP(rec, req)
	})
	return s, rec
}

func trustAll(*http.Request) bool { return true }

func TestDeadlinesHeader(t *testing.T) {
	base := httpx.DeadlineConfig{Max: time.Second, Trust: trustAll}
	withOffset := base
	withOffset.Offset = 50 * time.Millisecond
	custom := base
	custom.Header = "x-request-timeout"
	tests := []struct {
		name       string
		cfg        httpx.DeadlineConfig
		values     []string
		left       time.Duration
		propagated bool
	}{
		{"no header: Max", base, nil, time.Second, false},
		{"a shorter header", base, []string{"250m"}, 250 * time.Millisecond, true},
		{"in microseconds", base, []string{"300000u"}, 300 * time.Millisecond, true},
		{"less the Offset", withOffset, []string{"250m"}, 200 * time.Millisecond, true},
		{"a longer header: Max", base, []string{"5S"}, time.Second, false},
		{"equal to Max: Max", base, []string{"1S"}, time.Second, false},
		{"99999999H: Max", base, []string{"99999999H"}, time.Second, false},
		{"a custom header", custom, []string{"100m"}, 100 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec := serveDeadline(t, tt.cfg, "", tt.values...)
			require.True(t, s.called)
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tt.left, s.left)
			assert.ErrorIs(t, s.cause, context.DeadlineExceeded)
			assert.Equal(t, tt.propagated, errors.Is(s.cause, httpx.ErrPropagatedDeadline), "cause %v", s.cause)
		})
	}
}

func TestDeadlinesTrust(t *testing.T) {
	var calls int
	panicky := func(*http.Request) bool { calls++; panic("boom") }
	var logs bytes.Buffer
	tests := []struct {
		name   string
		trust  func(*http.Request) bool
		remote string
		left   time.Duration
	}{
		{"nil Trust trusts no one", nil, "127.0.0.1:1234", time.Second},
		{"untrusted", func(*http.Request) bool { return false }, "", time.Second},
		{"a panic in Trust: untrusted", panicky, "", time.Second},
		{"TrustLoopback, from 127.0.0.1", httpx.TrustLoopback, "127.0.0.1:1234", 100 * time.Millisecond},
		{"TrustLoopback, from ::1", httpx.TrustLoopback, "[::1]:1234", 100 * time.Millisecond},
		{"TrustLoopback, from elsewhere", httpx.TrustLoopback, "192.0.2.7:1234", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := httpx.DeadlineConfig{Max: time.Second, Trust: tt.trust, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			s, _ := serveDeadline(t, cfg, tt.remote, "100m")
			assert.Equal(t, tt.left, s.left)
			// Untrusted, even an expired header is ignored.
			s, rec := serveDeadline(t, cfg, tt.remote, "0n")
			if tt.left == time.Second {
				assert.True(t, s.called)
				assert.Equal(t, time.Second, s.left)
			} else {
				assert.False(t, s.called)
				assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
			}
		})
	}
	assert.Equal(t, 2, calls)
	assert.Contains(t, logs.String(), "DeadlineConfig.Trust")
	assert.Contains(t, logs.String(), "boom")

	assert.False(t, httpx.TrustLoopback(&http.Request{RemoteAddr: "not an address"}))
	assert.True(t, httpx.TrustLoopback(&http.Request{RemoteAddr: "127.0.0.2:80"}))
}

func TestDeadlinesExpired(t *testing.T) {
	for _, tt := range []struct {
		name   string
		offset time.Duration
		value  string
	}{
		{"0n", 0, "0n"},
		{"0H", 0, "0H"},
		{"negative", 0, "-5S"},
		{"used up by the Offset", 50 * time.Millisecond, "50m"},
		{"under the Offset", 50 * time.Millisecond, "49999u"},
		{"the least Duration, less the Offset", 50 * time.Millisecond, "-9999999H"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := httpx.DeadlineConfig{Max: time.Second, Offset: tt.offset, Trust: trustAll}
			s, rec := serveDeadline(t, cfg, "", tt.value)
			assert.False(t, s.called, "the handler ran")
			assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
		})
	}
	// Just above the Offset, the handler runs, with what is left.
	cfg := httpx.DeadlineConfig{Max: time.Second, Offset: 50 * time.Millisecond, Trust: trustAll}
	s, _ := serveDeadline(t, cfg, "", "50001u")
	assert.True(t, s.called)
	assert.Equal(t, time.Microsecond, s.left)
}

func TestDeadlinesMalformed(t *testing.T) {
	for _, values := range [][]string{{"5s"}, {"abc"}, {""}, {"123456789m"}, {"1.5S"}, {"100m", "200m"}} {
		t.Run(strings.Join(values, ","), func(t *testing.T) {
			var logs bytes.Buffer
			cfg := httpx.DeadlineConfig{Max: time.Second, Trust: trustAll, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			s, rec := serveDeadline(t, cfg, "", values...)
			assert.True(t, s.called)
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, time.Second, s.left, "a malformed header is ignored: Max")
			assert.NotErrorIs(t, s.cause, httpx.ErrPropagatedDeadline)
			assert.Equal(t, 1, strings.Count(logs.String(), "malformed deadline header"), logs.String())
			assert.Contains(t, logs.String(), "level=WARN")
			assert.Contains(t, logs.String(), "header=Grpc-Timeout")

			// A nil Logger logs nothing and works the same.
			cfg.Logger = nil
			s, _ = serveDeadline(t, cfg, "", values...)
			assert.Equal(t, time.Second, s.left)
		})
	}
	// An untrusted request's header is not even read: nothing is logged.
	var logs bytes.Buffer
	cfg := httpx.DeadlineConfig{Max: time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	serveDeadline(t, cfg, "", "junk")
	assert.Empty(t, logs.String())
}

// TestPropagateDeadlineHeader checks what a Client and a Transport send: the
// time left on the attempt, never more, and nothing without a deadline or
// without PropagateDeadline.
func TestPropagateDeadlineHeader(t *testing.T) {
	var mu sync.Mutex
	var got []string
	failed := false
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		mu.Lock()
		got = append(got, r.Header.Get(httpx.DeadlineHeader))
		first := r.URL.Path == "/fail" && !failed
		failed = failed || first
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		g := got
		got = nil
		return g
	}
	decode := func(t *testing.T, v string) time.Duration {
		t.Helper()
		rec := httptest.NewRecorder()
		var left time.Duration
		synctest.Test(t, func(t *testing.T) {
			h := httpx.Deadlines(httpx.DeadlineConfig{Max: time.Hour, Trust: trustAll})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				dl, _ := r.Context().Deadline()
				left = time.Until(dl)
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set(httpx.DeadlineHeader, v)
			h.ServeHTTP(rec, req)
		})
		return left
	}

	c, err := httpx.NewClient(httpx.Config{PropagateDeadline: true})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.Get(ctx, srv.URL)
	require.NoError(t, err)
	_, err = c.Get(context.Background(), srv.URL) // no deadline: no header
	require.NoError(t, err)
	g := take()
	require.Len(t, g, 2)
	assert.LessOrEqual(t, decode(t, g[0]), 30*time.Second)
	assert.Greater(t, decode(t, g[0]), 20*time.Second)
	assert.Empty(t, g[1])

	// The attempt's own limit, when shorter, is what is sent.
	c, err = httpx.NewClient(httpx.Config{PropagateDeadline: true, Timeout: 2 * time.Second})
	require.NoError(t, err)
	_, err = c.Get(ctx, srv.URL)
	require.NoError(t, err)
	g = take()
	require.Len(t, g, 1)
	assert.LessOrEqual(t, decode(t, g[0]), 2*time.Second)
	assert.Greater(t, decode(t, g[0]), time.Second)

	// Each attempt carries the time left when it starts.
	c, err = httpx.NewClient(httpx.Config{PropagateDeadline: true, Retry: &retry.Config{MaxAttempts: 2, BaseDelay: 100 * time.Millisecond, MaxDelay: 100 * time.Millisecond}})
	require.NoError(t, err)
	_, err = c.Get(ctx, srv.URL+"/fail")
	require.NoError(t, err)
	g = take()
	require.Len(t, g, 2)
	assert.Less(t, decode(t, g[1]), decode(t, g[0]))

	// Without PropagateDeadline, nothing is sent.
	c, err = httpx.NewClient(httpx.Config{})
	require.NoError(t, err)
	_, err = c.Get(ctx, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, []string{""}, take())

	// A Transport sends it as well.
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	tr, err := httpx.NewTransport(base, httpx.Config{PropagateDeadline: true, Timeout: 2 * time.Second})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	g = take()
	require.Len(t, g, 1)
	assert.LessOrEqual(t, decode(t, g[0]), 2*time.Second)
	assert.Greater(t, decode(t, g[0]), time.Second)

	// Hedged attempts carry it too, without an attempt Timeout: the
	// caller's deadline.
	hc, err := httpx.NewClient(httpx.Config{PropagateDeadline: true, Hedge: &hedge.Config{Delay: time.Second}})
	require.NoError(t, err)
	_, err = hc.Get(ctx, srv.URL)
	require.NoError(t, err)
	tr, err = httpx.NewTransport(base, httpx.Config{PropagateDeadline: true, Hedge: &hedge.Config{Delay: time.Second}})
	require.NoError(t, err)
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err = (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	g = take()
	require.Len(t, g, 2)
	for _, v := range g {
		assert.LessOrEqual(t, decode(t, v), 30*time.Second)
		assert.Greater(t, decode(t, v), 20*time.Second)
	}
}

// hop is one service of a chain: what its handler saw, in time from the
// caller's deadline (negative: before it).
type hop struct {
	deadline time.Duration // its context's deadline
	ended    time.Duration // when its context ended
	cause    error
	callErr  error // of its call to the next hop
}

// runChain starts three loopback services behind Deadlines (Max, trusting
// loopback): the first two call the next with a Client, and the last hangs
// until its context ends; each answers 504 once its context has ended. The
// caller calls the first with a deadline budget away. With deaf, the
// services do not notice a caller hanging up (their request's context is
// not canceled when the connection closes), as many server stacks, and
// proxies that keep the upstream request going, do not. It returns what
// each hop saw, once all have ended.
func runChain(t *testing.T, propagate, deaf bool, budget, max time.Duration) [3]hop {
	t.Helper()
	var hops [3]hop
	var wg sync.WaitGroup
	wg.Add(3)
	var callerDL time.Time // set before the first request
	client, err := httpx.NewClient(httpx.Config{PropagateDeadline: propagate})
	require.NoError(t, err)
	mw := httpx.Deadlines(httpx.DeadlineConfig{Max: max, Trust: httpx.TrustLoopback})
	var next string
	for i := 2; i >= 0; i-- {
		target := next
		var h http.Handler = mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer wg.Done()
			ctx := r.Context()
			dl, _ := ctx.Deadline()
			hops[i].deadline = dl.Sub(callerDL)
			if target != "" {
				_, hops[i].callErr = client.Get(ctx, target)
			}
			<-ctx.Done()
			hops[i].ended = time.Since(callerDL)
			hops[i].cause = context.Cause(ctx)
			w.WriteHeader(http.StatusGatewayTimeout)
		}))
		if deaf {
			inner := h
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inner.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
			})
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		next = srv.URL
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	callerDL, _ = ctx.Deadline()
	_, err = client.Get(ctx, next)
	assert.Error(t, err)
	wg.Wait()
	return hops
}

// TestDeadlineChain is the issue's target: a caller with a 300 ms deadline,
// three services, the last one hanging. With propagation every hop gives
// up at the caller's deadline, even when the caller's hanging up does not
// reach it; without, each runs to its own Max.
func TestDeadlineChain(t *testing.T) {
	const budget, slack, max = 300 * time.Millisecond, 150 * time.Millisecond, 2 * time.Second
	for _, deaf := range []bool{false, true} {
		t.Run(fmt.Sprintf("propagated,deaf=%t", deaf), func(t *testing.T) {
			hops := runChain(t, true, deaf, budget, max)
			for i, h := range hops {
				t.Logf("hop %d: deadline %v, ended %v after the caller's deadline; cause %v", i+1, h.deadline, h.ended, h.cause)
				assert.LessOrEqual(t, h.deadline, slack, "hop %d's deadline is past the caller's", i+1)
				assert.LessOrEqual(t, h.ended, slack, "hop %d ran on", i+1)
				if deaf {
					assert.ErrorIs(t, h.cause, httpx.ErrPropagatedDeadline, "hop %d", i+1)
					var se *httpx.StatusError
					if i < 2 && !(errors.As(h.callErr, &se) && se.StatusCode == http.StatusGatewayTimeout) {
						// Its own call fails with the cause too (unless
						// the next hop's 504 came first).
						assert.ErrorIs(t, h.callErr, httpx.ErrPropagatedDeadline, "hop %d's call", i+1)
					}
				} else if !errors.Is(h.cause, httpx.ErrPropagatedDeadline) {
					// Or the caller hung up first.
					assert.ErrorIs(t, h.cause, context.Canceled, "hop %d", i+1)
				}
			}
		})
	}
	t.Run("not propagated,deaf", func(t *testing.T) {
		hops := runChain(t, false, true, budget, max)
		for i, h := range hops {
			t.Logf("hop %d: deadline %v, ended %v after the caller's deadline; cause %v", i+1, h.deadline, h.ended, h.cause)
			assert.Greater(t, h.ended, max-budget-slack, "hop %d", i+1)
			assert.NotErrorIs(t, h.cause, httpx.ErrPropagatedDeadline)
			assert.ErrorIs(t, h.cause, context.DeadlineExceeded)
		}
	})
}

// TestDeadlinesPropagatedTimeoutsInMetrics: a service whose handler runs
// out of its caller's propagated deadline while calling a hanging
// dependency counts a propagated timeout, not a timeout of the dependency,
// through a Client and through a Transport alike.
func TestDeadlinesPropagatedTimeoutsInMetrics(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer hang.Close()

	clientMetrics, transportMetrics := new(monitor.Metrics), new(monitor.Metrics)
	client, err := httpx.NewClient(httpx.Config{Metrics: clientMetrics, Timeout: 5 * time.Second})
	require.NoError(t, err)
	tr, err := httpx.NewTransport(http.DefaultTransport, httpx.Config{Metrics: transportMetrics, Timeout: 5 * time.Second})
	require.NoError(t, err)
	plain := &http.Client{Transport: tr}
	defer plain.CloseIdleConnections()

	service := httptest.NewServer(httpx.Deadlines(httpx.DeadlineConfig{
		Max:    5 * time.Second,
		Offset: 100 * time.Millisecond, // so that it ends well before its caller hangs up
		Trust:  httpx.TrustLoopback,
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("via") == "client" {
			_, _ = client.Get(r.Context(), hang.URL)
		} else {
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, hang.URL, nil)
			if resp, err := plain.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		w.WriteHeader(http.StatusGatewayTimeout)
	})))
	defer service.Close()

	caller, err := httpx.NewClient(httpx.Config{PropagateDeadline: true, Timeout: 5 * time.Second})
	require.NoError(t, err)
	for _, via := range []string{"client", "transport"} {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		_, _ = caller.Get(ctx, service.URL+"?via="+via)
		cancel()
	}
	for via, m := range map[string]*monitor.Metrics{"Client": clientMetrics, "Transport": transportMetrics} {
		var s monitor.Stats
		require.Eventually(t, func() bool { s = m.Snapshot(); return s.Total == 1 }, 5*time.Second, 10*time.Millisecond, via)
		assert.Equal(t, int64(1), s.PropagatedTimeouts, "%s: %v", via, s)
		assert.Zero(t, s.LimitTimeouts+s.DeadlineTimeouts, via)
	}
}

// BenchmarkDeadlinesExpired measures how long Deadlines takes to answer an
// expired header ("0n") with 504, the handler never called.
func BenchmarkDeadlinesExpired(b *testing.B) {
	h := httpx.Deadlines(httpx.DeadlineConfig{Max: time.Second, Trust: httpx.TrustLoopback})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		b.Fatal("the handler ran")
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "127.0.0.1:4321"
	req.Header.Set(httpx.DeadlineHeader, "0n")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	if w.code != http.StatusGatewayTimeout {
		b.Fatalf("status %d, want 504", w.code)
	}
}

// BenchmarkDeadlinesPropagated measures the middleware on a request with a
// trusted header, to a handler that does nothing.
func BenchmarkDeadlinesPropagated(b *testing.B) {
	h := httpx.Deadlines(httpx.DeadlineConfig{Max: time.Second, Trust: httpx.TrustLoopback})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "127.0.0.1:4321"
	req.Header.Set(httpx.DeadlineHeader, "250m")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// A service of one's own passes its caller's deadline on: the Client sends
// the time left, and the next service's handler gets it, less the Offset,
// on its context.
func ExampleDeadlines() {
	causes := make(chan error, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			<-r.Context().Done()
			causes <- context.Cause(r.Context())
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		dl, _ := r.Context().Deadline()
		left := time.Until(dl)
		fmt.Fprintf(w, "under 250ms left: %t", left > 0 && left <= 250*time.Millisecond)
	})
	srv := httptest.NewServer(httpx.Deadlines(httpx.DeadlineConfig{
		Max:    10 * time.Second,      // no request runs longer, header or not
		Offset: 50 * time.Millisecond, // for the way there and back
		Trust:  httpx.TrustLoopback,   // our own services, on this machine
	})(handler))
	defer srv.Close()

	client, err := httpx.NewClient(httpx.Config{PropagateDeadline: true})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	resp, err := client.Get(ctx, srv.URL)
	fmt.Println(string(resp.Body), err)

	// The handler's context ends at the caller's deadline, and says so.
	_, _ = client.Get(ctx, srv.URL+"/hang")
	cause := <-causes
	fmt.Println(errors.Is(cause, httpx.ErrPropagatedDeadline), errors.Is(cause, context.DeadlineExceeded))

	// A caller with no time left is answered at once, the handler not called.
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set(httpx.DeadlineHeader, "0n")
	resp, _ = client.Do(context.Background(), req)
	fmt.Println(resp.StatusCode)
	// Output:
	// under 250ms left: true <nil>
	// true true
	// 504
}
