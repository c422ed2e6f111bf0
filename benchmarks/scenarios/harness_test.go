package scenarios_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/steadyhq/steady/chaos"
)

// A phase of arrivals: rate requests a second for dur.
type phase struct {
	dur  time.Duration
	rate float64
}

// schedule returns the arrival offsets of phases: open loop, one request
// every 1/rate in each phase, whatever happened to the previous ones.
func schedule(phases []phase) []time.Duration {
	var at []time.Duration
	var from time.Duration
	for _, p := range phases {
		n := int(math.Round(p.rate * p.dur.Seconds()))
		step := time.Duration(float64(time.Second) / p.rate)
		for i := range n {
			at = append(at, from+time.Duration(i)*step)
		}
		from += p.dur
	}
	return at
}

// arrivals counts the requests the server receives, with their arrival
// time since the run's start. It wraps the chaos middleware, so it sees
// every request, those the faults answer included.
type arrivals struct {
	mu sync.Mutex
	t0 time.Time
	at []time.Duration
}

func (a *arrivals) start(t0 time.Time) {
	a.mu.Lock()
	a.t0 = t0
	a.mu.Unlock()
}

func (a *arrivals) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		a.mu.Lock()
		a.at = append(a.at, now.Sub(a.t0))
		a.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// between counts the arrivals in [from, to).
func (a *arrivals) between(from, to time.Duration) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, t := range a.at {
		if t >= from && t < to {
			n++
		}
	}
	return n
}

func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.at)
}

// answer is the dependency behind the faults: a small JSON document.
var answer = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":42,"name":"steady","ok":true}`+"\n")
})

// outcome is one logical request.
type outcome struct {
	start, end time.Time
	err        error
}

// result is one client's run of one scenario.
type result struct {
	scenario, client string
	requests         int             // logical requests sent
	succeeded        int             // of which succeeded
	latency          []time.Duration // of every logical request, sorted; failures at the moment they failed
	overDeadline     int             // requests that took longer than deadline + slack
	slowest          time.Duration   // the longest request
	slowestErr       error           // its error, if it failed
	upstream         int             // requests the server received
	inOutage         int             // of which during the outage; -1 when the scenario has none
	peak             int64           // the most requests in flight at the server
	goroutinesLeft   int             // runtime.NumGoroutine after the run, settled, minus before
	injected         chaos.Stats     // what the faults did
	wall             time.Duration   // the run, from the first arrival to the last answer
	load             string          // the 1-minute load average at the end of the run
}

func (r result) successPct() float64 { return 100 * float64(r.succeeded) / float64(r.requests) }

// quantile returns the q-quantile of the sorted latencies (nearest rank).
func (r result) quantile(q float64) time.Duration {
	if len(r.latency) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(r.latency)))) - 1
	return r.latency[min(max(i, 0), len(r.latency)-1)]
}

func (r result) amplification() float64 { return float64(r.upstream) / float64(r.requests) }

// slack is what a request may take beyond its deadline on a loaded machine
// before the harness calls it late.
const slack = 500 * time.Millisecond

// run plays scenario sc at length d against a fresh server and a fresh
// client made by cl.
func run(sc scenario, cl client, d time.Duration) (result, error) {
	res := result{scenario: sc.name, client: cl.name, inOutage: -1}
	before := runtime.NumGoroutine()

	in, err := chaos.New(chaos.Config{Seed: 1, Faults: sc.faults(d)})
	if err != nil {
		return res, err
	}
	var arr arrivals
	srv := httptest.NewServer(arr.wrap(in.Middleware(answer)))
	do, closeClient, err := cl.make(srv.URL + "/item/42")
	if err != nil {
		in.Close()
		srv.Close()
		return res, err
	}

	offsets := schedule(sc.arrivals(d))
	outcomes := make([]outcome, len(offsets))
	var wg sync.WaitGroup
	in.Restart()
	t0 := time.Now()
	arr.start(t0)
	sent := 0
	for i, off := range offsets {
		if w := time.Until(t0.Add(off)); w > 0 {
			time.Sleep(w)
		}
		if time.Since(t0) > d+time.Second {
			break // far behind schedule: the run is bounded in time too
		}
		sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			err := do(ctx)
			outcomes[i] = outcome{start: start, end: time.Now(), err: err}
			cancel()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var unfinished error
	select {
	case <-done:
	case <-time.After(deadline + 10*time.Second):
		unfinished = fmt.Errorf("%s/%s: requests still running %v after the last was sent", sc.name, cl.name, deadline+10*time.Second)
		in.Close() // let hangs go, and wait for the rest
		<-done
	}
	res.wall = time.Since(t0)
	res.load = strings.Fields(loadavg())[0]
	res.injected = in.Snapshot()

	closeClient()
	in.Close() // ends the hangs, so that the server closes at once
	srv.Close()
	closeClient()
	res.goroutinesLeft = settle(before)

	res.requests = sent
	res.upstream = arr.count()
	if from, to, ok := sc.outage(d); ok {
		res.inOutage = arr.between(from, to)
	}
	res.peak = res.injected.PeakInFlight
	for _, o := range outcomes[:sent] {
		took := o.end.Sub(o.start)
		res.latency = append(res.latency, took)
		if o.err == nil {
			res.succeeded++
		}
		if took > deadline+slack {
			res.overDeadline++
		}
		if took > res.slowest {
			res.slowest, res.slowestErr = took, o.err
		}
	}
	slices.Sort(res.latency)
	return res, unfinished
}

// settle waits, a bounded time, for the goroutine count to fall back to
// before, and returns how many more there are than before.
func settle(before int) int {
	limit := time.Now().Add(3 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before || time.Now().After(limit) {
			return n - before
		}
		time.Sleep(10 * time.Millisecond)
	}
}
