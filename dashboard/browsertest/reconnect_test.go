package browsertest

import (
	"testing"
	"time"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/resilience/breaker"
)

// TestReconnectAfterRestart stops the dashboard's server under an open
// page, then starts a new dashboard, with other parts, at the same
// address: the page must notice the loss, reconnect by itself and show
// the new dashboard's cards.
func TestReconnectAfterRestart(t *testing.T) {
	const tick = 250 * time.Millisecond
	ln := listen(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	url := "http://" + addr + mountAt + "/"

	d1 := newDashboard(t, dashboard.Config{Tick: tick})
	for _, name := range []string{"alpha", "beta"} {
		dep := newDependency(t, name, nil)
		dep.succeed(t, 3)
		register(t, d1, name, dep.parts())
	}
	s1 := startServer(t, ln, d1)
	p := openPage(t, url)
	p.waitUntil("the first dashboard's cards", 5*time.Second, cardNamesAre("alpha", "beta"))
	firstID := eval[string](p, "document.body.dataset.lastId")

	s1.stop(t)
	stopped := time.Now()
	lost := p.waitUntil("the page shows the connection is not live", 5*time.Second, `document.body.dataset.conn !== "live"`)
	conn := eval[string](p, "document.body.dataset.conn")
	t.Logf("the page showed data-conn=%q %v after the server stopped", conn, lost.Round(time.Millisecond))
	if conn != "connecting" && conn != "reconnecting" {
		t.Errorf("data-conn=%q, want connecting or reconnecting", conn)
	}
	// Stay down long enough for the page to fail at least one attempt to
	// reconnect (EventSource retries after 1s).
	time.Sleep(2*time.Second - time.Since(stopped))

	d2 := newDashboard(t, dashboard.Config{Tick: tick})
	gamma := newDependency(t, "gamma", &breaker.Settings{})
	gamma.succeed(t, 7)
	register(t, d2, "gamma", gamma.parts())
	delta := newDependency(t, "delta", nil)
	delta.succeed(t, 2)
	register(t, d2, "delta", delta.parts())
	startServer(t, listen(t, addr), d2)
	restarted := time.Now()

	const bound = 10 * time.Second
	p.waitUntil("the page is live again", bound, `document.body.dataset.conn === "live"`)
	p.waitUntil("the new dashboard's cards", bound-time.Since(restarted), cardNamesAre("delta", "gamma"))
	p.waitUntil("gamma's total", bound-time.Since(restarted), fieldIs("gamma", "total", "7"))
	t.Logf("after the restart the page was live with the new cards in %v", time.Since(restarted).Round(time.Millisecond))
	if id := eval[string](p, "document.body.dataset.lastId"); id == firstID {
		t.Errorf("data-last-id is still %q, from the first dashboard", id)
	}

	// And it keeps following the new dashboard.
	gamma.succeed(t, 1)
	p.waitUntil("gamma's total follows", 5*time.Second, fieldIs("gamma", "total", "8"))
}
