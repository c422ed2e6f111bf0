// Package browsertest holds the browser tests of package dashboard. It has
// no code of its own: its tests serve a real dashboard on 127.0.0.1, with
// real parts fed by real calls, open it in headless Chromium through
// github.com/chromedp/chromedp, and check what a person watching the page
// would see:
//
//   - a card per registered part, sorted by name, that comes and goes with
//     Register and Unregister, and names shown as text, never as markup;
//   - a change in the metrics on the page within a second (Tick 250ms);
//     the test logs the event-to-screen latencies, split at the sampler's
//     read into the wait for the tick and the push to the screen;
//   - a tripped breaker shown as open, its card as bad;
//   - a page that reconnects by itself: after a dropped stream (resuming
//     with Last-Event-ID) and after a server restart (a new dashboard, new
//     cards);
//   - the page's weight (all of it from the dashboard, at most 50 KB).
//
// A script error, console error or Content-Security-Policy violation in
// the page fails the test that caused it.
//
// It is a module of its own, so the library's go.mod carries no browser
// driver. It runs under the README's test command, or alone:
//
//	go test -race github.com/steadyhq/steady/dashboard/browsertest
//
// The browser is $STEADY_CHROMIUM if set, else the first of
// chromium-headless-shell (Debian's package of that name; .ci/run
// installs it), chromium and chromium-browser on $PATH. Without one the
// tests skip with a message saying so; with CI=true they fail instead.
//
// TestScreenshot writes a PNG of a dashboard under ten seconds of traffic
// to a temporary directory, and also to $STEADY_SCREENSHOT when that is
// set; the README's picture is made, from the repository's root, with
//
//	STEADY_SCREENSHOT=$PWD/docs/dashboard.png go test -run Screenshot ./dashboard/browsertest
package browsertest
