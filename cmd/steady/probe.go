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

	"github.com/steadyhq/steady/chaos"
	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
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

// Settings of steady's hedging and learned timeout, chosen for an upstream
// whose tail is a small share of very slow or hung requests, like the
// embedded server's: 89% of its requests take 1-5ms, 8% are 200-500ms
// slower and 3% hang.
const (
	// hedgeRate is the share of attempts to hedge. The delay that hedges
	// a share r is the (1-r) quantile of the attempts' latency, and the
	// slow and hung requests are 11% of them. At 5% the delay would sit
	// inside the slow ones (about 425ms), after most of the wait it is
	// meant to save. At 10% the hedger sees that the low edge of the gap
	// between fast and slow requests (about 5ms) hedges nearly as few
	// (11%, within its 1.25×r) and takes it: every slow or hung attempt
	// gets a second one after a few milliseconds, for about 11% more
	// requests.
	hedgeRate = 0.10

	// timeoutRate is the share of attempts the learned timeout may cut.
	// It must exceed the share of requests that never answer in time (3%
	// hang): below it, every limit under the ceiling cuts too many and
	// the limit stays at the ceiling. At 5% it settles in the slow band
	// (about 425ms) when nothing else cuts the tail: it cuts the hangs
	// there, and the slowest quarter of the slow requests, which a retry
	// answers about as fast. With hedging, hedged attempts teach it
	// nothing (Karn's rule), so it learns from attempts that ended before
	// the hedge delay and comes down to timeoutMin.
	timeoutRate = 0.05
	// timeoutMin is the lowest the learned limit goes: ten times the
	// slowest fast request of a loopback server, so that a busy machine
	// does not cut healthy attempts.
	timeoutMin = 50 * time.Millisecond
	// timeoutWarmup is how many attempts run at the ceiling before the
	// first estimate: about five slower than the estimate, for 5%. The
	// default (10/r, 200) would leave little of a 300-request phase.
	timeoutWarmup = 100
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

	if o.dashboard != "" {
		o.live, err = startDashboard(o.dashboard)
		if err != nil {
			fmt.Fprintln(stderr, "steady:", err)
			return exitError
		}
		defer o.live.Close()
		fmt.Fprintf(stdout, "steady: live dashboard at %s\n", o.live.url)
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
	if o.live != nil {
		o.live.serveUntil(ctx, stdout)
	}
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
	until, same := "the server lets go", ""
	if o.deadline > 0 {
		until, same = fmt.Sprintf("the call's %v deadline", o.deadline), ", within the same deadline"
	}
	fmt.Fprintf(w, "  no policy: http.Client without Timeout, no retries; a hung request holds its caller until %s\n", until)
	fmt.Fprintf(w, "  steady:    httpx.Client%s:\n", same)
	if o.adaptive {
		fmt.Fprintf(w, "    timeout  per attempt, learned per host for %g%% of attempts, %v to %v (-timeout)\n",
			timeoutRate*100, min(timeoutMin, o.timeout), o.timeout)
	} else {
		fmt.Fprintf(w, "    timeout  %v per attempt\n", o.timeout)
	}
	if o.hedge {
		fmt.Fprintf(w, "    hedge    a second attempt when the first is slower than a delay learned per host to hedge %g%%\n", hedgeRate*100)
	}
	fmt.Fprintf(w, "    retry    %s", plural(o.retries, "retry", "retries"))
	if o.retries > 0 {
		fmt.Fprint(w, ", exponential backoff with jitter, Retry-After honoured")
	}
	if (o.retries > 0 || o.hedge) && o.budget {
		fmt.Fprint(w, "; retries and hedges within the default budget per host")
	}
	fmt.Fprintln(w)
	if o.breaker {
		fmt.Fprintf(w, "    breaker  per host, opens after %d failed calls in a row, probes after %v", breakerFailures, breakerOpenTimeout)
		if o.wait {
			fmt.Fprintf(w, "; while open, up to %d calls wait for the recovery", o.concurrency)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "    metrics  monitor.Metrics")
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
	metrics         *monitor.Stats // steady only
	breaker         *breakerLog    // steady with the breaker only
	hosts           []hostStats    // steady's policies per host at the end, by host
	// server is what the embedded server did in the phase (nil with -url).
	server *chaos.Stats
}

// hostStats is what steady's policies for one host did; a policy that is
// off is nil.
type hostStats struct {
	host     string
	breaker  *breaker.Snapshot
	hedge    *hedge.Stats
	adaptive *timeout.AdaptiveSnapshot
	budget   *budget.Stats
}

// outageRequests returns the requests the server received during its
// outage, or -1 without the embedded server.
func (p *phase) outageRequests() int64 {
	if p.server == nil {
		return -1
	}
	return p.server.Faults[faultOutage].Injected
}

// measure runs one phase with progress on stderr.
func measure(ctx context.Context, name string, o *options, do caller, stderr io.Writer) (*phase, error) {
	var t tally
	stop := newProgress(stderr).track(name, o.requests, &t)
	calls, wall, err := runPhase(ctx, load{o.requests, o.concurrency, o.interval(), o.deadline}, do, &t)
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
	// No Timeout: the danger being shown. Each call still has the deadline
	// that runPhase gives both phases, as a caller that must answer in time
	// would set.
	hc := &http.Client{Transport: tr}
	if srv != nil {
		srv.startPhase()
	}
	do := plainCaller(hc, target)
	if o.live != nil {
		// For its card only: the report counts the calls itself.
		m := &monitor.Metrics{}
		do = recorded(m, do)
		o.live.register("no policy", dashboard.Parts{Metrics: m})
	}
	p, err := measure(ctx, "no policy", o, do, stderr)
	if err != nil {
		return nil, err
	}
	p.upstream = tr.n.Load()
	p.server = serverStats(srv)
	return p, nil
}

// serverStats returns what srv did in this phase, or nil without one.
func serverStats(srv *flakyServer) *chaos.Stats {
	if srv == nil {
		return nil
	}
	s := srv.stats()
	return &s
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
	if o.adaptive {
		cfg.AdaptiveTimeout = &timeout.AdaptiveConfig{
			TargetRate: timeoutRate,
			Min:        min(timeoutMin, o.timeout),
			Warmup:     timeoutWarmup,
			// Max: the ceiling, o.timeout.
		}
	}
	if o.hedge {
		cfg.Hedge = &hedge.Config{
			TargetRate: hedgeRate,
			// Until it has learned a delay, hedge an attempt that has used
			// half of its time, not after the default 1s, which would
			// never come before the timeout.
			MaxDelay: o.timeout / 2,
		}
	}
	if !o.budget {
		cfg.Budget = budget.Unlimited()
	}
	var bl *breakerLog
	if o.breaker {
		bl = &breakerLog{}
		cfg.Breaker = &breaker.Settings{
			ConsecutiveFailures: breakerFailures,
			OpenTimeout:         breakerOpenTimeout,
			OnStateChange:       bl.record,
		}
		if o.wait {
			// Every call in flight may wait: with fewer, the others fail
			// at once while some wait.
			cfg.Breaker.MaxWaiting = o.concurrency
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
	done := make(chan struct{})
	defer close(done)
	o.live.watchClient("steady", c, m, done)
	p, err := measure(ctx, "steady", o, steadyCaller(c, target), stderr)
	if err != nil {
		return nil, err
	}
	p.upstream, p.retries, p.retriedTimeouts, p.breaker = tr.n.Load(), retries.Load(), retriedTimeouts.Load(), bl
	p.server = serverStats(srv)
	s := m.Snapshot()
	p.metrics = &s
	p.hosts = hostsOf(c)
	return p, nil
}

// hostsOf returns what c's policies did, per host, sorted by host.
func hostsOf(c *httpx.Client) []hostStats {
	byHost := map[string]*hostStats{}
	get := func(host string) *hostStats {
		h := byHost[host]
		if h == nil {
			h = &hostStats{host: host}
			byHost[host] = h
		}
		return h
	}
	for host, cb := range c.Breakers() {
		s := cb.Snapshot()
		get(host).breaker = &s
	}
	for host, hd := range c.Hedgers() {
		s := hd.Snapshot()
		get(host).hedge = &s
	}
	for host, a := range c.AdaptiveTimeouts() {
		s := a.Snapshot()
		get(host).adaptive = &s
	}
	for host, b := range c.Budgets() {
		s := b.Snapshot()
		get(host).budget = &s
	}
	hosts := make([]hostStats, 0, len(byHost))
	for _, h := range byHost {
		hosts = append(hosts, *h)
	}
	slices.SortFunc(hosts, func(a, b hostStats) int { return strings.Compare(a.host, b.host) })
	return hosts
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
