package chaos_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/steadyhq/steady/chaos"
)

// newInjector returns an Injector for cfg, failing the test on a config error.
func newInjector(t *testing.T, cfg chaos.Config) *chaos.Injector {
	t.Helper()
	in, err := chaos.New(cfg)
	if err != nil {
		t.Fatalf("chaos.New: %v", err)
	}
	return in
}

// okBody is what the handler behind the faults answers.
const okBody = `{"ok":true,"padding":"0123456789abcdefghij"}` + "\n"

// ok answers okBody with its Content-Length.
var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, okBody)
})

// serve starts a real server with in's faults in front of h (ok if nil),
// and a client of its own that does not reuse connections, so every
// request is one request at the server. Both are closed at the end of the
// test, the Injector first so that hangs end.
func serve(t *testing.T, in *chaos.Injector, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	if h == nil {
		h = ok
	}
	srv := httptest.NewServer(in.Middleware(h))
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(func() {
		in.Close()
		tr.CloseIdleConnections()
		srv.Close()
	})
	return srv, &http.Client{Transport: tr}
}

// get sends a GET and reads the whole body.
func get(c *http.Client, url string) (status int, body []byte, hdr http.Header, err error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header, err
}

// within fails the test unless got is within [lo, hi].
func within(t *testing.T, what string, got, lo, hi int64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %d, want within [%d, %d]", what, got, lo, hi)
	}
}
