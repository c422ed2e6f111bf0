package browsertest

import (
	"testing"
	"time"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/resilience/breaker"
)

// TestBreakerTripShowsOpen fails real calls through a breaker until it
// opens and checks that the card says so: breaker "open", health "bad".
func TestBreakerTripShowsOpen(t *testing.T) {
	d := newDashboard(t, dashboard.Config{Tick: 250 * time.Millisecond})
	payments := newDependency(t, "payments", &breaker.Settings{ConsecutiveFailures: 5, OpenTimeout: time.Hour})
	payments.succeed(t, 20)
	register(t, d, "payments", payments.parts())

	p := openPage(t, serve(t, d))
	p.waitUntil("payments' breaker closed", 5*time.Second, fieldIs("payments", "breaker", "closed"))
	p.waitUntil("payments healthy", 5*time.Second, healthIs("payments", "ok"))

	n := payments.tripBreaker(t)
	tripped := time.Now()
	const bound = 3 * time.Second
	p.waitUntil("payments' breaker open", bound, fieldIs("payments", "breaker", "open"))
	p.waitUntil("payments bad", bound-time.Since(tripped), healthIs("payments", "bad"))
	t.Logf("the breaker opened after %d failed calls; the card showed it open and bad %v later", n, time.Since(tripped).Round(time.Millisecond))

	c := p.card("payments")
	if c.Fields["transitions"] == "" {
		t.Errorf("the card lists no breaker transition after the trip")
	}
	t.Logf("payments' card: %s", p.describe())
}
