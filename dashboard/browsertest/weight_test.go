package browsertest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/steadyhq/steady/dashboard"
)

// maxPageWeight is the bound on the page: 50 KB in all.
const maxPageWeight = 50 * 1024

// resource is one entry of the page's Resource Timing.
type resource struct {
	Name     string  `json:"name"`
	Type     string  `json:"type"`     // initiatorType; "navigation" for the page itself
	Transfer float64 `json:"transfer"` // bytes on the wire, headers included
	Encoded  float64 `json:"encoded"`  // body bytes as sent (compressed, if it was)
	Decoded  float64 `json:"decoded"`  // body bytes after decoding
}

// resourcesJS lists what the page loaded: the document and every resource
// but the event stream (which never ends) and the JSON snapshot.
const resourcesJS = `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
	.filter(e => !/\/(events|snapshot\.json)(\?|$)/.test(e.name))
	.map(e => ({name: e.name, type: e.entryType === 'navigation' ? 'navigation' : e.initiatorType,
		transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))`

// TestPageWeight measures what the browser loads to show the page, as the
// page's Resource Timing reports it and as plain HTTP GETs of the same
// URLs do, logs it, and checks that it all comes from the dashboard
// itself (no CDN: the page works offline) and weighs at most 50 KB.
func TestPageWeight(t *testing.T) {
	d := newDashboard(t, dashboard.Config{Tick: 250 * time.Millisecond})
	dep := newDependency(t, "orders", nil)
	dep.succeed(t, 1)
	register(t, d, "orders", dep.parts())
	pageURL := serve(t, d)
	p := openPage(t, pageURL)
	p.waitUntil("orders' card", 5*time.Second, cardNamesAre("orders"))

	base, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	var decoded, transfer float64
	var scripts, styles int
	var plain int
	for _, r := range eval[[]resource](p, resourcesJS) {
		u, err := url.Parse(r.Name)
		if err != nil {
			t.Fatalf("resource %q: %v", r.Name, err)
		}
		if u.Host != base.Host || !strings.HasPrefix(u.Path, mountAt+"/") {
			t.Errorf("the page loaded %s, from outside the dashboard", r.Name)
		}
		switch r.Type {
		case "script":
			scripts++
		case "link", "css":
			styles++
		}
		decoded += r.Decoded
		transfer += r.Transfer
		n := get(t, r.Name)
		plain += n
		t.Logf("%-10s %-40s %6.0f bytes (%6.0f on the wire with headers); plain GET: %d bytes", r.Type, u.Path, r.Decoded, r.Transfer, n)
	}
	t.Logf("page weight: %.0f bytes (%.1f KB) decoded, %.0f bytes transferred with headers; plain GETs: %d bytes", decoded, decoded/1024, transfer, plain)
	if scripts == 0 || styles == 0 {
		t.Errorf("the page loaded %d scripts and %d style sheets; want its app.js and style.css", scripts, styles)
	}
	if decoded > maxPageWeight {
		t.Errorf("the page weighs %.0f bytes, want <= %d", decoded, maxPageWeight)
	}
}

// get fetches url and returns the length of its body.
func get(t *testing.T, url string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true // no idle connection left for goleak to see
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", url, resp.Status)
	}
	return len(b)
}
