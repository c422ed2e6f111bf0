package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
)

// retryNow retries at once, for tests that count attempts.
var retryNow = retry.Config{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}

func TestRun_badFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-bogus"}, "flag provided but not defined: -bogus"},
		{"zero requests", []string{"-requests", "0"}, "-requests is 0, want 1 to 1000000"},
		{"negative requests", []string{"-requests", "-5"}, "-requests is -5"},
		{"too many requests", []string{"-requests", "2000000"}, "-requests is 2000000"},
		{"requests not a number", []string{"-requests", "lots"}, `invalid value "lots" for flag -requests`},
		{"zero concurrency", []string{"-concurrency", "0"}, "-concurrency is 0, want 1 to 10000"},
		{"negative concurrency", []string{"-concurrency", "-1"}, "-concurrency is -1"},
		{"negative rate", []string{"-rate", "-1"}, "-rate is -1, want 0 (no limit) or at least 0.001 per second"},
		{"rate too slow to schedule", []string{"-rate", "1e-300"}, "-rate is 1e-300"},
		{"NaN rate", []string{"-rate", "NaN"}, "-rate is NaN"},
		{"infinite rate", []string{"-rate", "+Inf"}, "-rate is +Inf"},
		{"zero timeout", []string{"-timeout", "0"}, "-timeout is 0s, want > 0"},
		{"negative timeout", []string{"-timeout", "-1s"}, "-timeout is -1s, want > 0"},
		{"timeout without unit", []string{"-timeout", "5"}, `invalid value "5" for flag -timeout`},
		{"negative retries", []string{"-retries", "-1"}, "-retries is -1, want 0 to 100"},
		{"too many retries", []string{"-retries", "101"}, "-retries is 101"},
		{"breaker not a bool", []string{"-breaker=maybe"}, `invalid boolean value "maybe" for -breaker`},
		{"hedge not a bool", []string{"-hedge=maybe"}, `invalid boolean value "maybe" for -hedge`},
		{"adaptive not a bool", []string{"-adaptive=maybe"}, `invalid boolean value "maybe" for -adaptive`},
		{"budget not a bool", []string{"-budget=maybe"}, `invalid boolean value "maybe" for -budget`},
		{"wait not a bool", []string{"-wait=maybe"}, `invalid boolean value "maybe" for -wait`},
		{"negative deadline", []string{"-deadline", "-1s"}, "-deadline is -1s, want >= 0 (0: none)"},
		{"deadline without unit", []string{"-deadline", "3"}, `invalid value "3" for flag -deadline`},
		{"extra argument", []string{"-requests", "5", "extra"}, "unexpected arguments after the flags (1); to probe a URL, use -url URL"},
		{"URL as argument", []string{"https://example.com"}, "to probe a URL, use -url URL"},
		{"URL scheme", []string{"-url", "ftp://example.com/x"}, "-url must start with http:// or https://"},
		{"URL without scheme", []string{"-url", "example.com"}, "-url must start with http:// or https://"},
		{"URL without host", []string{"-url", "http:///path"}, "-url has no host"},
		{"URL does not parse", []string{"-url", "http://a b.com/"}, "-url does not parse"},
		{"URL with a port out of range", []string{"-url", "http://example.com:70000/"}, "-url is not a URL steady can probe (httpx: invalid URL: port is not a number from 1 to 65535)"},
		{"URL without host, password as port", []string{"-url", "http://alice:12345678/v1"}, "-url is not a URL steady can probe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr.String(), tc.want)
			assert.Contains(t, stderr.String(), "Usage: steady [flags]", "the usage follows the message")
			assert.Empty(t, stdout.String(), "nothing was run")
		})
	}
}

func TestRun_help(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, exitOK, run([]string{arg}, &stdout, &stderr), arg)
		for _, flag := range []string{"Usage: steady [flags]", "-url URL", "-requests", "-concurrency", "-rate", "-timeout", "-retries", "-breaker",
			"-deadline", "-adaptive", "-hedge", "-budget", "-wait"} {
			assert.Contains(t, stderr.String(), flag, arg)
		}
	}
}

