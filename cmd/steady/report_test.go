package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/chaos"
	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/timeout"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(100 - i) // reversed: percentile sorts
	}
	tests := []struct {
		name string
		d    []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{ms(7)}, 0.99, ms(7)},
		{"median of 4 is the 2nd", []time.Duration{ms(4), ms(1), ms(3), ms(2)}, 0.5, ms(2)},
		{"p50 of 100", hundred, 0.5, ms(50)},
		{"p99 of 100", hundred, 0.99, ms(99)},
		{"max", hundred, 1, ms(100)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, percentile(tc.d, tc.q))
		})
	}
}

func TestSummarize(t *testing.T) {
	open := &breaker.OpenError{Name: "h", State: breaker.StateOpen}
	p := &phase{calls: []call{
		{due: ms(0), start: ms(0), latency: ms(5), attempts: 1},
		{due: ms(10), start: ms(10), latency: ms(1500), attempts: 3},
		{due: ms(20), start: ms(20), latency: ms(2), err: &httpx.StatusError{Method: "GET", URL: "u", StatusCode: 503}},
		{due: ms(100), start: ms(100), latency: ms(1), err: &httpx.StatusError{Method: "GET", URL: "u", StatusCode: 503}},
		{due: ms(110), start: ms(110), latency: 0, err: open},
		// Due in the outage, sent after it: it counts in the outage, and late.
		{due: ms(120), start: ms(250), latency: ms(1000), err: context.DeadlineExceeded},
		{due: ms(200), start: ms(200), latency: ms(3), attempts: 1},
	}}
	s := summarize(p, &window{ms(100), ms(200)}, time.Second)
	assert.Equal(t, summary{
		n: 7, ok: 3, failed: 4, timeouts: 1, rejected: 1, recovered: 1,
		p50: ms(3), p99: ms(1500), max: ms(1500),
		cause: "HTTP 503", causeN: 2,
		inOutage: 3, okInOutage: 0, outageP50: ms(1), outageMax: ms(1000),
		outsideP99: ms(1500), outsideMax: ms(1500),
		slowerThan: 1,
		late:       1, maxLate: ms(130),
	}, s)

	none := summarize(&phase{calls: []call{{latency: ms(1)}}}, nil, time.Second)
	assert.Equal(t, "-", causeText(none))
	assert.Zero(t, none.inOutage)
}

func TestDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                              "0",
		42 * time.Microsecond:          "42µs",
		2345 * time.Microsecond:        "2.3ms",
		ms(312):                        "312ms",
		ms(999) + 600*time.Microsecond: "1.00s",
		ms(1250):                       "1.25s",
		5 * time.Second:                "5.00s",
	} {
		assert.Equal(t, want, dur(d), "%v", int64(d))
	}
}

func TestPct(t *testing.T) {
	assert.Equal(t, "100%", pct(20, 20))
	assert.Equal(t, "42.5%", pct(17, 40))
	assert.Equal(t, "33.3%", pct(1, 3))
	assert.Equal(t, "-", pct(0, 0))
}

func TestBreakerText(t *testing.T) {
	l := &breakerLog{}
	assert.Equal(t, "stayed closed", breakerText(l))
	l.changes = []stateChange{
		{ms(2200), breaker.StateClosed, breaker.StateOpen},
		{ms(2750), breaker.StateOpen, breaker.StateHalfOpen},
		{ms(3100), breaker.StateHalfOpen, breaker.StateOpen},
		{ms(3650), breaker.StateOpen, breaker.StateHalfOpen},
	}
	assert.Equal(t, "opened 2 times, from 2.20s; not closed at the end", breakerText(l))
	l.changes = append(l.changes, stateChange{ms(3700), breaker.StateHalfOpen, breaker.StateClosed})
	assert.Equal(t, "opened 2 times, 2.20s-3.70s", breakerText(l))
}

