package browsertest

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// trafficFor is how long the screenshot's traffic runs, so the sparklines
// have some shape.
const trafficFor = 10 * time.Second

// TestScreenshot runs about ten seconds of real traffic against three
// dependencies (one healthy with hedged calls, one behind a bulkhead with
// some timeouts, one whose breaker opens half-way) and saves a PNG of the page: in t.TempDir(), and at
// $STEADY_SCREENSHOT when that is set (the README's picture).
func TestScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the ten seconds of traffic for the screenshot")
	}
	// Sparklines as long as the traffic, so they are drawn edge to edge.
	d := newDashboard(t, dashboard.Config{Tick: 500 * time.Millisecond, History: trafficFor, Title: "steady — live dashboard"})

	// catalog: healthy, a few milliseconds per call, with a straggler now
	// and then that a hedge (under a retry budget) cuts short.
	hedges, err := budget.NewRatio(budget.RatioConfig{Ratio: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	hedger, err := hedge.New(hedge.Config{TargetRate: 0.05, MaxDelay: 50 * time.Millisecond, Budget: hedges})
	if err != nil {
		t.Fatal(err)
	}
	catalog := newDependency(t, "catalog", &breaker.Settings{}, hedge.Hedge[struct{}](hedger))
	register(t, d, "catalog", dashboard.Parts{Metrics: catalog.metrics, Breaker: catalog.breaker, Hedger: hedger, Budget: hedges})

	// search: behind a bulkhead; an adaptive timeout cuts the slowest
	// calls: about 4% time out.
	searchM, err := monitor.NewMetrics(monitor.Config{Name: "search"})
	if err != nil {
		t.Fatal(err)
	}
	adaptive, err := timeout.NewAdaptive(timeout.AdaptiveConfig{TargetRate: 0.04, Max: 40 * time.Millisecond, Warmup: 20, Step: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := bulkhead.New(bulkhead.Config{Name: "search", MaxConcurrent: 2, MaxQueue: 8})
	if err != nil {
		t.Fatal(err)
	}
	search := resilience.Compose(monitor.Monitor[struct{}](searchM), bulkhead.Limit[struct{}](pool), timeout.WithAdaptive[struct{}](adaptive))
	register(t, d, "search", dashboard.Parts{Metrics: searchM, Adaptive: adaptive, Bulkhead: pool})

	// payments: hangs more and more often; its calls time out, the
	// timeout-rate alert fires, and the breaker opens.
	opened := make(chan time.Time, 1)
	onChange := func(_ string, _, to breaker.State) {
		if to == breaker.StateOpen {
			select {
			case opened <- time.Now():
			default:
			}
		}
	}
	payments := newDependencyWith(t,
		monitor.Config{Name: "payments", Alerts: []monitor.AlertRule{{Window: 5 * time.Second, Threshold: 0.2}}},
		&breaker.Settings{FailureRate: 0.5, MinRequests: 20, Window: 3 * time.Second, OpenTimeout: time.Hour, OnStateChange: onChange},
		timeout.WithTimeout[struct{}](25*time.Millisecond))
	register(t, d, "payments", payments.parts())

	p := openPage(t, serve(t, d))
	p.waitUntil("three cards", 5*time.Second, cardNamesAre("catalog", "payments", "search"))

	// The traffic runs until the picture is taken, so the rates are live.
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	worker := func(seed uint64, call func(r *rand.Rand, elapsed float64)) {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, 1))
			for ctx.Err() == nil {
				elapsed := time.Since(start).Seconds()
				call(r, elapsed)
				// A rate that swells and ebbs, so the sparkline has a shape.
				pause := time.Duration(float64(8*time.Millisecond) * (1.6 + math.Sin(elapsed*0.9+float64(seed))))
				sleep(ctx, pause)
			}
		})
	}
	for i := range 3 {
		worker(uint64(i), func(r *rand.Rand, _ float64) {
			d := time.Duration(2+r.IntN(6)) * time.Millisecond
			if r.Float64() < 0.04 {
				d = 60 * time.Millisecond // a straggler; the hedge is fast
			}
			_ = catalog.call(slowFirst(d, time.Duration(2+r.IntN(6))*time.Millisecond))
		})
	}
	for i := range 3 {
		worker(uint64(10+i), func(r *rand.Rand, _ float64) {
			d := time.Duration(5+r.ExpFloat64()*8) * time.Millisecond
			_, _ = search(slow(d))(context.Background())
		})
	}
	for i := range 2 {
		worker(uint64(20+i), func(r *rand.Rand, elapsed float64) {
			// Up to 3 s: healthy; then the share of calls that hang
			// climbs until the breaker opens (at about 6 s), and the
			// calls after it are rejected.
			if r.Float64() < (elapsed-3)/2 {
				_ = payments.call(slow(time.Hour))
				return
			}
			_ = payments.call(slow(time.Duration(3+r.IntN(10)) * time.Millisecond))
		})
	}
	time.Sleep(trafficFor)
	if payments.breaker.State() != breaker.StateOpen {
		// The failure share climbed slower than planned (a loaded machine
		// makes fewer calls); the picture needs the open breaker.
		payments.tripBreaker(t)
	}
	// The picture should show each health level. The other tests check
	// that the page shows them; here a miss (say, search's timeouts
	// drifting on a loaded machine) only costs the picture its point.
	for _, want := range []struct{ what, cond string }{
		{"payments' breaker open", fieldIs("payments", "breaker", "open")},
		{"payments bad", healthIs("payments", "bad")},
		{"catalog ok", healthIs("catalog", "ok")},
		{"search warn", healthIs("search", "warn")},
	} {
		if _, ok := p.tryUntil(5*time.Second, want.cond); !ok {
			t.Logf("the picture will not show %s", want.what)
		}
	}
	select {
	case at := <-opened:
		t.Logf("payments' breaker opened %v after the traffic began", at.Sub(start).Round(time.Millisecond))
	default:
	}
	t.Logf("traffic: catalog %v; search %v; payments %v, breaker %v",
		catalog.metrics.Snapshot(), searchM.Snapshot(), payments.metrics.Snapshot(), payments.breaker.State())
	t.Logf("the page: %s", p.describe())

	shotCtx, cancelShot := context.WithTimeout(p.ctx, stepTimeout)
	defer cancelShot()
	png, err := chromedp.Run(shotCtx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	paths := []string{filepath.Join(t.TempDir(), "dashboard.png")}
	if path := os.Getenv("STEADY_SCREENSHOT"); path != "" {
		paths = append(paths, path)
	}
	for _, path := range paths {
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatalf("writing the screenshot: %v", err)
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(png))
	}
}

// slowFirst is a call whose first attempt takes first and whose later
// (hedged) attempts take then.
func slowFirst(first, then time.Duration) resilience.Func[struct{}] {
	var n atomic.Int32
	return func(ctx context.Context) (struct{}, error) {
		if n.Add(1) == 1 {
			return slow(first)(ctx)
		}
		return slow(then)(ctx)
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}