// Credentials given with -url never show, in errors nor in the report.
func TestRun_neverPrintsCredentials(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1)%2 == 0 {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	withCreds := strings.Replace(srv.URL, "http://", "http://alice:hunter2@", 1) + "/v1?api_key=s3cr3t&q=1"

	for _, args := range [][]string{
		{"-url", withCreds, "-requests", "10", "-rate", "0", "-retries", "1", "-timeout", "5s"},
		{"-url", "alice:hunter2@example.com"},
		{"-url", "ftp://alice:hunter2@example.com/?token=s3cr3t"},
		{"https://alice:hunter2@example.com/?token=s3cr3t"},
		{"-url", "http://alice:12345678/v1"}, // host forgotten: the password parses as a port
	} {
		var stdout, stderr bytes.Buffer
		code := runContext(t.Context(), args, &stdout, &stderr, quickFlaky)
		out := stdout.String() + stderr.String()
		for _, secret := range []string{"hunter2", "alice", "s3cr3t", "12345678"} {
			assert.NotContains(t, out, secret, "exit %d, output:\n%s", code, out)
		}
	}
	assert.GreaterOrEqual(t, hits.Load(), int64(20), "the first run probed the server")
}

func TestRun_url(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintln(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)

	var stdout, stderr bytes.Buffer
	code := runContext(t.Context(), []string{"-url", srv.URL + "/health", "-requests", "20", "-concurrency", "4", "-rate", "0", "-deadline", "0"},
		&stdout, &stderr, quickFlaky)
	require.Equal(t, exitOK, code, stderr.String())
	out := stdout.String()
	t.Log("\n" + out)

	assert.Equal(t, int64(40), hits.Load(), "20 requests in each phase")
	assert.Contains(t, out, "to "+srv.URL+"/health\n")
	assert.Equal(t, [2]string{"20", "20"}, cells(t, out, "requests"))
	assert.Equal(t, [2]string{"20 (100%)", "20 (100%)"}, cells(t, out, "succeeded"))
	assert.Equal(t, [2]string{"20", "20"}, cells(t, out, "requests sent upstream"))
	assert.Equal(t, [2]string{"0", "0"}, cells(t, out, "retries"))
	assert.Equal(t, "stayed closed", cells(t, out, "breaker")[1])
	assert.NotContains(t, out, "during the outage", "only the embedded server has a known outage")
	assert.Contains(t, out, "a hung request holds its caller until the server lets go\n", "-deadline 0: none")
	assert.Contains(t, out, "  steady:    httpx.Client:\n")
	assert.Equal(t, [2]string{"0", "0"}, cells(t, out, "sent over 100ms late"), "without a rate no call is late")
	assert.Contains(t, out, "Every request succeeded in both phases")
}

