package browsertest

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test cancels its chromedp contexts and waits for the browser to
// exit (see newBrowser), so no goroutine of chromedp's is ignored here.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