func TestWriteReport(t *testing.T) {
	o := options{requests: 4, concurrency: 2, timeout: time.Second, retries: 3, breaker: true}
	plain := &phase{wall: ms(5200), upstream: 4, calls: []call{
		{latency: ms(3), attempts: 1},
		{latency: ms(5000), attempts: 1, err: &httpx.StatusError{Method: "GET", URL: "u", StatusCode: 504}},
		{latency: ms(1), attempts: 1, err: &httpx.StatusError{Method: "GET", URL: "u", StatusCode: 503}},
		{latency: ms(2), attempts: 1},
	}}
	bl := &breakerLog{changes: []stateChange{{ms(1), breaker.StateClosed, breaker.StateOpen}, {ms(9), breaker.StateHalfOpen, breaker.StateClosed}}}
	st := &phase{wall: ms(1300), upstream: 5, retries: 2, retriedTimeouts: 1, breaker: bl, calls: []call{
		{latency: ms(3), attempts: 1},
		{latency: ms(1100), attempts: 2},
		{latency: 0, err: &breaker.OpenError{State: breaker.StateOpen}},
		{latency: ms(2), attempts: 1},
	}}
	var buf bytes.Buffer
	writeReport(&buf, &o, plain, st, nil)
	out := buf.String()
	t.Log("\n" + out)

	assert.Equal(t, [2]string{"2 (50%)", "3 (75%)"}, cells(t, out, "succeeded"))
	assert.Equal(t, [2]string{"0", "1"}, cells(t, out, "  rejected fast by the breaker"))
	assert.Equal(t, [2]string{"HTTP 503 (1)", "circuit open (1)"}, cells(t, out, "  most common cause"))
	assert.Equal(t, [2]string{"0", "2"}, cells(t, out, "retries"))
	assert.Equal(t, [2]string{"0", "1"}, cells(t, out, "succeeded after a retry"))
	assert.Equal(t, [2]string{"0", "1"}, cells(t, out, "  attempts cut by a time limit"))
	assert.Equal(t, [2]string{"4", "5"}, cells(t, out, "requests sent upstream"))
	assert.Equal(t, [2]string{"5.00s", "1.10s"}, cells(t, out, "latency p99"))
	assert.Equal(t, [2]string{"-", "opened 1 time, 1.0ms-9.0ms"}, cells(t, out, "breaker"))
	assert.Equal(t, [2]string{"5.20s", "1.30s"}, cells(t, out, "wall time"))

	_, verdict, ok := strings.Cut(out, "\n\n")
	require.True(t, ok)
	lines := strings.Split(strings.TrimSpace(verdict), "\n")
	assert.Len(t, lines, 4)
	assert.Equal(t, "steady: 75% succeeded vs 50% with no policy; p99 latency 1.10s vs 5.00s, max 1.10s vs 5.00s; wall time 1.30s vs 5.20s.", lines[0])
	assert.Equal(t, "With no policy, 1 call waited longer than 1s (up to 5.00s) for a server that did not answer in time; steady cut 1 attempt at 1s.", lines[1])
	assert.Equal(t, "steady retried 2 times; 1 call succeeded only thanks to a retry.", lines[2])
	assert.Equal(t, "While the upstream was failing, the circuit breaker rejected 1 call at once, instead of sending each up to 4 times to it; 5 requests were sent to it in all, vs 4 with no policy.", lines[3])
}

func TestVerdict_healthy(t *testing.T) {
	o := options{timeout: time.Second}
	p := &phase{calls: []call{{latency: ms(2), attempts: 1}}, upstream: 1}
	a := summarize(p, nil, o.timeout)
	lines := verdict(&o, a, a, p, p, false)
	assert.Len(t, lines, 2)
	assert.Equal(t, "Every request succeeded in both phases: the endpoint was healthy, and steady cost nothing visible.", lines[1])
}

func TestDisplayURL(t *testing.T) {
	assert.Equal(t, "https://api.example.com/v1/x", displayURL("https://bob:pw@api.example.com/v1/x"))
	assert.Equal(t, "http://h:8080/?…", displayURL("http://h:8080/?token=abc#frag"))
	assert.Equal(t, "<URL>", displayURL("http://a b/"))
}

func TestVerdict_retriesThatSavedNothing(t *testing.T) {
	o := options{timeout: time.Second, retries: 2}
	plain := &phase{calls: []call{{latency: ms(1), err: &httpx.StatusError{Method: "GET", URL: "u", StatusCode: 500}}}, upstream: 1}
	st := &phase{calls: []call{{latency: ms(300), err: &httpx.StatusError{Method: "GET", URL: "u", StatusCode: 500}}}, upstream: 3, retries: 2}
	lines := verdict(&o, summarize(plain, nil, o.timeout), summarize(st, nil, o.timeout), plain, st, false)
	assert.Equal(t, []string{
		"steady: 0% succeeded vs 0% with no policy; p99 latency 300ms vs 1.0ms, max 300ms vs 1.0ms; wall time 0 vs 0.",
		"steady retried 2 times; none of its calls succeeded thanks to a retry.",
	}, lines)
}

