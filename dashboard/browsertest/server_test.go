package browsertest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
)

// mountAt is where the tests mount the dashboard, as the package
// documentation shows, so the page's relative URLs are exercised.
const mountAt = "/steady"

// mux mounts d under mountAt.
func mux(d *dashboard.Dashboard) *http.ServeMux {
	m := http.NewServeMux()
	m.Handle(mountAt+"/", http.StripPrefix(mountAt, d))
	return m
}

// newDashboard returns a dashboard made with cfg, closed by t.Cleanup.
func newDashboard(t *testing.T, cfg dashboard.Config) *dashboard.Dashboard {
	t.Helper()
	d, err := dashboard.New(cfg)
	if err != nil {
		t.Fatalf("dashboard.New: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// serve serves d on 127.0.0.1 under mountAt and returns the page's URL.
// t.Cleanup closes d (which ends its event streams) and then the server.
func serve(t *testing.T, d *dashboard.Dashboard) string {
	t.Helper()
	srv := httptest.NewServer(mux(d))
	t.Cleanup(srv.Close)
	t.Cleanup(d.Close) // runs first: the server's Close waits for the streams
	return srv.URL + mountAt + "/"
}

// register registers p under name, failing the test on an error.
func register(t *testing.T, d *dashboard.Dashboard, name string, p dashboard.Parts) {
	t.Helper()
	if err := d.Register(name, p); err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
}

// dependency is one monitored dependency: the parts a dashboard card
// shows and the pipeline that records real calls into them, outermost
// first: Monitor, then Breaker when there is one, then any other policy.
type dependency struct {
	metrics *monitor.Metrics
	breaker *breaker.CircuitBreaker
	call    func(resilience.Func[struct{}]) error
}

// newDependency makes the Metrics, and a breaker when brk is non-nil
// (with brk's settings), of a dependency named name; inner are the
// policies inside them.
func newDependency(t *testing.T, name string, brk *breaker.Settings, inner ...resilience.Policy[struct{}]) *dependency {
	t.Helper()
	return newDependencyWith(t, monitor.Config{Name: name}, brk, inner...)
}

// newDependencyWith is newDependency with the Metrics' whole Config.
func newDependencyWith(t *testing.T, cfg monitor.Config, brk *breaker.Settings, inner ...resilience.Policy[struct{}]) *dependency {
	t.Helper()
	name := cfg.Name
	m, err := monitor.NewMetrics(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dep := &dependency{metrics: m}
	policies := []resilience.Policy[struct{}]{monitor.Monitor[struct{}](m)}
	if brk != nil {
		s := *brk
		s.Name = name
		if dep.breaker, err = breaker.New(s); err != nil {
			t.Fatal(err)
		}
		policies = append(policies, breaker.Breaker[struct{}](dep.breaker))
	}
	policies = append(policies, inner...)
	pipeline := resilience.Compose(policies...)
	dep.call = func(fn resilience.Func[struct{}]) error {
		_, err := pipeline(fn)(context.Background())
		return err
	}
	return dep
}

// parts returns the dashboard parts of dep.
func (dep *dependency) parts() dashboard.Parts {
	return dashboard.Parts{Metrics: dep.metrics, Breaker: dep.breaker}
}

// errDown is what a dependency that is down answers.
var errDown = errors.New("connection refused")

// ok, down and slow are calls to a dependency: one that answers at once,
// one that fails, and one that answers after d.
func ok(context.Context) (struct{}, error)   { return struct{}{}, nil }
func down(context.Context) (struct{}, error) { return struct{}{}, errDown }
func slow(d time.Duration) resilience.Func[struct{}] {
	return func(ctx context.Context) (struct{}, error) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return struct{}{}, nil
		case <-ctx.Done():
			return struct{}{}, ctx.Err()
		}
	}
}

// succeed records n successful calls of dep.
func (dep *dependency) succeed(t *testing.T, n int) {
	t.Helper()
	for range n {
		if err := dep.call(ok); err != nil {
			t.Fatalf("a call that succeeds: %v", err)
		}
	}
}

// tripBreaker fails calls of dep until its breaker opens, and returns how
// many it took.
func (dep *dependency) tripBreaker(t *testing.T) int {
	t.Helper()
	for n := 1; n <= 100; n++ {
		_ = dep.call(down)
		if dep.breaker.State() == breaker.StateOpen {
			return n
		}
	}
	t.Fatalf("the breaker is %v after 100 failed calls", dep.breaker.State())
	return 0
}

// server is a real http.Server serving a dashboard at a fixed address, so
// a test can stop it and start another at the same address. It notes the
// Last-Event-ID header of every request for the event stream.
type server struct {
	srv *http.Server
	d   *dashboard.Dashboard
	ln  *trackingListener

	mu      sync.Mutex
	resumes []string // Last-Event-ID of each /events request, in order ("" for none)
}

// lastEventIDs returns the Last-Event-ID of each request for the event
// stream so far.
func (s *server) lastEventIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.resumes)
}

// trackingListener is a net.Listener that can cut every connection it
// accepted, as a network failure would.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// cut closes every connection accepted so far; the server goes on
// accepting new ones.
func (l *trackingListener) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

// listen listens on addr ("127.0.0.1:0" for any port), retrying for a
// few seconds while the port is still held by a server just stopped.
func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln
		}
		if time.Now().After(deadline) {
			t.Fatalf("listening on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startServer serves d on ln. stop, or t.Cleanup, stops it.
func startServer(t *testing.T, ln net.Listener, d *dashboard.Dashboard) *server {
	t.Helper()
	s := &server{d: d, ln: &trackingListener{Listener: ln}}
	m := mux(d)
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mountAt+"/events" {
				s.mu.Lock()
				s.resumes = append(s.resumes, r.Header.Get("Last-Event-ID"))
				s.mu.Unlock()
			}
			m.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving the dashboard: %v", err)
		}
	}()
	t.Cleanup(func() {
		s.stop(t)
		<-done
	})
	return s
}

// stop closes the dashboard, which ends its event streams, and then shuts
// the server down gracefully. It may be called more than once.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		t.Errorf("shutting the dashboard's server down: %v", err)
		s.srv.Close()
	}
}