func TestRun_embeddedServer(t *testing.T) {
	cfg := flakyConfig{
		Seed:        3,
		Slow:        [2]time.Duration{20 * time.Millisecond, 60 * time.Millisecond},
		Hang:        1500 * time.Millisecond,
		OutageStart: 100 * time.Millisecond,
		OutageLen:   150 * time.Millisecond,
	}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := runContext(t.Context(), []string{"-requests", "40", "-concurrency", "5", "-rate", "100", "-timeout", "300ms"},
		&stdout, &stderr, cfg)
	require.Equal(t, exitOK, code, stderr.String())
	out := stdout.String()
	t.Logf("in %v:\n%s", time.Since(start), out)

	assert.Contains(t, out, "to the embedded flaky server at http://127.0.0.1:")
	assert.Regexp(t, `(?m)^\s+no policy\s+steady\s*$`, out, "a header with both columns")
	assert.Equal(t, [2]string{"40", "40"}, cells(t, out, "requests"))
	ok := cells(t, out, "succeeded")
	plainOK, steadyOK := leadingInt(t, ok[0]), leadingInt(t, ok[1])
	assert.GreaterOrEqual(t, steadyOK, plainOK, "steady succeeds at least as often as no policy")
	assert.Less(t, plainOK, 40, "the flaky server fails some plain requests")
	assert.Equal(t, "40", cells(t, out, "requests sent upstream")[0], "no policy sends each request once")
	assert.Equal(t, "0", cells(t, out, "  timed out")[0], "no policy never times out")
	assert.Contains(t, out, "during the outage (100ms-250ms)")
	for _, row := range []string{"failed", "  rejected fast by the breaker", "  most common cause", "retries", "succeeded after a retry",
		"latency p50", "latency p99", "latency max", "  latency p50 / max", "outside the outage", "  latency p99 / max", "breaker", "wall time",
		"  denied by the budget", "hedges started / won", "  attempts hedged", "sent over 100ms late", "  calls that waited, then went"} {
		cells(t, out, row)
	}
	assert.Equal(t, "none", cells(t, out, "attempt timeout at the end")[0])
	assert.Regexp(t, `^\S+, (learned|fixed) \(ceiling 300ms\)$|^300ms, fixed$`, cells(t, out, "attempt timeout at the end")[1])
	server := cells(t, out, "  requests the server got")
	assert.Positive(t, leadingInt(t, server[0]), "no policy sends the calls due during the outage")
	leadingInt(t, server[1])
	assert.Contains(t, out, "    hedge    a second attempt when the first is slower than a delay learned per host to hedge 10%")
	assert.Contains(t, out, "    timeout  per attempt, learned per host for 5% of attempts, 50ms to 300ms (-timeout)")
	assert.Contains(t, out, "; while open, up to 5 calls wait for the recovery")
	assert.Regexp(t, `steady's hedger for 127\.0\.0\.1:\d+: delay \S+ now; \d+ attempts, \d+ hedged`, out)
	assert.Regexp(t, `steady's timeout for 127\.0\.0\.1:\d+: \S+ now \(50ms to 300ms\)`, out)
	assert.Regexp(t, `steady's budget for 127\.0\.0\.1:\d+: \d+ calls; \d+ retries and hedges allowed`, out)
	assert.Regexp(t, `(?m)^Of the calls due during the outage, \d+ of \d+ succeeded with steady, which sent the server \d+ requests? in it, vs \d+ of \d+ with no policy, which sent \d+\.$`, out)
	assert.Contains(t, out, "steady's own monitor.Metrics: total=40 ")
	assert.Regexp(t, `steady's breaker for 127\.0\.0\.1:\d+: \S+ now, \d+ calls rejected, \d+ let through after waiting; state changes: \d+ trips, \d+ reopens, \d+ closes`, out)
	assert.Regexp(t, `(?m)^steady: [\d.]+% succeeded vs [\d.]+% with no policy`, out)

	assert.NotContains(t, stderr.String(), "\033[", "no terminal codes when stderr is not a terminal")
}

func TestRun_interrupted(t *testing.T) {
	hung := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung <- struct{}{}
		<-r.Context().Done() // hangs until the client goes away
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-hung
		cancel() // Ctrl-C while the no-policy phase waits for a hung server
	}()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := runContext(ctx, []string{"-url", srv.URL, "-requests", "5"}, &stdout, &stderr, quickFlaky)
	assert.Equal(t, exitInterrupted, code)
	assert.Contains(t, stderr.String(), "steady: interrupted")
	assert.Less(t, time.Since(start), 20*time.Second, "stops at once")
}

