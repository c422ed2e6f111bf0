package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// register100 registers 100 cards on d, each with a Metrics that has
// recorded calls and a breaker; every tenth also has a hedger, a budget, a
// bulkhead and an adaptive timeout. It returns the Metrics.
func register100(tb testing.TB, d *dashboard.Dashboard) []*monitor.Metrics {
	tb.Helper()
	ms := make([]*monitor.Metrics, 100)
	for i := range ms {
		m, err := monitor.NewMetrics(monitor.Config{Alerts: []monitor.AlertRule{{Threshold: 0.2}}})
		require.NoError(tb, err)
		for k := range 1000 {
			m.Record(time.Duration(k)*37*time.Microsecond, resilience.OutcomeSuccess)
		}
		cb, err := breaker.New(breaker.Settings{})
		require.NoError(tb, err)
		p := dashboard.Parts{Metrics: m, Breaker: cb}
		if i%10 == 0 {
			p.Hedger, err = hedge.New(hedge.Config{})
			require.NoError(tb, err)
			p.Budget, err = budget.NewRatio(budget.RatioConfig{})
			require.NoError(tb, err)
			p.Bulkhead, err = bulkhead.New(bulkhead.Config{MaxConcurrent: 10})
			require.NoError(tb, err)
			p.Adaptive, err = timeout.NewAdaptive(timeout.AdaptiveConfig{Max: time.Second})
			require.NoError(tb, err)
		}
		require.NoError(tb, d.Register("dependency-"+strconv.Itoa(i), p))
		ms[i] = m
	}
	return ms
}

// flushWriter is an in-process viewer's ResponseWriter: it discards the
// stream and signals each flush.
type flushWriter struct {
	header  http.Header
	flushed chan struct{}
}

func (w *flushWriter) Header() http.Header         { return w.header }
func (w *flushWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *flushWriter) WriteHeader(int)             {}
func (w *flushWriter) Flush()                      { w.flushed <- struct{}{} }

// BenchmarkTick100Parts10Viewers measures one tick: reading 100 cards'
// parts, the figures, encoding the event once, and writing it to 10
// viewers (in-process ResponseWriters, so no network is measured).
func BenchmarkTick100Parts10Viewers(b *testing.B) {
	d, clk := manual(b, dashboard.Config{})
	ms := register100(b, d)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var viewers []*flushWriter
	for range 10 {
		w := &flushWriter{header: http.Header{}, flushed: make(chan struct{}, 1)}
		viewers = append(viewers, w)
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil)
		wg.Go(func() { d.ServeHTTP(w, req) })
		<-w.flushed // the full state
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ms[i%len(ms)].Record(time.Millisecond, resilience.OutcomeSuccess)
		clk.Add(time.Second)
		d.Step()
		for _, w := range viewers {
			<-w.flushed
		}
	}
	b.StopTimer()
	cancel()
	wg.Wait()
}

// TestCPU100Parts10Viewers measures the CPU a dashboard takes with 100
// cards and 10 viewers over loopback HTTP, at the default 1s tick, for
// 20s; it only logs. The viewers run in a child process (this test binary
// again, see TestViewerProcess), so that their reading is not counted.
// Skipped with -short and under the race detector.
func TestCPU100Parts10Viewers(t *testing.T) {
	if testing.Short() || raceOn {
		t.Skip("a 20s measurement; skipped with -short and under -race")
	}
	const span = 20 * time.Second
	d, err := dashboard.New(dashboard.Config{})
	require.NoError(t, err)
	defer d.Close()
	ms := register100(t, d)
	base := serve(t, d)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	viewers := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestViewerProcess$")
	viewers.Env = append(os.Environ(), "STEADY_VIEWERS_OF="+base, "STEADY_VIEWERS=10")
	viewers.Stderr = os.Stderr
	require.NoError(t, viewers.Start())
	var wg sync.WaitGroup
	// A trickle of calls, so that the figures change: 100 a second.
	wg.Go(func() {
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				for k := range 10 {
					ms[(10*i+k)%len(ms)].Record(time.Millisecond, resilience.OutcomeSuccess)
				}
			}
		}
	})
	require.Eventually(t, func() bool { return d.Viewers() == 10 }, 20*time.Second, 10*time.Millisecond)
	time.Sleep(2 * time.Second) // the full states sent
	before, start := cpuTime(t), time.Now()
	time.Sleep(span)
	used, wall := cpuTime(t)-before, time.Since(start)
	require.Equal(t, 10, d.Viewers(), "the viewers stayed")
	cancel()
	wg.Wait()
	_ = viewers.Wait()
	t.Logf("100 parts, 10 viewers, tick 1s: %v CPU in %v wall = %.2f%% of one core (the server's process: sampler, encoding, writes, HTTP, GC; and 100 calls/s recorded)",
		used.Round(time.Millisecond), wall.Round(time.Millisecond), 100*used.Seconds()/wall.Seconds())
}

// TestViewerProcess is the viewers of TestCPU100Parts10Viewers, in a
// process of their own: it reads $STEADY_VIEWERS streams of
// $STEADY_VIEWERS_OF until killed. It does nothing in a normal run.
func TestViewerProcess(t *testing.T) {
	base := os.Getenv("STEADY_VIEWERS_OF")
	if base == "" {
		t.Skip("run by TestCPU100Parts10Viewers only")
	}
	n, err := strconv.Atoi(os.Getenv("STEADY_VIEWERS"))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := http.Get(base + "events")
			if err != nil {
				return
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
		})
	}
	wg.Wait()
}

// cpuTime returns the process's user + system CPU time so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
