// Command steady shows what steady's policies do for calls to an HTTP
// upstream that misbehaves, in under half a minute.
//
// Usage:
//
//	go run ./cmd/steady [flags]
//
// Without -url, steady starts a flaky HTTP server of its own on 127.0.0.1,
// built with package chaos (its faults are drawn from a fixed seed, so every
// run meets the same ones): most requests are answered in a few
// milliseconds, some take hundreds of milliseconds, some hang for seconds,
// some get 503 or 429 with Retry-After, and for two seconds in each phase
// every request gets 503 (an outage). It then sends the same load twice,
// 300 requests, 10 at a time, 50 a second, each call with the same
// deadline (-deadline, 3s), as a caller that must answer its own client in
// time would:
//
//   - "no policy": a plain http.Client without a Timeout, the way many
//     programs call APIs; a hung request holds its caller until the
//     deadline (or the server) lets go;
//   - "steady": an httpx.Client with a timeout per attempt that each host
//     learns under the -timeout ceiling, hedged attempts, retries with
//     exponential backoff and jitter that honour Retry-After within a
//     retry budget, a circuit breaker per host whose calls wait for the
//     recovery within their deadline, and monitor.Metrics recording every
//     call.
//
// While it works it shows progress on stderr. Then it prints a table that
// puts the two side by side (success rate, timeouts, retries and the ones
// the budget denied, hedges, the learned timeout, calls the breaker
// rejected or held until the recovery, requests that reached the upstream,
// latency percentiles, the outage, wall time) and a few lines of verdict.
// The -hedge, -adaptive, -budget, -wait and -breaker flags turn steady's
// policies off one by one, to see what each does.
//
// With -url, steady probes that endpoint the same way, with GET requests.
// Be kind: it sends -requests requests in each phase, and more with retries
// and hedges.
//
// The flags are:
//
//	-url URL          probe URL (http or https) instead of the embedded server
//	-requests N       requests per phase (default 300)
//	-concurrency N    requests in flight at most (default 10)
//	-rate R           requests started per second at most; 0: no limit (default 50)
//	-deadline D       each call's deadline, in both phases; 0: none (default 3s)
//	-timeout D        steady's limit per attempt, the ceiling of the learned one (default 1s)
//	-retries N        steady's retries after the first attempt (default 3)
//	-adaptive=false   a fixed -timeout per attempt instead of a learned one
//	-hedge=false      no hedged attempts
//	-budget=false     retries and hedges without a budget
//	-breaker=false    run steady without the circuit breaker
//	-wait=false       calls to an open breaker fail at once instead of waiting
//	-dashboard ADDR   serve a live dashboard of both phases at http://ADDR/ (e.g.
//	                  127.0.0.1:8080), and keep serving it after the report until
//	                  interrupted
//
// With -dashboard, each phase shows as a card (package dashboard): "no
// policy" and "steady", whose card also has the breaker, hedger, budget
// and learned timeout of the host, so the outage, the breaker opening and
// the recovery play out in the browser as they happen.
//
// The exit status is 0 when both phases ran, 1 when steady could not run
// them, 2 for bad flags or arguments, and 130 when interrupted (Ctrl-C).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/steadyhq/steady/httpx"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// run runs the command with args (without the program name) and returns
// its exit status. Ctrl-C (or SIGTERM) stops it cleanly.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr, demoFlaky)
}

// options are the command's flags, checked.
type options struct {
	url         string // "" for the embedded server
	requests    int
	concurrency int
	rate        float64       // per second; 0: no limit
	deadline    time.Duration // each call's; 0: none
	timeout     time.Duration
	retries     int
	adaptive    bool // learn the attempt timeout under timeout
	hedge       bool
	budget      bool // the default budget; false: budget.Unlimited
	breaker     bool
	wait        bool   // calls wait for an open breaker (with breaker)
	dashboard   string // address to serve the dashboard on; "" for none

	live *liveDashboard // with dashboard, once started: where the phases show
}

// Limits of the numeric flags: generous, but they keep a typo from
// asking for a billion requests.
const (
	maxRequests    = 1_000_000
	maxConcurrency = 10_000
	maxRetries     = 100
)

const usageHead = `Usage: steady [flags]

steady sends the same requests twice, each with the same deadline, first
with a plain http.Client (no timeout, no retries) and then through steady's
httpx.Client (a learned timeout per attempt, hedged attempts, retries with
backoff within a budget, a circuit breaker whose calls wait for the
recovery), and prints how each fared. Without -url it runs its own flaky
server on 127.0.0.1.

Flags:
`

// errUsage marks a bad command line whose message has been printed.
var errUsage = errors.New("steady: bad usage")