// cells returns the two value cells of the table row named name.
func cells(t *testing.T, out, name string) [2]string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s{2,}(\S+(?: \S+)*)\s{2,}(\S+(?: \S+)*)\s*$`)
	m := re.FindStringSubmatch(out)
	require.NotNil(t, m, "row %q in:\n%s", name, out)
	return [2]string{m[1], m[2]}
}

func leadingInt(t *testing.T, s string) int {
	t.Helper()
	f, _, _ := strings.Cut(s, " ")
	n, err := strconv.Atoi(f)
	require.NoError(t, err, s)
	return n
}

// During an outage longer than its retries, steady's breaker opens and,
// with -wait=false, rejects calls without sending them.
func TestRunSteady_breakerDuringOutage(t *testing.T) {
	cfg := quickFlaky
	cfg.OutageStart, cfg.OutageLen = 100*time.Millisecond, 2*time.Second
	srv := startTestFlaky(t, cfg)
	o, err := parseFlags([]string{"-requests", "60", "-concurrency", "5", "-rate", "100", "-retries", "1", "-timeout", "1s", "-wait=false"}, io.Discard)
	require.NoError(t, err)

	p, err := runSteady(t.Context(), &o, srv.URL, srv, io.Discard)
	require.NoError(t, err)
	s := summarize(p, &window{cfg.OutageStart, cfg.OutageStart + cfg.OutageLen}, o.timeout)
	t.Logf("%+v upstream=%d retries=%d", s, p.upstream, p.retries)

	assert.Positive(t, s.rejected, "the breaker rejected calls")
	opened, first, _ := p.breaker.summary()
	assert.Positive(t, opened)
	assert.GreaterOrEqual(t, first, cfg.OutageStart, "it opened during the outage")
	assert.Less(t, p.upstream, int64(60), "rejected calls sent nothing: fewer requests than calls, retries and all")
	assert.Equal(t, int64(60), p.metrics.Total, "monitor.Metrics saw every call, rejected ones included")
	assert.Equal(t, p.upstream, srv.stats().Requests, "the transport counts what the server received")
	require.Len(t, p.hosts, 1, "one host")
	cb := p.hosts[0].breaker
	require.NotNil(t, cb)
	assert.Equal(t, uint64(s.rejected), cb.Rejected, "the breaker counts the rejections we saw")
	assert.Equal(t, uint64(opened), cb.Transitions.Trips+cb.Transitions.Reopens)
	assert.Zero(t, cb.Waited, "-wait=false: no call waits")
	assert.Equal(t, p.server.Faults[faultOutage].Injected, p.outageRequests())
}

// With waiting (the default), calls made while the breaker is open wait
// for the probe that shows the upstream is back, and then succeed, within
// their deadline; the upstream gets no request from them meanwhile.
func TestRunSteady_waitsForRecovery(t *testing.T) {
	cfg := quickFlaky
	cfg.OutageStart, cfg.OutageLen = 100*time.Millisecond, 700*time.Millisecond
	run := func(wait bool) (*phase, summary) {
		srv := startTestFlaky(t, cfg)
		o, err := parseFlags([]string{"-requests", "60", "-concurrency", "5", "-rate", "50", "-retries", "1",
			"-deadline", "10s", "-wait=" + strconv.FormatBool(wait)}, io.Discard)
		require.NoError(t, err)
		p, err := runSteady(t.Context(), &o, srv.URL, srv, io.Discard)
		require.NoError(t, err)
		s := summarize(p, &window{cfg.OutageStart, cfg.OutageStart + cfg.OutageLen}, o.timeout)
		t.Logf("wait=%v: %d of %d ok in the outage, %d rejected, server got %d in it, breaker %s",
			wait, s.okInOutage, s.inOutage, s.rejected, p.outageRequests(), breakerText(p.breaker))
		return p, s
	}
	p, s := run(true)
	require.Len(t, p.hosts, 1)
	cb := p.hosts[0].breaker
	require.NotNil(t, cb)
	opened, _, _ := p.breaker.summary()
	require.Positive(t, opened, "the outage opened the breaker")
	assert.Positive(t, cb.Waited, "calls waited for the recovery")
	assert.Zero(t, s.rejected, "no call was rejected: each had time to wait")
	assert.Zero(t, cb.Waiting, "no call is left waiting")

	var buf bytes.Buffer
	o := options{timeout: time.Second, retries: 1, breaker: true, wait: true, concurrency: 5, budget: true}
	writeReport(&buf, &o, &phase{}, p, &window{cfg.OutageStart, cfg.OutageStart + cfg.OutageLen})
	assert.Equal(t, strconv.FormatInt(cb.Waited, 10), cells(t, buf.String(), "  calls that waited, then went")[1])

	p2, s2 := run(false)
	assert.Zero(t, p2.hosts[0].breaker.Waited)
	assert.Positive(t, s2.rejected, "without waiting, the open breaker rejects calls")
	assert.Greater(t, s.okInOutage, s2.okInOutage, "waiting gets more of the outage's calls through")
}

// The default budget stops retrying a dependency that is down; with
// -budget=false every call is retried.
func TestRunSteady_budget(t *testing.T) {
	cfg := quickFlaky
	cfg.OutageStart, cfg.OutageLen = 0, time.Hour
	run := func(args ...string) *phase {
		srv := startTestFlaky(t, cfg)
		o, err := parseFlags(append([]string{"-requests", "150", "-rate", "0", "-retries", "1", "-breaker=false", "-hedge=false"}, args...), io.Discard)
		require.NoError(t, err)
		p, err := runSteady(t.Context(), &o, srv.URL, srv, io.Discard)
		require.NoError(t, err)
		return p
	}
	p := run()
	require.Len(t, p.hosts, 1)
	b := p.hosts[0].budget
	require.NotNil(t, b)
	assert.Positive(t, b.Denied, "the budget denied retries into the outage")
	assert.Equal(t, int64(150)+b.Retries, p.upstream, "each call sent once, plus the retries allowed")
	assert.Equal(t, b.Retries, p.retries)
	assert.Equal(t, int64(150)+p.retries, p.server.Requests)

	var buf bytes.Buffer
	o := options{timeout: time.Second, retries: 1, budget: true}
	writeReport(&buf, &o, &phase{}, p, nil)
	assert.Equal(t, strconv.FormatInt(b.Denied, 10), cells(t, buf.String(), "  denied by the budget")[1])
	assert.Contains(t, buf.String(), fmt.Sprintf("; the budget denied %d retries while retries were failing.", b.Denied))

	p = run("-budget=false")
	assert.Equal(t, int64(300), p.upstream, "no budget: every call retried once")
	o.budget = false
	buf.Reset()
	writeReport(&buf, &o, &phase{}, p, nil)
	assert.Equal(t, "no budget", cells(t, buf.String(), "  denied by the budget")[1])
}

// A first attempt that hangs is hedged: the hedge answers, long before the
// attempt's timeout. Without hedging the call waits for the timeout.
func TestRunSteady_hedge(t *testing.T) {
	run := func(args ...string) *phase {
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				<-r.Context().Done() // hangs until the client gives up
				return
			}
			fmt.Fprint(w, "ok")
		}))
		t.Cleanup(srv.Close)
		o, err := parseFlags(append([]string{"-url", srv.URL, "-requests", "1", "-timeout", "2s", "-retries", "0"}, args...), io.Discard)
		require.NoError(t, err)
		p, err := runSteady(t.Context(), &o, srv.URL, nil, io.Discard)
		require.NoError(t, err)
		require.Len(t, p.calls, 1)
		return p
	}
	p := run()
	require.NoError(t, p.calls[0].err, "the hedge answered")
	require.Len(t, p.hosts, 1)
	h := p.hosts[0].hedge
	require.NotNil(t, h)
	assert.Equal(t, int64(1), h.Hedges)
	assert.Equal(t, int64(1), h.Wins)
	assert.Equal(t, time.Second, h.Delay, "before it has learned, the hedger waits half the timeout")
	assert.Less(t, p.calls[0].latency, 2*time.Second, "the hedge, not the timeout, ended the call")

	var buf bytes.Buffer
	o := options{timeout: 2 * time.Second, hedge: true}
	writeReport(&buf, &o, &phase{}, p, nil)
	out := buf.String()
	assert.Equal(t, "1 / 1", cells(t, out, "hedges started / won")[1])
	assert.Equal(t, "1 of 1 (100%), delay 1.00s at the end", cells(t, out, "  attempts hedged")[1])
	assert.Contains(t, out, "steady hedged 1 of its 1 attempts (100%), after a delay it learned (1.00s at the end); the hedge answered first 1 time.")

	p = run("-hedge=false")
	assert.True(t, resilience.IsTimeout(p.calls[0].err), "no hedge: the attempt timed out: %v", p.calls[0].err)
	assert.Nil(t, p.hosts[0].hedge)
	buf.Reset()
	writeReport(&buf, &o, &phase{}, p, nil)
	assert.NotContains(t, buf.String(), "hedges started")
}

// The learned timeout comes down from the ceiling when few attempts are
// slow; -adaptive=false keeps the ceiling.
func TestRunSteady_adaptiveTimeout(t *testing.T) {
	run := func(args ...string) *phase {
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1)%50 == 0 { // 2% hang, under the 5% the limit may cut
				<-r.Context().Done()
				return
			}
			fmt.Fprint(w, "ok")
		}))
		t.Cleanup(srv.Close)
		o, err := parseFlags(append([]string{"-url", srv.URL, "-requests", "150", "-rate", "0", "-timeout", "1s", "-retries", "1", "-hedge=false"}, args...), io.Discard)
		require.NoError(t, err)
		p, err := runSteady(t.Context(), &o, srv.URL, nil, io.Discard)
		require.NoError(t, err)
		return p
	}
	p := run()
	require.Len(t, p.hosts, 1)
	a := p.hosts[0].adaptive
	require.NotNil(t, a)
	t.Logf("%+v", *a)
	assert.Less(t, a.Limit, time.Second, "learned below the ceiling")
	assert.GreaterOrEqual(t, a.Limit, timeoutMin)
	assert.GreaterOrEqual(t, a.Calls, uint64(timeoutWarmup))
	var buf bytes.Buffer
	o := options{timeout: time.Second, adaptive: true}
	writeReport(&buf, &o, &phase{}, p, nil)
	assert.Equal(t, dur(a.Limit)+", learned (ceiling 1s)", cells(t, buf.String(), "attempt timeout at the end")[1])

	p = run("-adaptive=false")
	assert.Nil(t, p.hosts[0].adaptive)
	o.adaptive = false
	buf.Reset()
	writeReport(&buf, &o, &phase{}, p, nil)
	assert.Equal(t, "1s, fixed", cells(t, buf.String(), "attempt timeout at the end")[1])
}

// Without the breaker, steady retries every call of the outage.
func TestRunSteady_noBreaker(t *testing.T) {
	cfg := quickFlaky
	cfg.OutageStart, cfg.OutageLen = 0, time.Hour
	srv := startTestFlaky(t, cfg)
	o, err := parseFlags([]string{"-requests", "20", "-rate", "0", "-retries", "1", "-breaker=false"}, io.Discard)
	require.NoError(t, err)

	p, err := runSteady(t.Context(), &o, srv.URL, srv, io.Discard)
	require.NoError(t, err)
	s := summarize(p, nil, o.timeout)
	assert.Nil(t, p.breaker)
	assert.Zero(t, s.rejected)
	assert.Equal(t, 20, s.failed)
	assert.Equal(t, int64(40), p.upstream, "two attempts per call")
	assert.Equal(t, int64(20), p.retries)
}

// An attempt that hangs is cut at -timeout and retried: the call succeeds
// long before the server would have let go, and the report counts the cut.
func TestRunSteady_timeoutCutsHungAttempt(t *testing.T) {
	const hang = 10 * time.Second
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			select { // hangs until the client gives up, or for hang
			case <-r.Context().Done():
				return
			case <-time.After(hang):
			}
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	o, err := parseFlags([]string{"-url", srv.URL, "-requests", "1", "-timeout", "100ms", "-retries", "1", "-hedge=false"}, io.Discard)
	require.NoError(t, err)

	p, err := runSteady(t.Context(), &o, srv.URL, nil, io.Discard)
	require.NoError(t, err)
	require.Len(t, p.calls, 1)
	c := p.calls[0]
	require.NoError(t, c.err)
	assert.Equal(t, 2, c.attempts, "the hung attempt, then the retry")
	assert.Equal(t, int64(1), p.retriedTimeouts, "the retried attempt timed out")
	assert.Less(t, c.latency, hang/4, "the timeout, not the server, ended the first attempt")

	var buf bytes.Buffer
	writeReport(&buf, &o, &phase{}, p, nil)
	assert.Equal(t, "1", cells(t, buf.String(), "  attempts cut by a time limit")[1])
}

// A Retry-After longer than maxRetryAfter is capped: steady would wait
// maxRetryAfter, not what the server asked for. The caller's deadline,
// shorter than the cap, makes the retry give up at once and say how long it
// would have waited, so the test need not wait.
func TestRunSteady_retryAfterCapped(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "come back in an hour", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	o, err := parseFlags([]string{"-url", srv.URL, "-requests", "1", "-retries", "1"}, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), maxRetryAfter/2)
	defer cancel()

	p, err := runSteady(ctx, &o, srv.URL, nil, io.Discard)
	require.NoError(t, err)
	require.Len(t, p.calls, 1)
	var re *retry.Error
	require.ErrorAs(t, p.calls[0].err, &re)
	assert.Equal(t, maxRetryAfter, re.NextDelay, "the server asked for 1h; steady waits at most maxRetryAfter")
	assert.Equal(t, int64(1), hits.Load(), "no retry: the capped wait would pass the deadline")
}
