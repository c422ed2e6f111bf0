package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// behaviour is what the flaky server does with one request.
type behaviour uint8

const (
	fast      behaviour = iota // 200 OK after 1–5ms
	slow                       // 200 OK after flakyConfig.Slow (hundreds of ms)
	hang                       // holds the request for flakyConfig.Hang, then 504
	throttled                  // 429 Too Many Requests with Retry-After: 1, at once
	failing                    // 503 Service Unavailable, at once
	down                       // 503 Service Unavailable, at once: the outage
	numBehaviours
)

var behaviourNames = [numBehaviours]string{"fast", "slow", "hang", "429", "503", "outage"}

func (b behaviour) String() string {
	if b < numBehaviours {
		return behaviourNames[b]
	}
	return "behaviour(" + strconv.Itoa(int(b)) + ")"
}

// mix is how many of every 100 requests get each behaviour outside the
// outage. It adds up to 100.
var mix = [...]struct {
	b behaviour
	n int
}{
	{fast, 75},
	{slow, 8},
	{hang, 3},
	{failing, 9},
	{throttled, 5},
}

// deck lists the behaviours of a block of 100 requests, in mix order; each
// block deals it in its own shuffled order.
var deck = func() [100]behaviour {
	var d [100]behaviour
	i := 0
	for _, m := range mix {
		for range m.n {
			d[i] = m.b
			i++
		}
	}
	if i != len(d) {
		panic("steady: the flaky mix does not add up to 100")
	}
	return d
}()

// flakyConfig sets the timings of a flaky server. The command uses
// demoFlaky; tests use shorter ones.
type flakyConfig struct {
	Seed        uint64           // seeds the order of the behaviours and the delays
	Slow        [2]time.Duration // a slow request takes from Slow[0] to Slow[1]
	Hang        time.Duration    // how long a hung request is held (or until the client leaves)
	OutageStart time.Duration    // when the outage starts, after the phase starts
	OutageLen   time.Duration    // how long the outage lasts
}

// demoFlaky is the server `go run ./cmd/steady` probes.
var demoFlaky = flakyConfig{
	Seed:        2024,
	Slow:        [2]time.Duration{200 * time.Millisecond, 500 * time.Millisecond},
	Hang:        5 * time.Second,
	OutageStart: 1500 * time.Millisecond,
	OutageLen:   2 * time.Second,
}

// describe tells in one line what the server does.
func (c flakyConfig) describe() string {
	return fmt.Sprintf("%d%% fast, %d%% slow (%v-%v), %d%% hang (%v), %d%% 503, %d%% 429 (Retry-After: 1); "+
		"outage (every request 503) from %v to %v into each phase",
		mix[0].n, mix[1].n, c.Slow[0], c.Slow[1], mix[2].n, c.Hang, mix[3].n, mix[4].n,
		c.OutageStart, c.OutageStart+c.OutageLen)
}

// flakyServer is an HTTP server on 127.0.0.1 (a random port) that behaves
// like an upstream on a bad day. Of every 100 requests it receives, in an
// order shuffled per block of 100 (seeded, so the same sequence of requests
// meets the same behaviours in every run):
//
//   - 75 are fast: 200 OK after 1–5ms;
//   - 8 are slow: 200 OK after hundreds of ms (flakyConfig.Slow);
//   - 3 hang: the request is held for flakyConfig.Hang (5s), then answered
//     504 Gateway Timeout, as a proxy in front of a stuck server would;
//     a client that gives up earlier releases it at once;
//   - 9 get 503 Service Unavailable at once;
//   - 5 get 429 Too Many Requests with Retry-After: 1, at once.
//
// On top of that comes an outage: from OutageStart to OutageStart+OutageLen
// after the phase started (see startPhase), every request gets 503 at once,
// like a load balancer with no healthy backend left.
//
// It is safe for concurrent use. Close stops it and waits for its handlers.
type flakyServer struct {
	cfg  flakyConfig
	URL  string // http://127.0.0.1:port/
	srv  *http.Server
	done chan struct{} // closed by Close: releases hung requests

	serving  sync.WaitGroup // the Serve goroutine
	seq      atomic.Uint64  // requests received in this phase
	inFlight atomic.Int64   // handlers running now
	served   [numBehaviours]atomic.Int64

	mu    sync.Mutex // guards start
	start time.Time  // when the phase started
}

// startFlaky starts a flaky server on a random port of 127.0.0.1.
func startFlaky(cfg flakyConfig) (*flakyServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the flaky server: %w", err)
	}
	s := &flakyServer{cfg: cfg, URL: "http://" + ln.Addr().String() + "/", done: make(chan struct{}), start: time.Now()}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.serving.Go(func() {
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	})
	return s, nil
}

// Close stops the server, releases hung requests and waits until every
// handler has returned.
func (s *flakyServer) Close() {
	close(s.done)
	// Shutdown, unlike Close, waits for the handlers (released by done) to
	// return, so no goroutine of ours outlives the server.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	s.serving.Wait()
}

// startPhase restarts the request sequence and the outage clock: the next
// request is request 0 again and the outage comes OutageStart from now.
func (s *flakyServer) startPhase() {
	s.mu.Lock()
	s.start = time.Now()
	s.mu.Unlock()
	s.seq.Store(0)
	for i := range s.served {
		s.served[i].Store(0)
	}
}

// outage returns the outage window, as offsets from the phase start.
func (s *flakyServer) outage() (from, to time.Duration) {
	return s.cfg.OutageStart, s.cfg.OutageStart + s.cfg.OutageLen
}

// counts returns how many requests of the phase got each behaviour.
func (s *flakyServer) counts() [numBehaviours]int64 {
	var c [numBehaviours]int64
	for i := range c {
		c[i] = s.served[i].Load()
	}
	return c
}

// behaviourOf returns what the server does with request n of a phase
// outside the outage, and how long it takes for fast and slow requests.
func (s *flakyServer) behaviourOf(n uint64) (behaviour, time.Duration) {
	block := rand.New(rand.NewPCG(s.cfg.Seed, n/100))
	perm := block.Perm(100)
	b := deck[perm[n%100]]
	r := rand.New(rand.NewPCG(s.cfg.Seed^0x9e3779b97f4a7c15, n))
	switch b {
	case fast:
		return b, time.Millisecond + time.Duration(r.Int64N(int64(4*time.Millisecond)))
	case slow:
		lo, hi := s.cfg.Slow[0], s.cfg.Slow[1]
		if hi <= lo {
			return b, lo
		}
		return b, lo + time.Duration(r.Int64N(int64(hi-lo)))
	}
	return b, 0
}

// ServeHTTP answers a request as described on flakyServer.
func (s *flakyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	n := s.seq.Add(1) - 1
	s.mu.Lock()
	since := time.Since(s.start)
	s.mu.Unlock()

	b, d := s.behaviourOf(n)
	if from, to := s.outage(); since >= from && since < to {
		b = down
	}
	s.served[b].Add(1)

	switch b {
	case fast, slow:
		if !s.wait(r.Context(), d) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"request":%d,"behaviour":%q}`+"\n", n, b)
	case hang:
		if !s.wait(r.Context(), s.cfg.Hang) {
			return
		}
		http.Error(w, "upstream did not answer", http.StatusGatewayTimeout)
	case throttled:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case failing:
		http.Error(w, "try again", http.StatusServiceUnavailable)
	case down:
		http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
	}
}

// wait waits for d, and reports false if the client went away or the
// server closed first.
func (s *flakyServer) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}
