package scenarios_test

// The clients, each configured once, before any result was looked at, and
// alike where the libraries allow it: 200 ms per attempt, 3 retries (4
// attempts at most), exponential backoff from 50 ms with jitter, and a 2 s
// deadline (context.WithTimeout) around every logical request, which the
// harness sets for every client alike.
//
// | client             | per attempt                    | attempts | wait between attempts                                   | retried                                            | other |
// |--------------------|--------------------------------|----------|---------------------------------------------------------|----------------------------------------------------|-------|
// | no-policy          | none (the 2 s deadline only)   | 1        | —                                                       | —                                                  | plain http.Client |
// | naive-retry        | context.WithTimeout 200 ms     | 4        | time.Sleep(50 ms), fixed, no jitter                     | any error or a 5xx (not 429)                       | a hand-written loop |
// | failsafe-retry     | timeout.New 200 ms             | 4        | WithBackoff(50 ms, 1 s) (×2), WithJitterFactor(0.5); Retry-After (seconds) on 429/503, as failsafehttp.DelayFunc | an error, 5xx except 501, 429 (as failsafehttp.NewRetryPolicyBuilder) | failsafe.With(retry, timeout) |
// | failsafe-breaker   | as failsafe-retry              | 4        | as failsafe-retry                                       | as failsafe-retry                                  | + circuitbreaker, outermost: WithFailureThreshold(5) consecutive logical failures, WithDelay(1 s), 1 probe: With(breaker, retry, timeout) |
// | failsafe-hedge     | as failsafe-retry              | 4        | as failsafe-retry                                       | as failsafe-retry                                  | + hedgepolicy.NewBuilderWithDelay(50 ms) (fixed delay, 1 hedge, the loser canceled): With(retry, hedge, timeout) |
// | retryablehttp      | http.Client.Timeout 200 ms     | 4        | DefaultBackoff: 50 ms × 2^n up to 1 s, no jitter (it has none); Retry-After on 429/503 | DefaultRetryPolicy: connection errors, 429, 5xx except 501 | RetryMax 3, RetryWaitMin 50 ms, RetryWaitMax 1 s, Logger nil |
// | steady-apicall     | 200 ms                         | 4        | retry.DefaultConfig: 100 ms × 2^n, jitter [d/2, 3d/2]; Retry-After honoured while it fits the deadline | connection errors, timeouts, 408, 429, 5xx except 501 | httpx.APICallWithRetry(ctx, url, 200*time.Millisecond, 3) |
// | steady-client      | Config.Timeout 200 ms          | 4        | retry.Config{BaseDelay 50 ms, MaxDelay 1 s, Multiplier 2, Jitter}; Retry-After capped at MaxDelay (1 s) | as steady-apicall | + Config.Breaker per host: ConsecutiveFailures 5, FailureRate 0.5 over Window 10 s with MinRequests 20, OpenTimeout 1 s, 1 probe; the default retry budget (since issue 11) |
// | steady-full        | adaptive, ceiling 200 ms       | 4        | as steady-client                                        | as steady-apicall                                  | steady-client + AdaptiveTimeout, Hedge (adaptive delay, 5%), Breaker.MaxWaiting 1000 (see steadyFullConfig) |
//
// Why these breaker settings (steady-client): a careful user guarding an
// API called at hundreds of requests a second wants a dead host detected
// within a few calls (5 logical failures in a row: steady's own default
// rule, kept) and a sick one too (half the calls failing over the last
// 10 s, Hystrix's classic rule), and wants to look again soon: a probe a
// second costs a dead host nothing and notices recovery within about one
// logical call's worst case. failsafe-breaker gets the consecutive rule and
// the 1 s delay too; failsafe-go cannot combine a count rule with a rate
// rule in one breaker.
//
// Transports: every client but steady-apicall gets an http.Transport of its
// own per run (http.DefaultTransport's settings, MaxIdleConnsPerHost 16 as
// steady's own default transport has), closed (CloseIdleConnections) after
// the run, so no pool outlives its run. steady-apicall cannot: the four API
// calls use steady's shared, unexported transport by design; its idle
// connections end when the test server closes them.
//
// Bodies: every client reads each body to its end and closes it, the
// attempts it discards included. failsafe-go is used through its generic
// executor around http.Client.Do, with an operation that reads and closes
// the body and returns the status (failsafehttp's RoundTripper would hand
// back bodies of retried and hedged responses that nobody closes).
// go-retryablehttp drains the bodies it retries itself.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	fstimeout "github.com/failsafe-go/failsafe-go/timeout"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// The settings shared by the clients that have them.
const (
	deadline   = 2 * time.Second        // per logical request, every client
	perAttempt = 200 * time.Millisecond // per attempt
	retries    = 3                      // 4 attempts at most
	baseDelay  = 50 * time.Millisecond  // the first backoff
	maxDelay   = time.Second            // the backoff's cap
	hedgeDelay = 50 * time.Millisecond  // failsafe-hedge: fixed delay
)

