// Package browsertest holds the browser tests of package dashboard. It has
// no code of its own: its tests start a real dashboard on 127.0.0.1, open
// it in headless Chromium through github.com/chromedp/chromedp, and check
// what a person watching the page would see (a card per registered part,
// values that change within a second of a change in the metrics, a
// tripped breaker shown as open, a page that reconnects by itself after a
// server restart), save a screenshot and log the page weight.
//
// It is a module of its own, so the library's go.mod carries no browser
// driver. Run it from the repository root with the README's test command,
// or alone:
//
//	go test -race github.com/steadyhq/steady/dashboard/browsertest
//
// The browser is $STEADY_CHROMIUM if set, else the first of
// chromium-headless-shell (Debian's package of that name; .ci/run
// installs it), chromium and chromium-browser on $PATH. Without one the
// tests skip with a message saying so; with CI=true they fail instead.
//
// The screenshot test writes a PNG to a temporary directory, and also to
// $STEADY_SCREENSHOT when that is set; the README's picture is made with
//
//	STEADY_SCREENSHOT=$PWD/docs/dashboard.png go test -run Screenshot ./dashboard/browsertest
package browsertest
