package retry_test

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/steadyhq/steady/resilience/retry"
)

// flaky is a real function that fails with errs[i] on attempt i+1 and
// succeeds afterwards. Every result is the attempt's number, so a test can
// tell which attempt's value came back. It records when each attempt
// started (fake time under synctest). Not for concurrent use.
type flaky struct {
	errs  []error
	calls int
	at    []time.Time
}

// failing returns a flaky that fails n times with err, then succeeds.
func failing(n int, err error) *flaky {
	f := &flaky{}
	for range n {
		f.errs = append(f.errs, err)
	}
	return f
}

func (f *flaky) call(context.Context) (int, error) {
	f.calls++
	f.at = append(f.at, time.Now())
	if f.calls <= len(f.errs) {
		return f.calls, f.errs[f.calls-1]
	}
	return f.calls, nil
}

// gaps returns the time between the starts of consecutive attempts; the
// attempts themselves take no time, so under synctest these are exactly the
// delays Retry waited.
func (f *flaky) gaps() []time.Duration {
	var d []time.Duration
	for i := 1; i < len(f.at); i++ {
		d = append(d, f.at[i].Sub(f.at[i-1]))
	}
	return d
}

// statusErr stands in for an HTTP status error (httpx's StatusError has the
// same methods): 408, 429 and 5xx are retryable, and the server may ask
// for a delay.
type statusErr struct {
	code  int
	after time.Duration
}

func (e *statusErr) Error() string             { return "status " + strconv.Itoa(e.code) }
func (e *statusErr) Retryable() bool           { return e.code == 408 || e.code == 429 || e.code >= 500 }
func (e *statusErr) RetryAfter() time.Duration { return e.after }

// netTimeout is an error with Timeout() true, as net.Error timeouts and
// steady's *timeout.Error have.
type netTimeout struct{}

func (netTimeout) Error() string   { return "i/o timeout" }
func (netTimeout) Timeout() bool   { return true }
func (netTimeout) Temporary() bool { return true }

// deadlineError returns the error of a call that failed twice with last and
// stopped because the next delay, 3s, would pass the caller's deadline.
func deadlineError(t *testing.T, last error) error {
	t.Helper()
	var err error
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		cfg := retry.Config{BaseDelay: time.Second, Multiplier: 3}
		_, err = retry.Retry[int](cfg)(failing(100, last).call)(ctx)
	})
	return err
}

// contextCanceled returns a context that is already canceled.
func contextCanceled(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx, cancel
}
