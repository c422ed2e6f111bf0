package httpx_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server starts a real loopback server whose handler is h, counting hits.
func server(t testing.TB, h func(w http.ResponseWriter, r *http.Request, hit int64)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r, hits.Add(1))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// sleep waits for d or until the client goes away, so that a test server
// never holds up srv.Close.
func sleep(r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

// statuses answers with codes[i] on hit i+1, and with the last code after.
func statuses(codes ...int) func(http.ResponseWriter, *http.Request, int64) {
	return func(w http.ResponseWriter, r *http.Request, hit int64) {
		code := codes[min(int(hit), len(codes))-1]
		w.WriteHeader(code)
		_, _ = io.WriteString(w, http.StatusText(code))
	}
}

// countingTransport is a real RoundTripper (over http.DefaultTransport's
// settings) that counts the response bodies it hands out and how many of
// them were closed.
type countingTransport struct {
	base           http.RoundTripper
	opened, closed atomic.Int64
	mu             sync.Mutex
	bodies         []*countingBody
}

func newCountingTransport(t *testing.T) *countingTransport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	return &countingTransport{base: base}
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	c.opened.Add(1)
	b := &countingBody{ReadCloser: resp.Body, owner: c}
	c.mu.Lock()
	c.bodies = append(c.bodies, b)
	c.mu.Unlock()
	resp.Body = b
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	owner  *countingTransport
	once   sync.Once
	drawn  atomic.Int64
	closed atomic.Bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.drawn.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error {
	b.once.Do(func() { b.owner.closed.Add(1); b.closed.Store(true) })
	return b.ReadCloser.Close()
}

// discardLogger keeps test output quiet.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// failFirst answers 503 to the first request of each ?case=..., and 200
// "ok" after, provided the request body is want.
func failFirst(want string) func(http.ResponseWriter, *http.Request, int64) {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(w http.ResponseWriter, r *http.Request, hit int64) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != want {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		first := !seen[r.URL.Query().Get("case")]
		seen[r.URL.Query().Get("case")] = true
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}
}