// A client sends one logical request and reports nil when it got a 2xx
// answer and read its body whole.
type client struct {
	name  string
	quick bool     // also runs in quick mode
	only  []string // the scenarios it runs in; nil: all
	// make returns the request function for one run against url, and a
	// function that closes what the run opened (idle connections).
	make func(url string) (do func(ctx context.Context) error, closeFn func(), err error)
}

var clients = []client{
	{name: "no-policy", quick: true, make: noPolicy},
	{name: "naive-retry", make: naiveRetry},
	{name: "failsafe-retry", make: failsafeClient(false, false)},
	{name: "failsafe-breaker", make: failsafeClient(true, false)},
	{name: "failsafe-hedge", make: failsafeClient(false, true)},
	{name: "retryablehttp", make: retryableClient},
	{name: "steady-apicall", quick: true, make: steadyAPICall},
	{name: "steady-client", quick: true, make: steadyClient},
	{name: "steady-full", quick: true, make: steadyFull},
	{name: "steady-bulkhead", only: []string{"overload"}, make: steadyBulkhead},
}

// runsIn reports whether cl runs in the scenario named sc.
func (cl client) runsIn(sc string) bool {
	return cl.only == nil || slices.Contains(cl.only, sc)
}

// newTransport returns a transport of the run's own: http.DefaultTransport's
// settings, with as many idle connections per host as steady's default
// transport keeps.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// statusErr is a non-2xx answer.
type statusErr int

func (e statusErr) Error() string { return "status " + strconv.Itoa(int(e)) }

// get sends one GET through hc and reads the body to its end; it returns
// the status (0 with an error when there is no response) and the
// response's Retry-After header.
func get(ctx context.Context, hc *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

func ok(status int) bool { return status >= 200 && status <= 299 }

func noPolicy(url string) (func(context.Context) error, func(), error) {
	tr := newTransport()
	hc := &http.Client{Transport: tr}
	do := func(ctx context.Context) error {
		status, _, err := get(ctx, hc, url)
		if err == nil && !ok(status) {
			err = statusErr(status)
		}
		return err
	}
	return do, tr.CloseIdleConnections, nil
}

func naiveRetry(url string) (func(context.Context) error, func(), error) {
	tr := newTransport()
	hc := &http.Client{Transport: tr}
	do := func(ctx context.Context) error {
		var err error
		for attempt := 0; attempt <= retries; attempt++ {
			if attempt > 0 {
				time.Sleep(baseDelay)
				if ctx.Err() != nil {
					return err
				}
			}
			actx, cancel := context.WithTimeout(ctx, perAttempt)
			var status int
			status, _, err = get(actx, hc, url)
			cancel()
			switch {
			case err == nil && ok(status):
				return nil
			case err == nil && status < 500:
				return statusErr(status) // a 4xx (429 included): not retried
			case err == nil:
				err = statusErr(status)
			}
		}
		return err
	}
	return do, tr.CloseIdleConnections, nil
}

// reply is what failsafe-go's policies see of an answer.
type reply struct {
	status     int
	retryAfter string
}

// failsafeRetryable is failsafehttp.NewRetryPolicyBuilder's rule, for a
// reply: any error, 429, and 5xx except 501.
func failsafeRetryable(r reply, err error) bool {
	if err != nil {
		return true
	}
	return r.status == http.StatusTooManyRequests || (r.status >= 500 && r.status != http.StatusNotImplemented)
}

// failsafeRetryAfter is failsafehttp.DelayFunc for a reply: a Retry-After
// in seconds on 429 or 503; -1 (the backoff) otherwise.
func failsafeRetryAfter(exec failsafe.ExecutionAttempt[reply]) time.Duration {
	r := exec.LastResult()
	if r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable {
		if s, err := strconv.Atoi(r.retryAfter); err == nil {
			return time.Duration(s) * time.Second
		}
	}
	return -1
}

func failsafeClient(withBreaker, withHedge bool) func(string) (func(context.Context) error, func(), error) {
	return func(url string) (func(context.Context) error, func(), error) {
		tr := newTransport()
		hc := &http.Client{Transport: tr}
		rp := retrypolicy.NewBuilder[reply]().
			HandleIf(failsafeRetryable).
			WithMaxRetries(retries).
			WithBackoff(baseDelay, maxDelay).
			WithJitterFactor(0.5).
			WithDelayFunc(failsafeRetryAfter).
			ReturnLastFailure().
			Build()
		tp := fstimeout.New[reply](perAttempt)
		var policies []failsafe.Policy[reply]
		switch {
		case withBreaker:
			cb := circuitbreaker.NewBuilder[reply]().
				HandleIf(failsafeRetryable).
				WithFailureThreshold(5).
				WithDelay(time.Second).
				Build()
			policies = []failsafe.Policy[reply]{cb, rp, tp}
		case withHedge:
			hp := hedgepolicy.NewBuilderWithDelay[reply](hedgeDelay).Build()
			policies = []failsafe.Policy[reply]{rp, hp, tp}
		default:
			policies = []failsafe.Policy[reply]{rp, tp}
		}
		ex := failsafe.With(policies...)
		op := func(exec failsafe.Execution[reply]) (reply, error) {
			status, ra, err := get(exec.Context(), hc, url)
			return reply{status: status, retryAfter: ra}, err
		}
		do := func(ctx context.Context) error {
			r, err := ex.WithContext(ctx).GetWithExecution(op)
			if err == nil && !ok(r.status) {
				err = statusErr(r.status)
			}
			return err
		}
		return do, tr.CloseIdleConnections, nil
	}
}

func retryableClient(url string) (func(context.Context) error, func(), error) {
	tr := newTransport()
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: tr, Timeout: perAttempt}
	c.Logger = nil
	c.RetryMax = retries
	c.RetryWaitMin = baseDelay
	c.RetryWaitMax = maxDelay
	do := func(ctx context.Context) error {
		req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err == nil && !ok(resp.StatusCode) {
			err = statusErr(resp.StatusCode)
		}
		return err
	}
	return do, tr.CloseIdleConnections, nil
}

