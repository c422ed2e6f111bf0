package dashboard_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/internal/testlog"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

func TestServe_routes(t *testing.T) {
	d, _ := manual(t, dashboard.Config{})
	base := serve(t, d)

	for _, tc := range []struct{ path, typ, has string }{
		{"", "text/html; charset=utf-8", `<main id="cards">`},
		{"app.js", "text/javascript; charset=utf-8", "new EventSource('events')"},
		{"style.css", "text/css; charset=utf-8", ".card"},
		{"snapshot.json", "application/json", `"cards":[]`},
	} {
		t.Run("/"+tc.path, func(t *testing.T) {
			b, resp := body(t, base+tc.path)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, tc.typ, resp.Header.Get("Content-Type"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			csp := resp.Header.Get("Content-Security-Policy")
			assert.Contains(t, csp, "default-src 'none'")
			assert.Contains(t, csp, "script-src 'self'")
			assert.NotContains(t, csp, "unsafe-inline")
			assert.Contains(t, b, tc.has)
		})
	}

	for _, p := range []string{"nope", "index.html", "events/x", "static/app.js", "snapshot.json/"} {
		_, resp := body(t, base+p)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}

	for _, p := range []string{"", "events", "snapshot.json", "app.js"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			req, err := http.NewRequestWithContext(t.Context(), m, base+p, strings.NewReader("x"))
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, m+" /"+p)
			assert.NotEmpty(t, resp.Header.Get("Allow"))
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, base+"events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "HEAD of the stream")
}

// TestServe_redirect checks that the mount point without its slash leads
// to the page, whose relative URLs need the slash.
func TestServe_redirect(t *testing.T) {
	d, _ := manual(t, dashboard.Config{})
	base := serve(t, d) // ".../steady/"
	// The mux redirects "/steady" itself; mounted with a pattern without
	// the slash, the Dashboard does.
	mux := http.NewServeMux()
	mux.Handle("/steady", http.StripPrefix("/steady", d))
	rr := &recorder{header: http.Header{}}
	req, err := http.NewRequest(http.MethodGet, "/steady", nil)
	require.NoError(t, err)
	req.RequestURI = "/steady"
	mux.ServeHTTP(rr, req)
	assert.Equal(t, http.StatusMovedPermanently, rr.code)
	assert.Equal(t, "./steady/", rr.header.Get("Location"))

	b, resp := body(t, strings.TrimSuffix(base, "/"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, b, `<main id="cards">`)
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(code int)        { r.code = code }

func TestServe_snapshotJSON(t *testing.T) {
	d, clk := manual(t, dashboard.Config{Title: "shop"})
	m := &monitor.Metrics{}
	require.NoError(t, d.Register("payments", dashboard.Parts{Metrics: m}))
	require.NoError(t, d.Register("accounts", dashboard.Parts{Metrics: &monitor.Metrics{}}))
	m.Record(time.Millisecond, resilience.OutcomeSuccess)
	clk.Add(time.Second)
	d.Step()
	base := serve(t, d)

	b, _ := body(t, base+"snapshot.json")
	var s dashboard.Snapshot
	require.NoError(t, json.Unmarshal([]byte(b), &s))
	assert.Equal(t, d.Snapshot(), s, "the endpoint serves Snapshot")
	assert.Equal(t, "shop", s.Title)
	assert.Equal(t, []string{"accounts", "payments"}, names(s), "sorted by name")
	assert.Equal(t, 1.0, s.Tick)
	assert.Equal(t, 120.0, s.History)

	// The field names of the package documentation, snake_case.
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(b), &raw))
	c := raw["cards"].([]any)[1].(map[string]any)
	for _, f := range []string{"name", "health", "total", "rate", "success", "timeout_rate", "timeouts", "p50", "p99",
		"alerts", "limit", "breaker", "hedge", "budget", "bulkhead", "history"} {
		assert.Contains(t, c, f)
	}
	assert.Equal(t, 1.0, c["total"])
}

// TestServe_escaping checks that a name with markup reaches the page as
// escaped JSON, and that the page never parses data as HTML.
func TestServe_escaping(t *testing.T) {
	d, clk := manual(t, dashboard.Config{})
	const evil = `<img src=x onerror="alert(1)">&</script>`
	require.NoError(t, d.Register(evil, dashboard.Parts{Metrics: &monitor.Metrics{}}))
	base := serve(t, d)
	b, _ := body(t, base+"snapshot.json")
	assert.NotContains(t, b, "<")
	assert.NotContains(t, b, ">")
	assert.Contains(t, b, `\u003cimg src=x onerror=\"alert(1)\"\u003e\u0026\u003c/script\u003e`)

	st := open(t, base, "")
	clk.Add(time.Second)
	d.Step()
	for range 2 {
		ev, err := st.Next()
		require.NoError(t, err)
		assert.NotContains(t, ev.Data, "<")
		assert.Equal(t, evil, ev.decode(t).Cards[0].Name)
	}

	js, err := os.ReadFile("static/app.js")
	require.NoError(t, err)
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(", "srcdoc"} {
		assert.NotContains(t, string(js), sink)
	}
	html, err := os.ReadFile("static/index.html")
	require.NoError(t, err)
	assert.NotRegexp(t, regexp.MustCompile(`<script>|<script [^>]*>[^<]`), string(html), "no inline script")
	assert.NotContains(t, string(html), "style=", "no inline style")
}

// TestPageWeight keeps the page, its script and its style sheet under 50 KB.
func TestPageWeight(t *testing.T) {
	n := dashboard.StaticSize()
	t.Logf("page weight: %d bytes", n)
	assert.LessOrEqual(t, n, 50*1024)
}

func TestEvents_firstIsFull(t *testing.T) {
	d, clk := manual(t, dashboard.Config{})
	m := &monitor.Metrics{}
	require.NoError(t, d.Register("api", dashboard.Parts{Metrics: m}))
	for range 3 {
		m.Record(time.Millisecond, resilience.OutcomeSuccess)
		clk.Add(time.Second)
		d.Step()
	}
	st := open(t, serve(t, d), "")
	ev := st.MustNext()
	assert.Equal(t, "1000", st.retry)
	assert.Equal(t, "full", ev.Type)
	assert.Equal(t, d.Epoch(), ev.Epoch)
	assert.Equal(t, uint64(3), ev.Seq)
	c := card(t, ev.Snapshot, "api")
	require.NotNil(t, c.History)
	assert.InDeltaSlice(t, []float64{1, 1, 1}, c.History.Rate, 1e-9)

	// Then one event per tick, with this tick's figures and no history.
	total := int64(3)
	for i := range 3 {
		for range 2 + i {
			m.Record(time.Millisecond, resilience.OutcomeSuccess)
		}
		clk.Add(time.Second)
		d.Step()
		ev = st.MustNext()
		assert.Equal(t, "tick", ev.Type)
		assert.Equal(t, uint64(4+i), ev.Seq)
		c = card(t, ev.Snapshot, "api")
		assert.Nil(t, c.History)
		assert.InDelta(t, float64(2+i), *c.Rate, 1e-9)
		total += int64(2 + i)
		assert.Equal(t, total, *c.Total)
	}
}

func TestEvents_resume(t *testing.T) {
	d, clk := manual(t, dashboard.Config{Tick: time.Second, History: 5 * time.Second})
	require.NoError(t, d.Register("api", dashboard.Parts{Metrics: &monitor.Metrics{}}))
	base := serve(t, d)
	tick := func(n int) {
		for range n {
			clk.Add(time.Second)
			d.Step()
		}
	}
	tick(3)
	st := open(t, base, "")
	first := st.MustNext()
	require.Equal(t, uint64(3), first.Seq)
	st.Close()
	tick(3) // the viewer misses 4, 5 and 6

	t.Run("same epoch: the missed ticks only", func(t *testing.T) {
		st := open(t, base, d.Epoch()+"-3")
		for seq := uint64(4); seq <= 6; seq++ {
			ev := st.MustNext()
			assert.Equal(t, "tick", ev.Type)
			assert.Equal(t, seq, ev.Seq)
		}
		tick(1)
		ev := st.MustNext()
		assert.Equal(t, "tick", ev.Type)
		assert.Equal(t, uint64(7), ev.Seq)
	})
	t.Run("same epoch, up to date: nothing until the next tick", func(t *testing.T) {
		st := open(t, base, d.Epoch()+"-7")
		tick(1)
		ev := st.MustNext()
		assert.Equal(t, "tick", ev.Type)
		assert.Equal(t, uint64(8), ev.Seq)
	})
	t.Run("same epoch, older than the history: full", func(t *testing.T) {
		ev := open(t, base, d.Epoch()+"-2").MustNext()
		assert.Equal(t, "full", ev.Type)
		assert.Equal(t, uint64(8), ev.Seq)
	})
	for _, id := range []string{"0123456789abcdef-7", "garbage", d.Epoch() + "-x", d.Epoch() + "-99"} {
		t.Run("other epoch or bad id "+id+": full", func(t *testing.T) {
			ev := open(t, base, id).MustNext()
			assert.Equal(t, "full", ev.Type)
			assert.Equal(t, uint64(8), ev.Seq)
			assert.Len(t, card(t, ev.Snapshot, "api").History.Rate, 5)
		})
	}
}

func TestEvents_cardsComeAndGo(t *testing.T) {
	d, clk := manual(t, dashboard.Config{})
	require.NoError(t, d.Register("a", dashboard.Parts{Metrics: &monitor.Metrics{}}))
	st := open(t, serve(t, d), "")
	assert.Equal(t, []string{"a"}, names(st.MustNext().Snapshot))

	require.NoError(t, d.Register("b", dashboard.Parts{Metrics: &monitor.Metrics{}}))
	clk.Add(time.Second)
	d.Step()
	assert.Equal(t, []string{"a", "b"}, names(st.MustNext().Snapshot))

	d.Unregister("a")
	clk.Add(time.Second)
	d.Step()
	assert.Equal(t, []string{"b"}, names(st.MustNext().Snapshot))
}

func TestEvents_maxViewers(t *testing.T) {
	var logs testlog.Buffer
	d, _ := manual(t, dashboard.Config{MaxViewers: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	base := serve(t, d)
	a := open(t, base, "")
	a.MustNext()
	b := open(t, base, "")
	b.MustNext()

	resp, cancel := get(t, base+"events", "")
	defer cancel()
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))
	assert.Contains(t, logs.String(), `level=WARN msg="dashboard: viewer refused, MaxViewers reached" max_viewers=2`)

	// A viewer that leaves frees its place.
	a.Close()
	require.Eventually(t, func() bool { return d.Viewers() == 1 }, 10*time.Second, 5*time.Millisecond)
	open(t, base, "").MustNext()
}

func TestEvents_closeEndsStreams(t *testing.T) {
	d, _ := manual(t, dashboard.Config{})
	base := serve(t, d)
	st := open(t, base, "")
	st.MustNext()
	d.Close()
	_, err := st.Next()
	assert.ErrorIs(t, err, io.EOF, "the stream ends")
	d.Close() // idempotent

	resp, cancel := get(t, base+"events", "")
	defer cancel()
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a closed Dashboard takes no new stream")
	_, resp = body(t, base+"snapshot.json")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the snapshot still answers")
}

func TestEvents_serverShutdown(t *testing.T) {
	d, _ := manual(t, dashboard.Config{})
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(d.Close)
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	st := open(t, "http://"+ln.Addr().String()+"/", "")
	st.MustNext()
	require.NoError(t, srv.Shutdown(t.Context()), "the stream ends, so Shutdown returns")
	require.ErrorIs(t, <-done, http.ErrServerClosed)
	_, err := st.Next()
	assert.Error(t, err)
}

// TestEvents_slowViewer checks that a viewer that does not read holds up
// neither the ticks nor the other viewers, and catches up when it reads
// (with the full state, if it fell behind the history: TestEvents_resume
// checks that choice).
func TestEvents_slowViewer(t *testing.T) {
	d, clk := manual(t, dashboard.Config{Tick: time.Second, History: 10 * time.Second})
	for _, n := range "abcdefghijklmnopqrst" {
		require.NoError(t, d.Register(strings.Repeat(string(n), 1000), dashboard.Parts{Metrics: &monitor.Metrics{}}))
	}
	base := serve(t, d)
	slow := open(t, base, "")
	fast := open(t, base, "")
	fast.MustNext()
	read := make(chan uint64)
	go func() {
		defer close(read)
		for {
			ev, err := fast.Next()
			if err != nil {
				return
			}
			var e decoded
			if json.Unmarshal([]byte(ev.Data), &e) == nil {
				read <- e.Seq
			}
		}
	}()
	const ticks = 100 // 20 KB each
	for i := range ticks {
		clk.Add(time.Second)
		d.Step()
		require.Equal(t, uint64(i+1), <-read, "the fast viewer gets every tick")
	}
	ev := slow.MustNext()
	require.Equal(t, "full", ev.Type, "the first event")
	var last decoded
	fulls := 0
	for last.Seq < ticks {
		last = slow.MustNext()
		if last.Type == "full" {
			fulls++
			assert.Len(t, last.Cards[0].History.Rate, 10)
		}
	}
	assert.Equal(t, uint64(ticks), last.Seq, "the slow viewer catches up")
	t.Logf("the slow viewer got %d full states", fulls)
	fast.Close()
	for range read {
	}
}

// TestEvents_heartbeat checks that an idle stream (a Tick longer than the
// heartbeat) gets comments, and still its events.
func TestEvents_heartbeat(t *testing.T) {
	d, clk := manual(t, dashboard.Config{Tick: time.Minute})
	d.SetHeartbeat(10 * time.Millisecond)
	st := open(t, serve(t, d), "")
	st.MustNext()
	for range 3 {
		line, err := st.r.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, ": keep-alive\n", line)
		line, err = st.r.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, "\n", line)
	}
	clk.Add(time.Minute)
	d.Step()
	ev := st.MustNext()
	assert.Equal(t, uint64(1), ev.Seq)
}

// TestEvents_resumeKeeps64 checks that the missed ticks are sent for up
// to 64 ticks back, and the full state for a viewer further behind.
func TestEvents_resumeKeeps64(t *testing.T) {
	d, clk := manual(t, dashboard.Config{}) // 120 ticks of history
	for range 100 {
		clk.Add(time.Second)
		d.Step()
	}
	base := serve(t, d)
	st := open(t, base, d.Epoch()+"-36")
	for seq := uint64(37); seq <= 100; seq++ {
		ev := st.MustNext()
		require.Equal(t, "tick", ev.Type)
		require.Equal(t, seq, ev.Seq)
	}
	ev := open(t, base, d.Epoch()+"-35").MustNext()
	assert.Equal(t, "full", ev.Type)
	assert.Equal(t, uint64(100), ev.Seq)
}