// With every policy on, the report shows what each did: the budget's
// denials, the hedges, the learned timeout, the calls that waited for the
// breaker, what the server got during the outage, and the calls sent late.
func TestWriteReport_policies(t *testing.T) {
	o := options{requests: 4, concurrency: 2, timeout: time.Second, retries: 3,
		adaptive: true, hedge: true, budget: true, breaker: true, wait: true}
	outage := &window{ms(100), ms(200)}
	e503 := &httpx.StatusError{Method: "GET", URL: "u", StatusCode: 503}
	server := func(outage int64) *chaos.Stats {
		s := chaos.Stats{Faults: make([]chaos.FaultStats, faultThrottled+1)}
		s.Faults[faultOutage].Injected = outage
		return &s
	}
	plain := &phase{wall: ms(900), upstream: 4, server: server(2), calls: []call{
		{due: ms(0), start: ms(0), latency: ms(3), attempts: 1},
		{due: ms(100), start: ms(100), latency: ms(1), attempts: 1, err: e503},
		{due: ms(150), start: ms(150), latency: ms(1), attempts: 1, err: e503},
		{due: ms(300), start: ms(300), latency: ms(2), attempts: 1},
	}}
	bl := &breakerLog{changes: []stateChange{{ms(110), breaker.StateClosed, breaker.StateOpen}, {ms(260), breaker.StateHalfOpen, breaker.StateClosed}}}
	st := &phase{wall: ms(800), upstream: 7, retries: 1, breaker: bl, server: server(3), calls: []call{
		{due: ms(0), start: ms(0), latency: ms(8), attempts: 1}, // hedged
		{due: ms(100), start: ms(100), latency: ms(170), attempts: 2},
		{due: ms(150), start: ms(270), latency: ms(125), attempts: 1}, // waited for a worker
		{due: ms(300), start: ms(300), latency: ms(2), attempts: 1},
	}, hosts: []hostStats{{
		host:     "127.0.0.1:8080",
		breaker:  &breaker.Snapshot{State: breaker.StateClosed, Waited: 1, Transitions: breaker.Transitions{Trips: 1, Closes: 1}},
		hedge:    &hedge.Stats{Calls: 5, Hedged: 1, Hedges: 1, Wins: 1, Denied: 1, Delay: 5300 * time.Microsecond},
		adaptive: &timeout.AdaptiveSnapshot{Limit: ms(50), Calls: 4, Timeouts: 1, Skipped: 1},
		budget:   &budget.Stats{Requests: 4, Retries: 2, Succeeded: 2, Denied: 3, Headroom: 99.5},
	}}}
	var buf bytes.Buffer
	writeReport(&buf, &o, plain, st, outage)
	out := buf.String()
	t.Log("\n" + out)

	assert.Equal(t, [2]string{"-", "2"}, cells(t, out, "  denied by the budget"), "3 denials, one of them a hedge's")
	assert.Equal(t, [2]string{"-", "1 / 1"}, cells(t, out, "hedges started / won"))
	assert.Equal(t, [2]string{"-", "1 of 5 (20%), delay 5.3ms at the end"}, cells(t, out, "  attempts hedged"))
	assert.Equal(t, [2]string{"none", "50ms, learned (ceiling 1s)"}, cells(t, out, "attempt timeout at the end"))
	assert.Equal(t, [2]string{"0", "1, up to 120ms"}, cells(t, out, "sent over 100ms late"))
	assert.Equal(t, [2]string{"0 of 2 ok", "2 of 2 ok"}, cells(t, out, "during the outage (100ms-200ms)"), "by when they were due")
	assert.Equal(t, [2]string{"2", "3"}, cells(t, out, "  requests the server got"))
	assert.Equal(t, [2]string{"3.0ms / 3.0ms", "8.0ms / 8.0ms"}, cells(t, out, "  latency p99 / max"))
	assert.Equal(t, [2]string{"-", "1"}, cells(t, out, "  calls that waited, then went"))
	assert.Contains(t, out, "steady's breaker for 127.0.0.1:8080: closed now, 0 calls rejected, 1 let through after waiting; state changes: 1 trips, 0 reopens, 1 closes\n")
	assert.Contains(t, out, "steady's timeout for 127.0.0.1:8080: 50ms now (50ms to 1s); 4 attempts taught it, 1 of them timed out (25%), 1 taught nothing (retried, hedged or cut short by the deadline)\n")
	assert.Contains(t, out, "steady's hedger for 127.0.0.1:8080: delay 5.3ms now; 5 attempts, 1 hedged (20%), 1 hedges started, 1 won, 1 denied by the budget\n")
	assert.Contains(t, out, "steady's budget for 127.0.0.1:8080: 4 calls; 2 retries and hedges allowed, 2 of them succeeded, 3 denied; 100 tokens left\n")

	_, verdict, ok := strings.Cut(out, "\n\n")
	require.True(t, ok)
	_, verdict, ok = strings.Cut(verdict, "\n\n")
	require.True(t, ok)
	assert.Equal(t, []string{
		"steady: 100% succeeded vs 50% with no policy (outside the outage 100% vs 100%); p99 latency 170ms vs 3.0ms, max 170ms vs 3.0ms; wall time 800ms vs 900ms.",
		"steady hedged 1 of its 5 attempts (20%), after a delay it learned (5.3ms at the end); the hedge answered first 1 time.",
		"steady retried 1 time; 1 call succeeded only thanks to a retry; the budget denied 2 retries while retries were failing.",
		"While the upstream was failing, the circuit breaker held 1 call until a probe showed the upstream was back, then let them through, instead of sending each up to 4 times to it; 7 requests were sent to it in all, vs 4 with no policy.",
		"Of the calls due during the outage, 2 of 2 succeeded with steady, which sent the server 3 requests in it, vs 0 of 2 with no policy, which sent 2.",
		"With all 2 callers busy, no call with no policy and 1 call with steady (up to 120ms) were sent over 100ms after they were due; their latency and deadline count from when they were due.",
	}, strings.Split(strings.TrimSpace(verdict), "\n"))
}
