package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
)

// Settings of steady's circuit breaker: it opens after breakerFailures
// failed calls in a row (a call fails when its retries are spent) and lets
// a probe through after breakerOpenTimeout.
const (
	breakerFailures    = 5
	breakerOpenTimeout = 500 * time.Millisecond
	// maxRetryAfter caps the wait a server may ask for with Retry-After.
	maxRetryAfter = 5 * time.Second
)

// runContext does the work of run under ctx, with the embedded server's
// timings given, so that tests can cancel it and make it short.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer, flaky flakyConfig) int {
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage
	}

	target := o.url
	var srv *flakyServer
	if target == "" {
		srv, err = startFlaky(flaky)
		if err != nil {
			fmt.Fprintln(stderr, "steady:", err)
			return exitError
		}
		defer srv.Close()
		target = srv.URL
	}
	printHeader(stdout, &o, srv)

	plain, err := runPlain(ctx, &o, target, srv, stderr)
	if err != nil {
		return exitFor(stderr, err)
	}
	st, err := runSteady(ctx, &o, target, srv, stderr)
	if err != nil {
		return exitFor(stderr, err)
	}
	var outage *window
	if srv != nil {
		from, to := srv.outage()
		outage = &window{from, to}
	}
	writeReport(stdout, &o, plain, st, outage)
	return exitOK
}

// exitFor reports why a run stopped and returns the exit status.
func exitFor(stderr io.Writer, err error) int {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "steady: interrupted")
		return exitInterrupted
	}
	fmt.Fprintln(stderr, "steady:", err)
	return exitError
}

// printHeader says what is about to be measured.
func printHeader(w io.Writer, o *options, srv *flakyServer) {
	rate := "no rate limit"
	if o.rate > 0 {
		rate = fmt.Sprintf("%g/s", o.rate)
	}
	if srv != nil {
		fmt.Fprintf(w, "steady: %d requests per phase, %d at a time, %s, to the embedded flaky server at %s\n",
			o.requests, o.concurrency, rate, srv.URL)
		fmt.Fprintf(w, "  server:    %s\n", srv.cfg.describe())
	} else {
		fmt.Fprintf(w, "steady: %d requests per phase, %d at a time, %s, to %s\n",
			o.requests, o.concurrency, rate, displayURL(o.url))
	}
	fmt.Fprintln(w, "  no policy: http.Client without Timeout, no retries")
	fmt.Fprintf(w, "  steady:    httpx.Client: %v timeout per attempt, %s", o.timeout, plural(o.retries, "retry", "retries"))
	if o.retries > 0 {
		fmt.Fprint(w, " (exponential backoff with jitter, Retry-After honoured)")
	}
	if o.breaker {
		fmt.Fprintf(w, ", circuit breaker (opens after %d failed calls in a row, probes after %v)", breakerFailures, breakerOpenTimeout)
	}
	fmt.Fprintln(w, ", monitor.Metrics")
	fmt.Fprintln(w)
}

// phase is what one phase did.
type phase struct {
	calls    []call
	wall     time.Duration
	upstream int64 // requests that reached the transport
	retries  int64
	// retriedTimeouts counts the attempts that timed out and were retried
	// (steady only); summary.timeouts adds the calls whose last attempt
	// timed out.
	retriedTimeouts int64
	metrics         *monitor.Stats     // steady only
	breaker         *breakerLog        // steady with the breaker only
	breakers        []breaker.Snapshot // steady's breakers at the end, by host
}

// measure runs one phase with progress on stderr.
func measure(ctx context.Context, name string, o *options, do caller, stderr io.Writer) (*phase, error) {
	var t tally
	stop := newProgress(stderr).track(name, o.requests, &t)
	calls, wall, err := runPhase(ctx, load{o.requests, o.concurrency, o.interval()}, do, &t)
	stop()
	if err != nil {
		return nil, err
	}
	return &phase{calls: calls, wall: wall}, nil
}

// runPlain runs the phase without any policy.
func runPlain(ctx context.Context, o *options, target string, srv *flakyServer, stderr io.Writer) (*phase, error) {
	tr := newTransport(o.concurrency)
	defer tr.closeIdle()
	hc := &http.Client{Transport: tr} // no Timeout: the danger being shown
	if srv != nil {
		srv.startPhase()
	}
	p, err := measure(ctx, "no policy", o, plainCaller(hc, target), stderr)
	if err != nil {
		return nil, err
	}
	p.upstream = tr.n.Load()
	return p, nil
}

// runSteady runs the phase through steady's httpx.Client.
func runSteady(ctx context.Context, o *options, target string, srv *flakyServer, stderr io.Writer) (*phase, error) {
	tr := newTransport(o.concurrency)
	defer tr.closeIdle()
	// No Loggers: the table tells the story, and logs would garble the
	// progress line.
	m, err := monitor.NewMetrics(monitor.Config{Name: "steady"})
	if err != nil {
		return nil, err
	}

	var retries, retriedTimeouts atomic.Int64
	rc := retry.DefaultConfig()
	rc.MaxAttempts = o.retries + 1
	rc.MaxRetryAfter = maxRetryAfter
	rc.OnRetry = func(_ int, err error, _ time.Duration) {
		retries.Add(1)
		if resilience.IsTimeout(err) {
			retriedTimeouts.Add(1)
		}
	}

	cfg := httpx.Config{
		Timeout:    o.timeout,
		Retry:      &rc,
		Metrics:    m,
		HTTPClient: &http.Client{Transport: tr},
	}
	var bl *breakerLog
	if o.breaker {
		bl = &breakerLog{}
		cfg.Breaker = &breaker.Settings{
			ConsecutiveFailures: breakerFailures,
			OpenTimeout:         breakerOpenTimeout,
			OnStateChange:       bl.record,
		}
	}
	c, err := httpx.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	if srv != nil {
		srv.startPhase()
	}
	if bl != nil {
		bl.begin()
	}
	p, err := measure(ctx, "steady", o, steadyCaller(c, target), stderr)
	if err != nil {
		return nil, err
	}
	p.upstream, p.retries, p.retriedTimeouts, p.breaker = tr.n.Load(), retries.Load(), retriedTimeouts.Load(), bl
	s := m.Snapshot()
	p.metrics = &s
	for _, cb := range c.Breakers() {
		p.breakers = append(p.breakers, cb.Snapshot())
	}
	slices.SortFunc(p.breakers, func(a, b breaker.Snapshot) int { return strings.Compare(a.Name, b.Name) })
	return p, nil
}

// breakerLog records when steady's breaker changed state. It is safe for
// concurrent use.
type breakerLog struct {
	mu      sync.Mutex // guards all below
	start   time.Time  // the phase start
	changes []stateChange
}

type stateChange struct {
	at       time.Duration // since the phase start
	from, to breaker.State
}

// begin marks the phase start, from which changes are timed.
func (l *breakerLog) begin() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.start = time.Now()
}

// record is the breaker's OnStateChange hook.
func (l *breakerLog) record(_ string, from, to breaker.State) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, stateChange{time.Since(l.start), from, to})
}

// summary returns how many times the breaker opened, when it first left
// the closed state and when it last came back to it (closedAt < 0 when it
// ended the phase not closed).
func (l *breakerLog) summary() (opened int, firstOpen, closedAt time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	closedAt = -1
	for _, c := range l.changes {
		if c.to == breaker.StateOpen {
			if opened == 0 {
				firstOpen = c.at
			}
			opened++
		}
		if c.to == breaker.StateClosed {
			closedAt = c.at
		} else {
			closedAt = -1
		}
	}
	return opened, firstOpen, closedAt
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