func steadyAPICall(url string) (func(context.Context) error, func(), error) {
	do := func(ctx context.Context) error {
		_, err := httpx.APICallWithRetry(ctx, url, perAttempt, retries)
		return err
	}
	return do, func() {}, nil
}

// steadyClientConfig is the steady-client's configuration (see the table
// above), with hc as its HTTP client.
func steadyClientConfig(hc *http.Client) httpx.Config {
	return httpx.Config{
		Timeout: perAttempt,
		Retry: &retry.Config{
			MaxAttempts: retries + 1,
			BaseDelay:   baseDelay,
			MaxDelay:    maxDelay,
			Multiplier:  2,
			Jitter:      true,
		},
		Breaker: &breaker.Settings{
			ConsecutiveFailures: 5,
			FailureRate:         0.5,
			MinRequests:         20,
			Window:              10 * time.Second,
			OpenTimeout:         time.Second,
			HalfOpenRequests:    1,
		},
		HTTPClient: hc,
	}
}

func steadyClient(url string) (func(context.Context) error, func(), error) {
	tr := newTransport()
	c, err := httpx.NewClient(steadyClientConfig(&http.Client{Transport: tr}))
	if err != nil {
		return nil, nil, fmt.Errorf("steady-client: %w", err)
	}
	do := func(ctx context.Context) error {
		_, err := c.Get(ctx, url)
		return err
	}
	return do, tr.CloseIdleConnections, nil
}

// steadyFullConfig is steady-client with what issues 10 and 11 added, as
// a careful user would set it for an API called a few hundred times a
// second, chosen before looking at results:
//
//   - AdaptiveTimeout under the 200 ms ceiling: TargetRate 1% (a limit at
//     about the p99 of an attempt), Warmup 200 calls (a second of
//     traffic), Min 50 ms (no limit below what a stall of a busy machine
//     or a GC pause takes: the limit is for hung attempts, the hedge is
//     for slow ones);
//   - Hedge with an adaptive delay for 5% of calls (the default), MaxDelay
//     200 ms (the attempt timeout: a hedge cannot start after it);
//   - Breaker MaxWaiting 1000: calls wait for the recovery within their
//     deadline;
//   - the default retry budget (budget.Adaptive per host), as every
//     Client with Retry now has; steady-client has it too.
func steadyFullConfig(hc *http.Client) httpx.Config {
	cfg := steadyClientConfig(hc)
	cfg.AdaptiveTimeout = &timeout.AdaptiveConfig{TargetRate: 0.01, Warmup: 200, Min: 50 * time.Millisecond}
	cfg.Hedge = &hedge.Config{TargetRate: 0.05, MaxDelay: perAttempt}
	cfg.Breaker.MaxWaiting = 1000
	return cfg
}

func steadyFull(url string) (func(context.Context) error, func(), error) {
	tr := newTransport()
	c, err := httpx.NewClient(steadyFullConfig(&http.Client{Transport: tr}))
	if err != nil {
		return nil, nil, fmt.Errorf("steady-full: %w", err)
	}
	do := func(ctx context.Context) error {
		_, err := c.Get(ctx, url)
		return err
	}
	return do, tr.CloseIdleConnections, nil
}

