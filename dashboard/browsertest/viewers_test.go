package browsertest

import (
	"testing"
	"time"

	"github.com/steadyhq/steady/dashboard"
)

// TestTurnedAwayViewerRetries opens a second page while the dashboard
// takes one viewer only: its stream is refused (503), the page shows it
// is not live and keeps trying, and it goes live by itself once the first
// page has gone.
func TestTurnedAwayViewerRetries(t *testing.T) {
	d := newDashboard(t, dashboard.Config{Tick: 250 * time.Millisecond, MaxViewers: 1})
	orders := newDependency(t, "orders", nil)
	orders.succeed(t, 2)
	register(t, d, "orders", orders.parts())
	url := serve(t, d)

	first := openPage(t, url)
	first.waitUntil("the first page shows orders", 5*time.Second, fieldIs("orders", "total", "2"))
	second := first.openTab(url)
	second.waitUntil("the second page says it is not live", 5*time.Second, `["connecting", "reconnecting"].includes(document.body.dataset.conn)`)
	// It stays so while the first page holds the only place.
	if took, ok := second.tryUntil(1500*time.Millisecond, `document.body.dataset.conn === "live"`); ok {
		t.Fatalf("the second page went live %v after it loaded, past MaxViewers 1", took)
	}

	first.navigate("about:blank") // the first viewer leaves
	left := time.Now()
	second.waitUntil("the second page is live", 10*time.Second, `document.body.dataset.conn === "live"`)
	second.waitUntil("the second page shows orders", 5*time.Second, fieldIs("orders", "total", "2"))
	t.Logf("the turned-away page was live %v after the first page left", time.Since(left).Round(time.Millisecond))
}
