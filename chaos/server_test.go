package chaos_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/steadyhq/steady/chaos"
	"github.com/steadyhq/steady/httpx"
)

func TestMiddleware_statusAtAboutItsRate(t *testing.T) {
	in := newInjector(t, chaos.Config{Seed: 1, Faults: []chaos.Fault{chaos.Status(503).Rate(0.3)}})
	srv, c := serve(t, in, nil)
	const n = 400
	var failed int64
	for range n {
		status, body, hdr, err := get(c, srv.URL)
		switch {
		case err != nil:
			t.Fatalf("GET: %v", err)
		case status == http.StatusServiceUnavailable:
			failed++
			if hdr.Get("X-Chaos") != "status 503, 30% of requests" {
				t.Errorf("X-Chaos = %q", hdr.Get("X-Chaos"))
			}
		case status != http.StatusOK || string(body) != okBody:
			t.Fatalf("a request no fault hit got %d %q", status, body)
		}
	}
	// 30% of 400 is 120, with a standard deviation of 9.2: ±5 of them.
	within(t, "503s", failed, 74, 166)
	s := in.Snapshot()
	if s.Requests != n || s.Injected(chaos.KindStatus) != failed || s.Clean != n-failed {
		t.Errorf("Snapshot = %+v, want %d requests, %d injected, %d clean", s, n, failed, n-failed)
	}
	if s.InFlight != 0 || s.PeakInFlight != 1 {
		t.Errorf("InFlight = %d, PeakInFlight = %d, want 0 and 1 for requests one at a time", s.InFlight, s.PeakInFlight)
	}
}

func TestMiddleware_sameSeedSameFaults(t *testing.T) {
	run := func(seed uint64) []int {
		in := newInjector(t, chaos.Config{Seed: seed, Faults: []chaos.Fault{
			chaos.Status(500).Rate(0.2),
			chaos.Throttle(time.Second).Rate(0.2),
			chaos.Status(503).Rate(0.2),
		}})
		srv, c := serve(t, in, nil)
		var got []int
		for range 100 {
			status, _, _, err := get(c, srv.URL)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			got = append(got, status)
		}
		return got
	}
	a, b, other := run(7), run(7), run(8)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %d with one run of seed 7, %d with another", i, a[i], b[i])
		}
	}
	same := 0
	for i := range a {
		if a[i] == other[i] {
			same++
		}
	}
	if same == len(a) {
		t.Errorf("seeds 7 and 8 gave the same 100 statuses")
	}
}

func TestMiddleware_firstAnsweringFaultWins(t *testing.T) {
	// 503 for all, then a 429 that would hit all: only the 503 happens,
	// and only it is counted.
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Status(503), chaos.Throttle(time.Second)}})
	srv, c := serve(t, in, nil)
	for range 10 {
		if status, _, _, err := get(c, srv.URL); err != nil || status != 503 {
			t.Fatalf("GET = %d, %v, want 503", status, err)
		}
	}
	s := in.Snapshot()
	if s.Faults[0].Injected != 10 || s.Faults[1].Injected != 0 {
		t.Errorf("counts = %+v, want 10 for the 503 and 0 for the 429", s.Faults)
	}
}

func TestMiddleware_throttleRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		fault chaos.Fault
		check func(t *testing.T, v string, sent time.Time)
	}{
		{chaos.Throttle(1500 * time.Millisecond), func(t *testing.T, v string, _ time.Time) {
			if v != "2" {
				t.Errorf("Retry-After = %q, want 2 (1.5 s rounded up)", v)
			}
		}},
		{chaos.ThrottleDate(time.Second), func(t *testing.T, v string, sent time.Time) {
			at, err := http.ParseTime(v)
			if err != nil {
				t.Fatalf("Retry-After %q is not an HTTP date: %v", v, err)
			}
			// The date is at least 1 s after the answer, and not much more.
			if d := at.Sub(sent); d < time.Second-time.Millisecond || d > time.Minute {
				t.Errorf("Retry-After %q is %v after the request, want >= 1s", v, d)
			}
		}},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			in := newInjector(t, chaos.Config{Faults: []chaos.Fault{tc.fault}})
			srv, c := serve(t, in, nil)
			sent := time.Now()
			status, _, hdr, err := get(c, srv.URL)
			if err != nil || status != http.StatusTooManyRequests {
				t.Fatalf("GET = %d, %v, want 429", status, err)
			}
			tc.check(t, hdr.Get("Retry-After"), sent)
		})
	}
}

func TestMiddleware_latency(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Latency(chaos.Fixed(100 * time.Millisecond))}})
	srv, c := serve(t, in, nil)
	start := time.Now()
	status, body, _, err := get(c, srv.URL)
	if err != nil || status != 200 || string(body) != okBody {
		t.Fatalf("GET = %d %q %v", status, body, err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("answered after %v, before the 100ms of latency", d)
	}
	if got := in.Snapshot().Injected(chaos.KindLatency); got != 1 {
		t.Errorf("latency injected %d times, want 1", got)
	}
}

