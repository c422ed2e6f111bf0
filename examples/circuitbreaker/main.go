// Command circuitbreaker is the circuit-breaker exercise: it calls a flaky
// service through a breaker and a timeout, and narrates how the breaker goes
// closed → open → half-open → closed as the service hangs and recovers.
//
//	go run ./examples/circuitbreaker      # about 3 seconds
//	go run ./examples/circuitbreaker -v   # plus the breaker's own slog records
//
// The service is an in-process function that answers in 5ms, then hangs
// (until its caller gives up) for 1.5s, then answers in 5ms again. Four
// clients call it every 20ms through
//
//	resilience.Compose(breaker.Breaker[string](cb), timeout.WithTimeout[string](100*time.Millisecond))
//
// with a breaker that opens when half of the calls of the last second timed
// out. See README.md beside this file for the state machine and how to
// choose the settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/timeout"
)

func main() {
	verbose := flag.Bool("v", false, "also print the breaker's slog records (to stderr)")
	flag.Parse()

	cfg := defaultConfig()
	if *verbose {
		cfg.Breaker.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if _, err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "circuitbreaker:", err)
		os.Exit(1)
	}
}

// config is one run of the exercise.
type config struct {
	Clients  int           // clients calling the service at once
	Interval time.Duration // pause between two calls of one client
	Timeout  time.Duration // limit of each call (timeout.WithTimeout)
	Duration time.Duration // length of the run

	Latency   time.Duration // how long the healthy service takes
	HangAfter time.Duration // when the service starts hanging, from the start
	HangFor   time.Duration // how long it hangs

	Breaker breaker.Settings
}

func defaultConfig() config {
	return config{
		Clients:   4,
		Interval:  20 * time.Millisecond,
		Timeout:   100 * time.Millisecond,
		Duration:  3 * time.Second,
		Latency:   5 * time.Millisecond,
		HangAfter: 500 * time.Millisecond,
		HangFor:   1500 * time.Millisecond,
		Breaker: breaker.Settings{
			Name:             "inventory",
			TimeoutRate:      0.5, // open when half the calls time out ...
			MinRequests:      10,  // ... once there are at least 10 in the window
			Window:           time.Second,
			OpenTimeout:      300 * time.Millisecond,
			HalfOpenRequests: 2, // two good probes to close
			Logger:           slog.New(slog.DiscardHandler),
		},
	}
}

// report is what a run saw.
type report struct {
	Transitions []string // "closed->open", ... in order
	Calls       int64    // calls the clients made
	OK          int64    // answered
	TimedOut    int64    // gave up after cfg.Timeout
	Rejected    int64    // rejected by the open breaker, at once
	Served      int64    // calls that reached the service
	Final       breaker.Snapshot
}

// service is the flaky dependency: healthy, then hanging, then healthy.
type service struct {
	start            time.Time
	latency          time.Duration
	hangFrom, hangTo time.Duration
	served           atomic.Int64
}

