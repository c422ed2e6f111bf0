package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one command to the browser (an evaluation, a
// navigation, a screenshot). The commands take milliseconds; the bound is
// for a loaded machine and only ends a test that would otherwise hang.
const stepTimeout = 20 * time.Second

// page is one tab showing a dashboard. Its methods fail the test on a
// browser error. It records the page's script errors, console errors and
// Content-Security-Policy violations, which checkClean reports.
type page struct {
	t   *testing.T
	ctx context.Context // the tab

	mu       sync.Mutex
	problems []string // what went wrong in the page, in order
	network  []string // the network errors the page logged, in order
}

// openPage starts a browser, loads url in it and waits until the page
// shows a live stream (body[data-conn="live"]). At the end of the test it
// fails the test if the page threw, logged an error or broke its
// Content-Security-Policy.
func openPage(t *testing.T, url string) *page {
	t.Helper()
	p := watchPage(t, newBrowser(t))
	p.navigate(url)
	p.waitUntil("the page is live", 15*time.Second, `document.body.dataset.conn === "live"`)
	return p
}

// openTab opens a second tab in p's browser and loads url in it, without
// waiting for it to be live. t.Cleanup closes the tab.
func (p *page) openTab(url string) *page {
	p.t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx)
	p.t.Cleanup(cancel)
	q := watchPage(p.t, ctx)
	q.navigate(url)
	return q
}

// watchPage returns the page of the tab ctx, recording its problems from
// now on; t.Cleanup reports them.
func watchPage(t *testing.T, ctx context.Context) *page {
	t.Helper()
	p := &page{t: t, ctx: ctx}
	if err := chromedp.Listen(ctx, p.listen); err != nil {
		t.Fatalf("listening to the page's events: %v", err)
	}
	t.Cleanup(p.checkClean)
	return p
}

// navigate loads url in the tab.
func (p *page) navigate(url string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("loading %s: %v", url, err)
	}
}

// listen runs on chromedp's reading goroutine, so it only stores.
func (p *page) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError {
			return
		}
		if e.Source == log.EntrySourceNetwork {
			// A refused connection or a 503 while the server is down
			// is what the reconnect test causes on purpose; the test
			// checks the page's state, and these are only logged.
			p.mu.Lock()
			p.network = append(p.network, e.Text+" "+e.URL)
			p.mu.Unlock()
			return
		}
		msg = "log " + string(e.Source) + ": " + e.Text + " " + e.URL
	default:
		return
	}
	p.mu.Lock()
	p.problems = append(p.problems, msg)
	p.mu.Unlock()
}

// checkClean fails the test if the page reported a problem, and logs the
// network errors it saw.
func (p *page) checkClean() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.network {
		p.t.Logf("the page logged a network error: %s", m)
	}
	for _, m := range p.problems {
		p.t.Errorf("the page reported: %s", m)
	}
}

// eval evaluates the JavaScript expression expr in p's tab and decodes its
// value (JSON) into a T.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// pollEvery is how often waitUntil asks the page. Each ask is one round
// trip to the browser, well under a millisecond on an idle machine.
const pollEvery = 10 * time.Millisecond

// waitUntil evaluates the boolean expression cond in the page until it is
// true, and returns how long that took. After limit it fails the test with
// what the page shows.
func (p *page) waitUntil(what string, limit time.Duration, cond string) time.Duration {
	p.t.Helper()
	took, ok := p.tryUntil(limit, cond)
	if !ok {
		p.t.Fatalf("after %v, still not true: %s (%s)\nthe page shows: %s", limit, what, cond, p.describe())
	}
	return took
}

// tryUntil is waitUntil without the failure: it reports whether cond
// became true within limit.
func (p *page) tryUntil(limit time.Duration, cond string) (time.Duration, bool) {
	p.t.Helper()
	start := time.Now()
	for {
		if eval[bool](p, "!!("+cond+")") {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(pollEvery)
	}
}

// card is what one card shows.
type card struct {
	Name   string            `json:"name"`
	Health string            `json:"health"`
	Fields map[string]string `json:"fields"` // data-field → textContent
}

// cardsJS reads every card of the page in order, as []card.
const cardsJS = `[...document.querySelectorAll('#cards article.card')].map(c => ({
	name: c.dataset.name,
	health: c.dataset.health,
	fields: Object.fromEntries([...c.querySelectorAll('[data-field]')].map(e => [e.dataset.field, e.textContent.trim()])),
}))`

// cards returns the cards the page shows, in page order.
func (p *page) cards() []card {
	p.t.Helper()
	return eval[[]card](p, cardsJS)
}

// card returns the card named name, failing the test if there is none.
func (p *page) card(name string) card {
	p.t.Helper()
	for _, c := range p.cards() {
		if c.Name == name {
			return c
		}
	}
	p.t.Fatalf("no card named %q; the page shows: %s", name, p.describe())
	return card{}
}

// names returns the names of the cards in page order.
func names(cards []card) []string {
	var out []string
	for _, c := range cards {
		out = append(out, c.Name)
	}
	return out
}

// js quotes s as a JavaScript string literal (JSON's is one).
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// cardJS is an expression for the card element named name, or undefined.
// It compares data-name values rather than build a CSS selector, so any
// name works.
func cardJS(name string) string {
	return `[...document.querySelectorAll('#cards article.card')].find(c => c.dataset.name === ` + js(name) + `)`
}

// fieldIs is a condition: the card named name shows want in field f.
func fieldIs(name, f, want string) string {
	return `(c => c && (e => e && e.textContent.trim() === ` + js(want) + `)(c.querySelector('[data-field=` + js(f) + `]')))(` + cardJS(name) + `)`
}

// healthIs is a condition: the card named name has data-health want.
func healthIs(name, want string) string {
	return `(c => c && c.dataset.health === ` + js(want) + `)(` + cardJS(name) + `)`
}

// cardNamesAre is a condition: the page shows exactly the cards want, in
// that order.
func cardNamesAre(want ...string) string {
	b, _ := json.Marshal(want) // a JavaScript array literal too
	return `(want => (got => got.length === want.length && got.every((n, i) => n === want[i]))(` +
		`[...document.querySelectorAll('#cards article.card')].map(c => c.dataset.name)))(` + string(b) + `)`
}

// describe is what the page shows, for failure messages.
func (p *page) describe() string {
	type state struct {
		Conn   string `json:"conn"`
		LastID string `json:"last_id"`
		Cards  []card `json:"cards"`
	}
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[state](`({conn: document.body.dataset.conn, last_id: document.body.dataset.lastId, cards: `+cardsJS+`})`))
	if err != nil {
		return "(cannot read the page: " + err.Error() + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data-conn=%q data-last-id=%q", s.Conn, s.LastID)
	for _, c := range s.Cards {
		keys := make([]string, 0, len(c.Fields))
		for k := range c.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprintf(&b, "\n  card %q health=%q", c.Name, c.Health)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%q", k, c.Fields[k])
		}
	}
	return b.String()
}