func TestMiddleware_hangEndsWhenTheClientGivesUp(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Hang(time.Hour)}})
	srv, c := serve(t, in, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a hung request was answered %d", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the client's deadline", err)
	}
	waitFor(t, "the hung handler to return", func() bool { return in.Snapshot().InFlight == 0 })
	if got := in.Snapshot().Injected(chaos.KindHang); got != 1 {
		t.Errorf("hangs injected = %d, want 1", got)
	}
}

func TestMiddleware_hangIsBounded(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Hang(100 * time.Millisecond)}})
	srv, c := serve(t, in, nil)
	start := time.Now()
	status, _, hdr, err := get(c, srv.URL)
	if err != nil || status != http.StatusGatewayTimeout {
		t.Fatalf("GET = %d, %v, want 504 once the hold passed", status, err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("released after %v, before the 100ms hold", d)
	}
	if hdr.Get("X-Chaos") == "" {
		t.Error("the 504 of a released hang has no X-Chaos header")
	}
}

func TestMiddleware_closeReleasesHangs(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Hang(time.Hour)}})
	srv, c := serve(t, in, nil)
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 3)
	for range 3 {
		go func() {
			status, _, _, err := get(c, srv.URL)
			done <- result{status, err}
		}()
	}
	waitFor(t, "3 hung requests", func() bool { return in.Snapshot().InFlight == 3 })
	in.Close()
	for range 3 {
		select {
		case r := <-done:
			if r.err != nil || r.status != http.StatusGatewayTimeout {
				t.Errorf("released hang = %d, %v, want 504", r.status, r.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not release the hung requests within 10 s (their hold is 1 h)")
		}
	}
}

func TestMiddleware_resetAtAboutItsRate(t *testing.T) {
	in := newInjector(t, chaos.Config{Seed: 3, Faults: []chaos.Fault{chaos.Reset().Rate(0.2)}})
	srv, c := serve(t, in, nil)
	const n = 200
	var resets int64
	for range n {
		status, body, _, err := get(c, srv.URL)
		switch {
		case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF):
			// A reset before the request was fully read may show as EOF.
			resets++
		case err != nil:
			t.Fatalf("GET: %v, want a reset or an answer", err)
		case status != 200 || string(body) != okBody:
			t.Fatalf("GET = %d %q", status, body)
		}
	}
	within(t, "resets", resets, 20, 60) // 40 ± 5 standard deviations
	if got := in.Snapshot().Injected(chaos.KindReset); got != resets {
		t.Errorf("resets injected = %d, client saw %d", got, resets)
	}
}

func TestMiddleware_outageWindow(t *testing.T) {
	outage := chaos.Outage(10*time.Second, 20*time.Second)
	for _, tc := range []struct {
		name    string
		ago     time.Duration // the schedule started this long ago
		failing bool
	}{
		{"before", 5 * time.Second, false},
		{"during", 15 * time.Second, true},
		{"after", 25 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newInjector(t, chaos.Config{Faults: []chaos.Fault{outage}, Start: time.Now().Add(-tc.ago)})
			srv, c := serve(t, in, nil)
			for range 5 {
				status, _, _, err := get(c, srv.URL)
				if got := err != nil; got != tc.failing {
					t.Fatalf("GET %v into the schedule = %d, %v; want failing = %v", tc.ago, status, err, tc.failing)
				}
			}
		})
	}
}

func TestMiddleware_slowBody(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.SlowBody(8, 30*time.Millisecond)}})
	srv, c := serve(t, in, nil)
	start := time.Now()
	status, body, _, err := get(c, srv.URL)
	if err != nil || status != 200 || string(body) != okBody {
		t.Fatalf("GET = %d %q %v, want the whole body, slowly", status, body, err)
	}
	// 45 bytes in 8-byte chunks: 6 chunks, 5 pauses.
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("body read in %v, want >= 5 pauses of 30ms", d)
	}
	if got := in.Snapshot().Injected(chaos.KindSlowBody); got != 1 {
		t.Errorf("slow bodies injected = %d, want 1", got)
	}
}

func TestMiddleware_truncate(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Truncate()}})
	srv, c := serve(t, in, nil)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != int64(len(okBody)) {
		t.Errorf("Content-Length = %d, want the whole body's %d", resp.ContentLength, len(okBody))
	}
	body, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading the body: %v, want io.ErrUnexpectedEOF", err)
	}
	if string(body) != okBody[:len(okBody)/2] {
		t.Errorf("body = %q, want its first half", body)
	}
}