func (s *service) lookup(ctx context.Context) (string, error) {
	s.served.Add(1)
	if t := time.Since(s.start); t >= s.hangFrom && t < s.hangTo {
		<-ctx.Done() // a stuck dependency: it answers nothing until the caller gives up
		return "", ctx.Err()
	}
	select {
	case <-time.After(s.latency):
		return "12 in stock", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// narrator prints timestamped lines; the breaker's hook and the clients
// write through it from several goroutines.
type narrator struct {
	mu    sync.Mutex
	out   io.Writer
	start time.Time
}

func (n *narrator) say(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := time.Since(n.start).Truncate(10 * time.Millisecond)
	fmt.Fprintf(n.out, "%6.2fs  %s\n", t.Seconds(), fmt.Sprintf(format, args...))
}

// run runs the exercise and narrates it to out.
func run(ctx context.Context, cfg config, out io.Writer) (*report, error) {
	start := time.Now()
	n := &narrator{out: out, start: start}
	rep := &report{}
	var repMu sync.Mutex

	var cb *breaker.CircuitBreaker
	s := cfg.Breaker
	user := s.OnStateChange
	over := false // the report is made; guarded by repMu
	s.OnStateChange = func(name string, from, to breaker.State) {
		repMu.Lock()
		defer repMu.Unlock()
		if over {
			// A run that ends while the breaker is open leaves its probe
			// timer behind (a timer, not a goroutine): the change it makes
			// after the report is not part of the run.
			return
		}
		rep.Transitions = append(rep.Transitions, from.String()+"->"+to.String())
		n.say("%s", narrate(cb.Snapshot(), from, to, cfg.Breaker))
		if user != nil {
			user(name, from, to)
		}
	}
	cb, err := breaker.New(s)
	if err != nil {
		return nil, err
	}

	svc := &service{start: start, latency: cfg.Latency, hangFrom: cfg.HangAfter, hangTo: cfg.HangAfter + cfg.HangFor}
	lookup := resilience.Compose(
		breaker.Breaker[string](cb),
		timeout.WithTimeout[string](cfg.Timeout),
	)(svc.lookup)

	n.say("service healthy; %d clients call it every %v, each call limited to %v", cfg.Clients, cfg.Interval, cfg.Timeout)
	n.say("breaker %q opens when TimeoutRate >= %.2f over >= %d calls in the last %v",
		s.Name, s.TimeoutRate, s.MinRequests, s.Window)

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	end, _ := ctx.Deadline()
	var wg sync.WaitGroup
	wg.Go(func() { // the service's own story
		if sleep(ctx, cfg.HangAfter) {
			n.say("service starts hanging (for %v)", cfg.HangFor)
		}
		if sleep(ctx, cfg.HangFor) {
			n.say("service recovered")
		}
	})
	var calls, ok, timedOut, rejected atomic.Int64
	for range cfg.Clients {
		wg.Go(func() {
			for sleep(ctx, cfg.Interval) && ctx.Err() == nil && time.Now().Before(end) {
				// (The timeout policy does not call the service on a
				// context that is already done, so such calls are not
				// made. ctx is done a moment after its deadline, when its
				// timer has run: a call made in between could be counted
				// and yet not reach the service.)
				_, err := lookup(ctx)
				calls.Add(1)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, breaker.ErrOpen):
					rejected.Add(1)
				case resilience.Classify(ctx, err) == resilience.OutcomeTimeout:
					timedOut.Add(1)
				}
			}
		})
	}
	wg.Wait()

	repMu.Lock()
	over = true
	rep.Calls, rep.OK, rep.TimedOut, rep.Rejected = calls.Load(), ok.Load(), timedOut.Load(), rejected.Load()
	rep.Served = svc.served.Load()
	rep.Final = cb.Snapshot()
	repMu.Unlock()
	n.say("done: %d calls: %d answered, %d timed out after %v, %d rejected at once by the breaker",
		rep.Calls, rep.OK, rep.TimedOut, cfg.Timeout, rep.Rejected)
	n.say("the service was sent %d calls; the open breaker spared it %d while it hung", rep.Served, rep.Rejected)
	n.say("breaker %s; transitions: %s", rep.Final.State, strings.Join(rep.Transitions, ", "))
	return rep, nil
}

// narrate explains one change of state from a snapshot taken in the hook.
func narrate(snap breaker.Snapshot, from, to breaker.State, s breaker.Settings) string {
	c := snap.Counts
	probes := s.HalfOpenRequests
	if probes == 0 {
		probes = breaker.DefaultHalfOpenRequests
	}
	switch {
	case from == breaker.StateClosed && to == breaker.StateOpen:
		return fmt.Sprintf("closed -> OPEN: %d of %d calls in the window timed out (rate %.2f >= TimeoutRate %.2f; %d answered); rejecting calls at once until the next probe in %v",
			c.Timeouts, c.Calls, c.TimeoutRate, s.TimeoutRate, c.Successes, untilProbe(snap))
	case to == breaker.StateHalfOpen:
		return fmt.Sprintf("open -> HALF-OPEN: open timeout passed; letting %d probe calls through (%d calls rejected so far)",
			probes, snap.Rejected)
	case from == breaker.StateHalfOpen && to == breaker.StateOpen:
		return fmt.Sprintf("half-open -> OPEN: a probe failed, the service is still down; next probe in %v",
			untilProbe(snap))
	case from == breaker.StateHalfOpen && to == breaker.StateClosed:
		return fmt.Sprintf("half-open -> CLOSED: %d probes answered; traffic flows again, with a fresh window",
			probes)
	}
	return fmt.Sprintf("%s -> %s", from, to)
}

func untilProbe(snap breaker.Snapshot) time.Duration {
	if snap.NextProbe.IsZero() {
		return 0
	}
	return time.Until(snap.NextProbe).Round(10 * time.Millisecond)
}

// sleep waits d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