// steadyBulkhead is steady-full behind a bulkhead sized for the overload
// scenario's dependency, as a user who knows a dependency's capacity would
// size it, by Little's law: it serves about 200 requests a second at about
// 20 ms each, so 4 at a time. Calls beyond that wait in the client, for as
// long as their deadline allows, instead of in the dependency's queue, so
// that the calls it admits see an unloaded dependency. It runs only in the
// overload scenario: a bulkhead sized for one dependency says nothing about
// the others. admitted records how long the admitted calls took, from
// admission, for the report.
func steadyBulkhead(url string) (func(context.Context) error, func(), error) {
	do, closeFn, err := steadyFull(url)
	if err != nil {
		return nil, nil, err
	}
	b, err := bulkhead.New(bulkhead.Config{Name: "overload", MaxConcurrent: 4, MaxQueue: 1000})
	if err != nil {
		return nil, nil, fmt.Errorf("steady-bulkhead: %w", err)
	}
	admitted.reset()
	limited := bulkhead.Limit[struct{}](b)(func(ctx context.Context) (struct{}, error) {
		start := time.Now()
		err := do(ctx)
		if err == nil {
			admitted.add(time.Since(start))
		}
		return struct{}{}, err
	})
	return func(ctx context.Context) error {
		_, err := limited(ctx)
		return err
	}, closeFn, nil
}

// admitted holds the latencies, from admission, of steady-bulkhead's
// successful calls in its last run.
var admitted latencies

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) reset() { l.mu.Lock(); l.d = nil; l.mu.Unlock() }

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

// p99 returns the 99th percentile and the count.
func (l *latencies) p99() (time.Duration, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0, 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return s[len(s)*99/100], len(s)
}

// clientDoc says, for RESULTS.md, how each client is configured (the table
// at the top of this file, in short).
var clientDoc = map[string]string{
	"no-policy":        "`http.Client`, no policy: one attempt, the 2 s deadline only",
	"naive-retry":      "a hand-written loop: up to 4 attempts of 200 ms (`context.WithTimeout`), retrying any error or 5xx (not 429) after a fixed `time.Sleep(50ms)`",
	"failsafe-retry":   "failsafe-go v0.9.8, `failsafe.With(retry, timeout)` around `http.Client.Do`: `timeout.New(200ms)`; retry `WithMaxRetries(3)`, `WithBackoff(50ms, 1s)`, `WithJitterFactor(0.5)`, Retry-After in seconds on 429/503 (as `failsafehttp.DelayFunc`), retrying errors, 429 and 5xx but 501 (as `failsafehttp.NewRetryPolicyBuilder`)",
	"failsafe-breaker": "failsafe-retry with a circuit breaker outermost, `failsafe.With(breaker, retry, timeout)`: `WithFailureThreshold(5)` consecutive logical failures, `WithDelay(1s)`",
	"failsafe-hedge":   "failsafe-retry with a hedge, `failsafe.With(retry, hedge, timeout)`: `hedgepolicy.NewBuilderWithDelay(50ms)` (a fixed delay; 1 hedge; the loser canceled)",
	"retryablehttp":    "hashicorp/go-retryablehttp v0.7.8: `RetryMax 3`, `RetryWaitMin 50ms`, `RetryWaitMax 1s` (`DefaultBackoff`: 50 ms × 2ⁿ, no jitter; Retry-After on 429/503), `DefaultRetryPolicy`, `HTTPClient.Timeout 200ms` per attempt",
	"steady-apicall":   "`httpx.APICallWithRetry(ctx, url, 200ms, 3)`: 4 attempts of 200 ms, `retry.DefaultConfig()` backoff (100 ms × 2ⁿ, jitter), Retry-After honoured while it fits the deadline; steady's shared transport",
	"steady-client":    "`httpx.NewClient`: `Timeout 200ms`; `Retry{MaxAttempts 4, BaseDelay 50ms, MaxDelay 1s, Multiplier 2, Jitter}` (Retry-After capped at 1 s); `Breaker{ConsecutiveFailures 5, FailureRate 0.5, MinRequests 20, Window 10s, OpenTimeout 1s, HalfOpenRequests 1}` per host, outside the retries; since issue 11, the default retry budget (a `budget.Adaptive` per host)",
	"steady-bulkhead":  "overload only: steady-full behind `bulkhead.Limit` with `bulkhead.Config{MaxConcurrent 4, MaxQueue 1000}` (callers wait in the client, within their deadline), sized by Little's law for that dependency (about 200 requests/s at about 20 ms: 4 at a time)",
	"steady-full":      "steady-client plus what issues 10 and 11 added: `AdaptiveTimeout{TargetRate 0.01, Warmup 200, Min 50ms}` under the 200 ms ceiling, `Hedge{TargetRate 0.05, MaxDelay 200ms}` (adaptive delay), `Breaker.MaxWaiting 1000`; the default retry budget",
}