func TestMiddleware_oversizeIsCaughtByABodyLimit(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Oversize(1 << 20)}})
	srv, c := serve(t, in, nil)
	status, body, _, err := get(c, srv.URL)
	if err != nil || status != 200 || len(body) != 1<<20 {
		t.Fatalf("GET = %d, %d bytes, %v; want 200 with 1 MiB", status, len(body), err)
	}
	// A steady client with a 64 KiB limit refuses it.
	cl, err := httpx.NewClient(httpx.Config{Timeout: 10 * time.Second, MaxBodySize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.Get(t.Context(), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "body") {
		t.Errorf("httpx with a 64 KiB limit: err = %v, want a body-too-large error", err)
	}
}

func TestMiddleware_overloadQueuesThenRefuses(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Overload(2, 1)}})
	release := make(chan struct{})
	var served sync.WaitGroup
	srv, c := serve(t, in, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		ok.ServeHTTP(w, r)
	}))
	statuses := make(chan int, 6)
	for range 6 {
		served.Go(func() {
			status, _, _, err := get(c, srv.URL)
			if err != nil {
				t.Errorf("GET: %v", err)
			}
			statuses <- status
		})
	}
	// Two are served (blocked in the handler), one waits in the queue, three
	// are refused at once.
	waitFor(t, "3 refusals and 3 requests held", func() bool {
		s := in.Snapshot()
		return s.Injected(chaos.KindOverload) == 3 && s.InFlight == 3
	})
	close(release)
	served.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[200] != 3 || count[503] != 3 {
		t.Errorf("statuses = %v, want 3 × 200 and 3 × 503", count)
	}
	if s := in.Snapshot(); s.PeakInFlight < 3 || s.PeakInFlight > 6 {
		t.Errorf("PeakInFlight = %d, want 3 to 6 (the held ones, and the refused ones while they were refused)", s.PeakInFlight)
	}
}

func TestMiddleware_overloadOnlyInItsWindow(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Overload(1, 0).Between(time.Hour, 2*time.Hour)}})
	release := make(chan struct{})
	var wg sync.WaitGroup
	srv, c := serve(t, in, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		ok.ServeHTTP(w, r)
	}))
	for range 3 {
		wg.Go(func() {
			if status, _, _, err := get(c, srv.URL); err != nil || status != 200 {
				t.Errorf("GET = %d, %v, want 200: the overload is not active yet", status, err)
			}
		})
	}
	waitFor(t, "3 requests held", func() bool { return in.Snapshot().InFlight == 3 })
	close(release)
	wg.Wait()
}

func TestMiddleware_restart(t *testing.T) {
	in := newInjector(t, chaos.Config{Seed: 5, Faults: []chaos.Fault{chaos.Status(503).Rate(0.5)}})
	srv, c := serve(t, in, nil)
	first := make([]int, 20)
	for i := range first {
		first[i], _, _, _ = get(c, srv.URL)
	}
	in.Restart()
	if s := in.Snapshot(); s.Requests != 0 || s.Injected(chaos.KindStatus) != 0 {
		t.Errorf("after Restart: %+v, want the counts cleared", s)
	}
	for i := range first {
		status, _, _, _ := get(c, srv.URL)
		if status != first[i] {
			t.Fatalf("request %d after Restart: %d, want %d as in the first run", i, status, first[i])
		}
	}
}

func TestMiddleware_concurrentRequestsAreCountedExactly(t *testing.T) {
	in := newInjector(t, chaos.Config{Seed: 9, Faults: []chaos.Fault{
		chaos.Latency(chaos.Uniform(0, 2*time.Millisecond)),
		chaos.Status(500).Rate(0.25),
	}})
	srv, _ := serve(t, in, nil)
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := int64(0)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				status, _, _, err := get(c, srv.URL)
				if err != nil {
					t.Errorf("GET: %v", err)
					return
				}
				if status == 500 {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	s := in.Snapshot()
	if s.Requests != 400 || s.Injected(chaos.KindStatus) != failed || s.Injected(chaos.KindLatency) != 400 {
		t.Errorf("Snapshot = %+v; want 400 requests, 400 latencies, %d statuses", s, failed)
	}
	if s.Faults[0].Fault != "latency uniform 0s-2ms" {
		t.Errorf("Faults[0].Fault = %q", s.Faults[0].Fault)
	}
}

func TestMiddleware_nilHandlerPanicsAtBuildTime(t *testing.T) {
	in := newInjector(t, chaos.Config{})
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "Middleware(next) is nil") {
			t.Errorf("recovered %v, want a config error naming Middleware(next)", r)
		}
	}()
	in.Middleware(nil)
}

// waitFor polls cond for up to 10 s; what describes what it waits for.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after 10 s waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
