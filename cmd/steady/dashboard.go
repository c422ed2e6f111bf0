package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

// liveDashboard is the dashboard that -dashboard serves, and its server.
type liveDashboard struct {
	d       *dashboard.Dashboard
	srv     *http.Server
	url     string
	serving sync.WaitGroup
}

// startDashboard serves a dashboard on addr (host:port; port 0 picks one).
func startDashboard(addr string) (*liveDashboard, error) {
	// A quarter-second tick: the breaker stays open for only 500ms at a time.
	d, err := dashboard.New(dashboard.Config{Title: "steady demo", Tick: 250 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("serving the dashboard: %w", err)
	}
	l := &liveDashboard{d: d, url: "http://" + ln.Addr().String() + "/"}
	l.srv = &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	// Shutdown waits for the event streams, which end only when the
	// dashboard closes.
	l.srv.RegisterOnShutdown(d.Close)
	l.serving.Go(func() {
		_ = l.srv.Serve(ln) // http.ErrServerClosed after Shutdown
	})
	return l, nil
}

// Close stops the server and the dashboard, and waits for them.
func (l *liveDashboard) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.srv.Shutdown(ctx); err != nil {
		_ = l.srv.Close()
	}
	l.d.Close()
	l.serving.Wait()
}

// serveUntil keeps serving until ctx is done (Ctrl-C), saying so on w.
func (l *liveDashboard) serveUntil(ctx context.Context, w io.Writer) {
	fmt.Fprintf(w, "\nsteady: the dashboard stays at %s until interrupted (Ctrl-C)\n", l.url)
	<-ctx.Done()
}

// register shows a phase's parts on the dashboard; a nil l does nothing.
func (l *liveDashboard) register(name string, p dashboard.Parts) {
	if l == nil {
		return
	}
	l.d.Unregister(name) // a second run of the phase (tests) replaces the first
	_ = l.d.Register(name, p)
}

// recorded returns a caller that records every call of do into m.
func recorded(m *monitor.Metrics, do caller) caller {
	return func(ctx context.Context) (int, error) {
		start := time.Now()
		n, err := do(ctx)
		m.RecordContext(ctx, time.Since(start), resilience.Classify(ctx, err))
		return n, err
	}
}

// watchClient registers on l, as name, c's Metrics m and the parts c
// keeps for the first host it calls, as soon as that call makes them,
// until done is closed. A nil l does nothing.
func (l *liveDashboard) watchClient(name string, c *httpx.Client, m *monitor.Metrics, done <-chan struct{}) {
	if l == nil {
		return
	}
	l.serving.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			p := dashboard.Parts{Metrics: m}
			for _, cb := range c.Breakers() {
				p.Breaker = cb
			}
			for _, h := range c.Hedgers() {
				p.Hedger = h
			}
			for _, b := range c.Budgets() {
				p.Budget = b
			}
			for _, a := range c.AdaptiveTimeouts() {
				p.Adaptive = a
			}
			if p != (dashboard.Parts{Metrics: m}) {
				l.register(name, p)
				return
			}
			select {
			case <-done:
				l.register(name, p) // no call made them: the Metrics alone
				return
			case <-t.C:
			}
		}
	})
}

// errNoDashboard is returned for -dashboard without a port.
var errNoDashboard = errors.New("steady: -dashboard wants host:port, e.g. 127.0.0.1:8080")
