package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/dashboard"
)

// clock is a manual clock for dashboards made by NewManual.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// manual returns a Dashboard without sampler on a manual clock.
func manual(t testing.TB, cfg dashboard.Config) (*dashboard.Dashboard, *clock) {
	t.Helper()
	c := newClock()
	d, err := dashboard.NewManual(cfg, c.Now)
	require.NoError(t, err)
	t.Cleanup(d.Close)
	return d, c
}

// serve mounts d at /steady/ on a test server and returns its URL, with
// the trailing slash.
func serve(t testing.TB, d *dashboard.Dashboard) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/steady/", http.StripPrefix("/steady", d))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/steady/"
}

// event is one Server-Sent Event.
type event struct {
	ID    string
	Data  string
	Retry string
}

// decoded is an event's data.
type decoded struct {
	Type string `json:"type"`
	dashboard.Snapshot
}

func (e event) decode(t *testing.T) decoded {
	t.Helper()
	var d decoded
	require.NoError(t, json.Unmarshal([]byte(e.Data), &d), "data: %s", e.Data)
	return d
}

// stream is an open event stream.
type stream struct {
	t      *testing.T
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
	retry  string
}

// open opens the event stream at base+"events" with Last-Event-ID
// lastID (if not empty) and checks the response.
func open(t *testing.T, base, lastID string) *stream {
	t.Helper()
	resp, cancel := get(t, base+"events", lastID)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &stream{t: t, resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(s.Close)
	return s
}

// get sends a GET for url with a Last-Event-ID (if not empty), bounded by
// a generous timeout.
func get(t *testing.T, url, lastID string) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	return resp, cancel
}

func (s *stream) Close() {
	s.cancel()
	_ = s.resp.Body.Close()
}

// Next returns the next event (comments skipped), or io.EOF when the
// stream ended.
func (s *stream) Next() (event, error) {
	var ev event
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.Data != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "retry: "):
			s.retry = strings.TrimPrefix(line, "retry: ")
		case strings.HasPrefix(line, "id: "):
			ev.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data += strings.TrimPrefix(line, "data: ")
		default:
			s.t.Errorf("unexpected line %q", line)
		}
	}
}

// MustNext returns the next event, failing the test if there is none.
func (s *stream) MustNext() decoded {
	s.t.Helper()
	ev, err := s.Next()
	require.NoError(s.t, err)
	d := ev.decode(s.t)
	require.Equal(s.t, ev.ID, d.Epoch+"-"+itoa(d.Seq), "the id is EPOCH-SEQ")
	return d
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// body returns the body of a GET of url, and the response.
func body(t *testing.T, url string) (string, *http.Response) {
	t.Helper()
	resp, cancel := get(t, url, "")
	defer cancel()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b), resp
}

// card returns the card named name in s, failing the test without one.
func card(t *testing.T, s dashboard.Snapshot, name string) dashboard.Card {
	t.Helper()
	for _, c := range s.Cards {
		if c.Name == name {
			return c
		}
	}
	require.Failf(t, "no card", "no card %q in %v", name, names(s))
	return dashboard.Card{}
}

func names(s dashboard.Snapshot) []string {
	var n []string
	for _, c := range s.Cards {
		n = append(n, c.Name)
	}
	return n
}

// listen returns a listener on a random port of 127.0.0.1.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}
