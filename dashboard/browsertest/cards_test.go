package browsertest

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/resilience/breaker"
)

// allFields are the data-field elements every card has (DOM contract).
var allFields = []string{
	"name", "total", "rate", "success", "timeouts", "p50", "p99", "limit",
	"breaker", "transitions", "hedges", "budget", "bulkhead", "alerts",
	"spark-rate", "spark-latency",
}

// TestCardPerPart loads the page and checks that it shows one card per
// registered part, sorted by name, with the part's figures, and that a
// card comes and goes with Register and Unregister.
func TestCardPerPart(t *testing.T) {
	d := newDashboard(t, dashboard.Config{Tick: 250 * time.Millisecond, Title: "browser test"})
	orders := newDependency(t, "orders", nil)
	payments := newDependency(t, "payments", &breaker.Settings{ConsecutiveFailures: 5, OpenTimeout: time.Hour})
	inventory := newDependency(t, "inventory", &breaker.Settings{})
	orders.succeed(t, 12)
	payments.succeed(t, 3)
	register(t, d, "orders", orders.parts())
	register(t, d, "payments", payments.parts())
	register(t, d, "inventory", dashboard.Parts{Breaker: inventory.breaker})

	p := openPage(t, serve(t, d))
	want := []string{"inventory", "orders", "payments"}
	p.waitUntil("three cards, sorted by name", 5*time.Second, cardNamesAre(want...))
	if title := eval[string](p, "document.title"); title != "browser test" {
		t.Errorf("document.title = %q, want the Config's Title %q", title, "browser test")
	}
	p.waitUntil("orders' total is 12", 5*time.Second, fieldIs("orders", "total", "12"))
	p.waitUntil("payments' total is 3", 5*time.Second, fieldIs("payments", "total", "3"))

	cards := p.cards()
	if got := names(cards); !slices.Equal(got, want) {
		t.Fatalf("cards %q, want %q", got, want)
	}
	for _, c := range cards {
		for _, f := range allFields {
			if _, ok := c.Fields[f]; !ok {
				t.Errorf("card %q has no data-field=%q element", c.Name, f)
			}
		}
		if c.Fields["name"] != c.Name {
			t.Errorf("card %q shows the name %q", c.Name, c.Fields["name"])
		}
		if c.Health != "ok" {
			t.Errorf("card %q: data-health=%q, want ok (no failure yet)", c.Name, c.Health)
		}
	}
	for name, want := range map[string]string{"orders": "—", "payments": "closed", "inventory": "closed"} {
		if got := p.card(name).Fields["breaker"]; got != want {
			t.Errorf("card %q: breaker %q, want %q", name, got, want)
		}
	}

	// A part registered while the page is open gets a card in its place,
	// and loses it when unregistered.
	late := newDependency(t, "billing", nil)
	late.succeed(t, 1)
	register(t, d, "billing", late.parts())
	p.waitUntil("a card for billing, registered later", 5*time.Second, cardNamesAre("billing", "inventory", "orders", "payments"))
	if !d.Unregister("orders") {
		t.Fatal(`Unregister("orders") = false`)
	}
	p.waitUntil("orders' card gone", 5*time.Second, cardNamesAre("billing", "inventory", "payments"))
}

// TestNameIsText registers parts named like markup and checks that the
// page shows the names as text: no element is made from them and no
// script of theirs runs.
func TestNameIsText(t *testing.T) {
	d := newDashboard(t, dashboard.Config{Tick: 250 * time.Millisecond})
	hostile := []string{
		`<img src=x onerror="document.body.dataset.pwned='img'">`,
		`"><script>document.body.dataset.pwned='script'</script>`,
		`</title><svg onload="document.body.dataset.pwned='svg'">`,
	}
	for i, name := range hostile {
		dep := newDependency(t, name, nil)
		dep.succeed(t, i+1)
		register(t, d, name, dep.parts())
	}
	p := openPage(t, serve(t, d))
	want := slices.Clone(hostile)
	slices.Sort(want)
	p.waitUntil("a card per hostile name", 5*time.Second, cardNamesAre(want...))
	for i, name := range hostile {
		p.waitUntil("the card's total", 5*time.Second, fieldIs(name, "total", strconv.Itoa(i+1)))
		if got := p.card(name).Fields["name"]; got != name {
			t.Errorf("the card shows the name %q, want the text %q", got, name)
		}
	}
	// Give an onerror or onload a moment to run, had an element been made.
	time.Sleep(300 * time.Millisecond)
	if n := eval[int](p, `document.querySelectorAll('#cards img, #cards script, #cards svg[onload]').length`); n != 0 {
		t.Errorf("%d elements were made from the names", n)
	}
	if pwned := eval[string](p, `document.body.dataset.pwned || ""`); pwned != "" {
		t.Errorf("a name's script ran (%s)", pwned)
	}
}
