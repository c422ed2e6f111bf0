package dashboard

import (
	"embed"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"strings"
)

//go:embed static/index.html static/app.js static/style.css
var static embed.FS

// asset is an embedded file and its Content-Type.
type asset struct {
	body []byte
	typ  string
}

// assets maps the routes of the page to its files.
var assets = func() map[string]asset {
	m := map[string]asset{}
	for route, f := range map[string]struct{ file, typ string }{
		"/":          {"static/index.html", "text/html; charset=utf-8"},
		"/app.js":    {"static/app.js", "text/javascript; charset=utf-8"},
		"/style.css": {"static/style.css", "text/css; charset=utf-8"},
	} {
		b, err := static.ReadFile(f.file)
		if err != nil {
			panic("dashboard: " + err.Error()) // the embed directive lists them
		}
		m[route] = asset{b, f.typ}
	}
	return m
}()

// contentSecurityPolicy lets the page load only its own script, style and
// event stream: no inline script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// ServeHTTP serves the page at "/", its script and style sheet, the event
// stream at "/events" and the snapshot at "/snapshot.json", relative to
// where d is mounted (see the package documentation). Other paths get 404,
// other methods than GET (and HEAD, but for the stream) 405.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	p := r.URL.Path
	a, isAsset := assets[p]
	if !isAsset && p != "/events" && p != "/snapshot.json" && p != "" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && (r.Method != http.MethodHead || p == "/events") {
		if p == "/events" {
			h.Set("Allow", http.MethodGet)
		} else {
			h.Set("Allow", "GET, HEAD")
		}
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case p == "":
		// Mounted at "/x" with StripPrefix("/x"): the page needs "/x/" so
		// that its relative URLs resolve below it. A relative Location,
		// which http.Redirect would resolve against the stripped path.
		h.Set("Location", redirectTarget(r))
		w.WriteHeader(http.StatusMovedPermanently)
	case isAsset:
		h.Set("Content-Type", a.typ)
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(a.body)
	case p == "/snapshot.json":
		b, err := json.Marshal(d.Snapshot())
		if err != nil {
			http.Error(w, "500 "+err.Error(), http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(append(b, '\n'))
	default:
		d.serveEvents(w, r)
	}
}

// redirectTarget returns the relative URL of the directory named by the
// request's original path: "x/" for "/a/x".
func redirectTarget(r *http.Request) string {
	orig := r.RequestURI
	if u, err := url.ParseRequestURI(orig); err == nil {
		orig = u.Path
	}
	base := path.Base(strings.TrimSuffix(orig, "/"))
	if base == "/" || base == "." || base == "" {
		return "/"
	}
	return "./" + url.PathEscape(base) + "/"
}
