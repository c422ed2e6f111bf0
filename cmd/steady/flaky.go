package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/steadyhq/steady/chaos"
)

// mix is the share of requests of each kind outside the outage, in percent:
// the rest (75%) are fast.
var mix = struct{ slow, hang, failing, throttled float64 }{slow: 8, hang: 3, failing: 9, throttled: 5}

// flakyConfig sets the timings of a flaky server. The command uses
// demoFlaky; tests use shorter ones.
type flakyConfig struct {
	Seed        uint64           // seeds the draws of the faults (package chaos)
	Slow        [2]time.Duration // a slow request takes from Slow[0] to Slow[1] more
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
	return fmt.Sprintf("1-5ms, %g%% slower by %v-%v; %g%% hang (%v), %g%% 503, %g%% 429 (Retry-After: 1); "+
		"outage (every request 503) from %v to %v into each phase",
		mix.slow, c.Slow[0], c.Slow[1], mix.hang, c.Hang, mix.failing, mix.throttled,
		c.OutageStart, c.OutageStart+c.OutageLen)
}

// faults returns the chaos faults of a flaky server with c's timings. The
// faults that answer in place of the server draw in order and the first
// that hits wins (see chaos.Config), so each one's rate is its share of
// the requests the ones before it left: then the shares of all requests
// are the mix's.
func (c flakyConfig) faults() []chaos.Fault {
	left := 1.0
	share := func(percent float64) float64 {
		r := percent / 100 / left
		left -= percent / 100
		return r
	}
	return []chaos.Fault{
		chaos.Status(http.StatusServiceUnavailable).Between(c.OutageStart, c.OutageStart+c.OutageLen),
		chaos.Latency(chaos.Uniform(time.Millisecond, 5*time.Millisecond)),
		chaos.Latency(chaos.Uniform(c.Slow[0], c.Slow[1])).Rate(mix.slow / 100),
		chaos.Hang(c.Hang).Rate(share(mix.hang)),
		chaos.Status(http.StatusServiceUnavailable).Rate(share(mix.failing)),
		chaos.Throttle(time.Second).Rate(share(mix.throttled)),
	}
}

// The places of the faults in flakyConfig.faults, for reading the counts.
const (
	faultOutage = iota
	faultBase
	faultSlow
	faultHang
	faultFailing
	faultThrottled
)

// flakyServer is an HTTP server on 127.0.0.1 (a random port) that behaves
// like an upstream on a bad day, built on package chaos. Every request
// takes 1-5ms; on top of that, drawn from the seed, so the same sequence of
// requests meets the same faults in every run:
//
//   - 8% are slower by hundreds of ms (flakyConfig.Slow);
//   - 3% hang: the request is held for flakyConfig.Hang (5s), then
//     answered 504 Gateway Timeout, as a proxy in front of a stuck server
//     would; a client that gives up earlier releases it at once;
//   - 9% get 503 Service Unavailable;
//   - 5% get 429 Too Many Requests with Retry-After: 1.
//
// On top of that comes an outage: from OutageStart to OutageStart+OutageLen
// after the phase started (see startPhase), every request gets 503 at once,
// like a load balancer with no healthy backend left.
//
// It is safe for concurrent use. Close stops it and waits for its handlers.
type flakyServer struct {
	cfg flakyConfig
	in  *chaos.Injector
	URL string // http://127.0.0.1:port/
	srv *http.Server

	serving sync.WaitGroup // the Serve goroutine
}

// startFlaky starts a flaky server on a random port of 127.0.0.1.
func startFlaky(cfg flakyConfig) (*flakyServer, error) {
	in, err := chaos.New(chaos.Config{Seed: cfg.Seed, Faults: cfg.faults()})
	if err != nil {
		return nil, fmt.Errorf("the flaky server's faults: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the flaky server: %w", err)
	}
	s := &flakyServer{cfg: cfg, in: in, URL: "http://" + ln.Addr().String() + "/"}
	s.srv = &http.Server{Handler: in.Middleware(http.HandlerFunc(answer)), ReadHeaderTimeout: 10 * time.Second}
	s.serving.Go(func() {
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	})
	return s, nil
}

// answer is what the server answers when no fault stands in its way.
func answer(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintln(w, `{"status":"ok"}`)
}

// Close stops the server, releases hung requests and waits until every
// handler has returned.
func (s *flakyServer) Close() {
	s.in.Close() // ends the hangs
	// Shutdown, unlike Close, waits for the handlers to return, so no
	// goroutine of ours outlives the server.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	s.serving.Wait()
}

// startPhase restarts the request sequence, the counts and the outage
// clock: the next request is request 0 again and the outage comes
// OutageStart from now.
func (s *flakyServer) startPhase() { s.in.Restart() }

// outage returns the outage window, as offsets from the phase start.
func (s *flakyServer) outage() (from, to time.Duration) {
	return s.cfg.OutageStart, s.cfg.OutageStart + s.cfg.OutageLen
}

// stats returns what the server has done in this phase.
func (s *flakyServer) stats() chaos.Stats { return s.in.Snapshot() }
