package browsertest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/resilience/breaker"
)

// maxEventToScreen is the requirement: a change in the metrics is
// on the page within a second.
const maxEventToScreen = time.Second

// watchJS installs, in the page, a MutationObserver that notes the time
// (performance.timeOrigin + performance.now(), in Unix milliseconds: the
// same wall clock as Go's time.Now on this machine) of every change of the
// text of data-field="total" in the card named %s, with the data-last-id
// the page had applied by then, and the time of the next animation frame
// after it (when the browser starts to paint the change). It also notes
// each change of data-last-id.
const watchJS = `(() => {
	const name = %s;
	const now = () => performance.timeOrigin + performance.now();
	const total = () => {
		const c = [...document.querySelectorAll('#cards article.card')].find(c => c.dataset.name === name);
		const e = c && c.querySelector('[data-field="total"]');
		return e ? e.textContent.trim() : null;
	};
	const w = window.__steadyWatch = {changes: [], ids: []};
	let last = total(), lastID = document.body.dataset.lastId;
	new MutationObserver(() => {
		const t = now(), id = document.body.dataset.lastId, v = total();
		if (id !== lastID) { lastID = id; w.ids.push({id: id, t: t}); }
		if (v === last) return;
		last = v;
		const rec = {v: v, t: t, id: id, frame: 0};
		w.changes.push(rec);
		requestAnimationFrame(() => { rec.frame = now(); });
	}).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-last-id']});
	return true;
})()`

// change is one change the watcher saw.
type change struct {
	V     string  `json:"v"`     // the new text of the total
	T     float64 `json:"t"`     // when the DOM had it, Unix ms
	ID    string  `json:"id"`    // the data-last-id applied by then
	Frame float64 `json:"frame"` // the next animation frame, Unix ms; 0 if none yet
}

// unixMS is t in Unix milliseconds, as the page's clock reads.
func unixMS(t time.Time) float64 { return float64(t.UnixMicro()) / 1e3 }

// ms is a duration of f milliseconds.
func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// TestValueChangesWithinASecond records calls in Go and measures, in the
// page, when the card's total changes: each change must be on the page
// within maxEventToScreen. It logs the event-to-screen latencies and
// splits each into the wait for the sampler's tick and the push to the
// screen (from the moment an SSE client in this test received the event
// to the moment the page applied it).
func TestValueChangesWithinASecond(t *testing.T) {
	const tick = 250 * time.Millisecond
	d := newDashboard(t, dashboard.Config{Tick: tick})
	dep := newDependency(t, "orders", &breaker.Settings{})
	dep.succeed(t, 1)
	register(t, d, "orders", dep.parts())
	url := serve(t, d)

	sent := readEvents(t, url+"events")
	p := openPage(t, url)
	p.waitUntil("orders' total is 1", 5*time.Second, fieldIs("orders", "total", "1"))
	eval[bool](p, fmt.Sprintf(watchJS, js("orders")))

	const changes = 6
	var toScreen, toSent, pushed, toFrame []time.Duration
	for i := range changes {
		// Vary the phase of the change against the sampler's tick.
		time.Sleep(tick + time.Duration(i)*tick/changes)
		seen := len(eval[[]change](p, "window.__steadyWatch.changes"))
		dep.succeed(t, 1)
		t0 := time.Now() // the call has been recorded: the event
		want := strconv.FormatInt(dep.metrics.Snapshot().Total, 10)
		p.waitUntil("the total changes", 10*time.Second, fmt.Sprintf("window.__steadyWatch.changes.length > %d", seen))
		c := eval[[]change](p, "window.__steadyWatch.changes")[seen]
		if c.V != want {
			t.Errorf("change %d: the total went to %q, want %q", i, c.V, want)
		}
		lat := ms(c.T - unixMS(t0))
		toScreen = append(toScreen, lat)
		if lat > maxEventToScreen {
			t.Errorf("change %d: on the page %v after the call, want <= %v", i, lat, maxEventToScreen)
		}
		line := fmt.Sprintf("change %d: total %s on the page %v after the call (event %s)", i, c.V, lat.Round(100*time.Microsecond), c.ID)
		if at, ok := sent.at(c.ID); ok {
			toSent = append(toSent, at.Sub(t0))
			push := ms(c.T - unixMS(at))
			pushed = append(pushed, push)
			line += fmt.Sprintf("; pushed %v after the call, applied %v after the push", at.Sub(t0).Round(100*time.Microsecond), push.Round(100*time.Microsecond))
		}
		t.Log(line)
	}
	// The frames were requested in the loop; read them once they ran.
	time.Sleep(100 * time.Millisecond)
	for _, c := range eval[[]change](p, "window.__steadyWatch.changes") {
		if c.Frame > 0 {
			toFrame = append(toFrame, ms(c.Frame-c.T))
		}
	}
	t.Logf("event to screen (call recorded in Go → total changed in the DOM), %d changes, Tick %v: %s", len(toScreen), tick, spread(toScreen))
	if len(pushed) > 0 {
		t.Logf("  of which the wait for the sampler (call → event received by a Go SSE client): %s", spread(toSent))
		t.Logf("  and push to screen (event received by a Go SSE client → applied in the DOM): %s", spread(pushed))
	} else {
		t.Log("  push to screen: not measured (the Go SSE client saw none of the events the page applied)")
	}
	if len(toFrame) > 0 {
		t.Logf("  DOM change → next animation frame: %s", spread(toFrame))
	}
}

// spread formats min/median/max of ds.
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	return fmt.Sprintf("min %v, median %v, max %v (n=%d)", r(s[0]), r(s[len(s)/2]), r(s[len(s)-1]), len(s))
}

// events records when this process received each event of an SSE stream.
type events struct {
	mu   sync.Mutex
	seen map[string]time.Time // event id → when its blank line arrived
}

// at returns when the event id arrived.
func (e *events) at(id string) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	at, ok := e.seen[id]
	return at, ok
}

// readEvents reads the SSE stream at url in the background, as a second
// viewer, noting when each event arrives. On loopback that is within a
// fraction of a millisecond of when the dashboard wrote it. t.Cleanup
// stops it.
func readEvents(t *testing.T, url string) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	e := &events{seen: make(map[string]time.Time)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 16<<20) // the first event holds the history
		var id string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id:"):
				id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
			case line == "" && id != "":
				now := time.Now()
				e.mu.Lock()
				e.seen[id] = now
				e.mu.Unlock()
				id = ""
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		http.DefaultClient.CloseIdleConnections()
	})
	return e
}