// parseFlags parses and checks args. On -h it returns flag.ErrHelp; on a
// bad command line it writes the problem and the usage to stderr and
// returns errUsage.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("steady", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.url, "url", "", "probe `URL` (http or https) instead of the embedded flaky server")
	fs.IntVar(&o.requests, "requests", 300, "requests per phase, 1 to 1000000")
	fs.IntVar(&o.concurrency, "concurrency", 10, "requests in flight at most, 1 to 10000")
	fs.Float64Var(&o.rate, "rate", 50, "requests started per second at most; 0 for no limit")
	fs.DurationVar(&o.deadline, "deadline", 3*time.Second, "each call's deadline, in both phases, >= 0; 0 for none")
	fs.DurationVar(&o.timeout, "timeout", time.Second, "steady's time limit per attempt, > 0; with -adaptive, the ceiling of the learned limit")
	fs.IntVar(&o.retries, "retries", 3, "steady's retries after the first attempt, 0 to 100")
	fs.BoolVar(&o.adaptive, "adaptive", true, "learn steady's time limit per attempt, per host, under -timeout")
	fs.BoolVar(&o.hedge, "hedge", true, "hedge steady's slow attempts with a second one")
	fs.BoolVar(&o.budget, "budget", true, "bound steady's retries and hedges with a budget per host")
	fs.BoolVar(&o.breaker, "breaker", true, "guard steady's calls with a circuit breaker")
	fs.BoolVar(&o.wait, "wait", true, "with -breaker, let calls wait for an open breaker's recovery, within their deadline")
	fs.StringVar(&o.dashboard, "dashboard", "", "serve a live dashboard of the phases on `ADDR` (host:port, e.g. 127.0.0.1:8080) until interrupted")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage // flag has printed the error and the usage
	}
	if err := o.check(fs.NArg()); err != nil {
		fmt.Fprintln(stderr, err)
		fs.Usage()
		return o, errUsage
	}
	return o, nil
}

// check returns an error naming the first bad flag, if any. It never
// repeats the URL: it may hold credentials.
func (o *options) check(extraArgs int) error {
	switch {
	case extraArgs > 0:
		return fmt.Errorf("steady: unexpected arguments after the flags (%d); to probe a URL, use -url URL", extraArgs)
	case o.requests < 1 || o.requests > maxRequests:
		return fmt.Errorf("steady: -requests is %d, want 1 to %d", o.requests, maxRequests)
	case o.concurrency < 1 || o.concurrency > maxConcurrency:
		return fmt.Errorf("steady: -concurrency is %d, want 1 to %d", o.concurrency, maxConcurrency)
	case o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0) || (o.rate > 0 && o.rate < minRate):
		return fmt.Errorf("steady: -rate is %v, want 0 (no limit) or at least %v per second", o.rate, minRate)
	case o.deadline < 0:
		return fmt.Errorf("steady: -deadline is %v, want >= 0 (0: none)", o.deadline)
	case o.timeout <= 0:
		return fmt.Errorf("steady: -timeout is %v, want > 0", o.timeout)
	case o.retries < 0 || o.retries > maxRetries:
		return fmt.Errorf("steady: -retries is %d, want 0 to %d", o.retries, maxRetries)
	}
	if o.dashboard != "" {
		if _, _, err := net.SplitHostPort(o.dashboard); err != nil {
			return errNoDashboard
		}
	}
	if o.url != "" {
		return checkURL(o.url)
	}
	return nil
}

// checkURL checks the -url value raw with httpx.ParseURL, the check every
// call of httpx makes, so that a URL steady accepts is one it can probe.
// The error names -url and never repeats raw: a URL of the wrong shape may
// hold a credential where redaction cannot find it ("http://user:12345678/"
// parses as a host and a port). Its first words only point at the likely
// fix; httpx decides.
func checkURL(raw string) error {
	_, err := httpx.ParseURL(raw)
	if err == nil {
		return nil
	}
	hint := "is not a URL steady can probe"
	switch u, perr := url.Parse(raw); {
	case perr != nil:
		hint = "does not parse as a URL"
	case u.Opaque != "" || u.Scheme != "http" && u.Scheme != "https":
		// Not the scheme itself: in "user:password@host" it is the user.
		hint = "must start with http:// or https://"
	case u.Hostname() == "":
		hint = "has no host"
	}
	return fmt.Errorf("steady: -url %s (%w)", hint, err)
}

// minRate is the slowest -rate accepted: one request every 1000s. Slower
// rates would make the interval between requests overflow.
const minRate = 0.001

// interval returns the time between request starts for o.rate.
func (o *options) interval() time.Duration {
	if o.rate == 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / o.rate)
}

// displayURL returns u fit for printing: scheme, host and path, without
// user information, query or fragment, which may hold credentials.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<URL>"
	}
	s := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}
