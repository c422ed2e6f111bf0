package browsertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserNames are the programs tried, in order, when STEADY_CHROMIUM is
// not set: Debian's headless shell (what .ci/run installs), then a full
// Chromium.
var browserNames = []string{"chromium-headless-shell", "chromium", "chromium-browser"}

// browserPath returns the browser to run: $STEADY_CHROMIUM if set (it must
// exist), else the first of browserNames on $PATH. Without one the test is
// skipped, or fails when CI=true, where .ci/run installs it.
func browserPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STEADY_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("STEADY_CHROMIUM=%q: %v", p, err)
		}
		return p
	}
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for $STEADY_CHROMIUM, then chromium-headless-shell, chromium, chromium-browser on $PATH); " +
		"install Debian's chromium-headless-shell (apt-get install chromium-headless-shell) to run the browser tests"
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true, so the browser tests must run: " + msg)
	}
	t.Skip(msg)
	return ""
}

// launchTimeout bounds the browser's start and first blank tab. Start-up
// takes about half a second on an idle machine; the bound is for a loaded
// CI runner.
const launchTimeout = 30 * time.Second

// newBrowser starts a headless Chromium with a fresh profile and returns
// the context of its first tab. t.Cleanup closes the tab and the browser
// and waits for the process to exit, so no browser and no chromedp
// goroutine outlives the test. The browser's own network features are off
// and every host but 127.0.0.1 resolves to nothing: the tests load only
// the dashboard on the loopback interface.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := browserPath(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1200, 800),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		// Close the browser gracefully first, then make sure: the
		// allocator's cancel kills what is left and waits for the process.
		closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := chromedp.Cancel(closeCtx)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing the browser: %v", err)
		}
		cancelTab()
		cancelAlloc()
	})
	startCtx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()
	// The first action starts the browser. It must run on ctx itself, not
	// on startCtx (a child), or the browser would be tied to startCtx; so
	// a timer cancels ctx's tab if the start takes too long.
	stop := context.AfterFunc(startCtx, func() {
		if errors.Is(startCtx.Err(), context.DeadlineExceeded) {
			cancelTab()
		}
	})
	err := chromedp.Do(ctx)
	stop()
	if err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}
