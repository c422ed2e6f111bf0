package browsertest

import (
	"strconv"
	"strings"
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
	s2 := startServer(t, listen(t, addr), d2)
	restarted := time.Now()

	const bound = 10 * time.Second
	p.waitUntil("the page is live again", bound, `document.body.dataset.conn === "live"`)
	p.waitUntil("the new dashboard's cards", bound-time.Since(restarted), cardNamesAre("delta", "gamma"))
	p.waitUntil("gamma's total", bound-time.Since(restarted), fieldIs("gamma", "total", "7"))
	t.Logf("after the restart the page was live with the new cards in %v", time.Since(restarted).Round(time.Millisecond))
	if id := eval[string](p, "document.body.dataset.lastId"); id == firstID {
		t.Errorf("data-last-id is still %q, from the first dashboard", id)
	}
	// The first dashboard's ids mean nothing to the second, which answers
	// them with its full state (the page showing its cards proves that).
	t.Logf("Last-Event-ID of the requests to the new server: %q (the first dashboard's last: %q)", s2.lastEventIDs(), firstID)

	// And it keeps following the new dashboard.
	gamma.succeed(t, 1)
	p.waitUntil("gamma's total follows", 5*time.Second, fieldIs("gamma", "total", "8"))
}

// TestResumeAfterDroppedStream cuts the page's connections while the
// server stays up: the browser reconnects by itself with the Last-Event-ID
// of the last event the page applied, the dashboard (same epoch) sends the
// ticks it missed, and the page shows the calls made during the cut.
func TestResumeAfterDroppedStream(t *testing.T) {
	d := newDashboard(t, dashboard.Config{Tick: 250 * time.Millisecond})
	orders := newDependency(t, "orders", nil)
	orders.succeed(t, 1)
	register(t, d, "orders", orders.parts())
	ln := listen(t, "127.0.0.1:0")
	s := startServer(t, ln, d)
	p := openPage(t, "http://"+ln.Addr().String()+mountAt+"/")
	p.waitUntil("orders' total is 1", 5*time.Second, fieldIs("orders", "total", "1"))

	before := eval[string](p, "document.body.dataset.lastId")
	s.ln.cut()
	cut := time.Now()
	orders.succeed(t, 3)
	p.waitUntil("the page shows the calls made during the cut", 10*time.Second, fieldIs("orders", "total", "4"))
	p.waitUntil("the page is live", 10*time.Second, `document.body.dataset.conn === "live"`)
	t.Logf("the page was live again, with the calls made during the cut, %v after the cut", time.Since(cut).Round(time.Millisecond))

	ids := s.lastEventIDs()
	t.Logf("Last-Event-ID of each request for the stream: %q (the page had applied %q before the cut)", ids, before)
	if len(ids) < 2 {
		t.Fatalf("%d requests for the stream; want a second one after the cut", len(ids))
	}
	epoch, seq := splitID(t, before)
	resumed := ids[len(ids)-1]
	if e, s := splitID(t, resumed); e != epoch || s < seq {
		t.Errorf("the page resumed with Last-Event-ID %q; want epoch %s and at least event %d, the last it had applied", resumed, epoch, seq)
	}
	if e, _ := splitID(t, eval[string](p, "document.body.dataset.lastId")); e != epoch {
		t.Errorf("data-last-id has the epoch %s, want the same dashboard's %s", e, epoch)
	}
}

// splitID splits an event id "EPOCH-SEQ".
func splitID(t *testing.T, id string) (string, uint64) {
	t.Helper()
	epoch, seq, ok := strings.Cut(id, "-")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil {
		t.Fatalf("event id %q, want EPOCH-SEQ", id)
	}
	return epoch, n
}
