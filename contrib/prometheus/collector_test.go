package prometheus_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	steadyprom "github.com/steadyhq/steady/contrib/prometheus"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// parts are the steady parts of two dependencies: "payments" behind a
// monitor, a breaker, a bulkhead and an adaptive timeout; "search" behind a monitor,
// retries and hedges sharing one budget.
type parts struct {
	payments *monitor.Metrics
	cb       *breaker.CircuitBreaker
	bh       *bulkhead.Bulkhead
	search   *monitor.Metrics
	edge     *monitor.Metrics // recorded by hand, with an alert rule
	h        *hedge.Hedger
	b        *budget.Ratio
	at       *timeout.Adaptive
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newParts() *parts {
	return &parts{
		payments: must(monitor.NewMetrics(monitor.Config{Name: "payments"})),
		cb: must(breaker.New(breaker.Settings{
			Name: "payments", ConsecutiveFailures: 4, OpenTimeout: 10 * time.Second, HalfOpenRequests: 1,
		})),
		bh:     must(bulkhead.New(bulkhead.Config{Name: "payments", MaxConcurrent: 1})),
		search: must(monitor.NewMetrics(monitor.Config{Name: "search"})),
		edge: must(monitor.NewMetrics(monitor.Config{Name: "edge", Alerts: []monitor.AlertRule{
			{Window: time.Minute, MinCalls: 1, Threshold: 0.5},
			{Window: time.Minute, MinCalls: 1, Threshold: 0.5}, // the same twice: one series
			{Window: time.Hour, MinCalls: 100, Threshold: 0.5},
		}})),
		h: nil,
		b: must(budget.NewRatio(budget.RatioConfig{Ratio: 1, MinPerSecond: 0.01, TTL: 10 * time.Second})),
		// Still warming up after this test's calls: every limit is Max.
		at: must(timeout.NewAdaptive(timeout.AdaptiveConfig{Max: 50 * time.Millisecond, Warmup: 100})),
	}
}

func (p *parts) collector(t *testing.T) *steadyprom.Collector {
	t.Helper()
	c := steadyprom.New()
	for _, err := range []error{
		c.AddMetrics("payments", p.payments),
		c.AddBreaker("payments", p.cb),
		c.AddBulkhead("payments", p.bh),
		c.AddMetrics("search", p.search),
		c.AddMetrics("edge", p.edge),
		c.AddHedger("search", p.h),
		c.AddBudget("search", p.b),
		c.AddAdaptiveTimeout("payments", p.at),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

var errBoom = errors.New("boom")

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run makes a known sequence of calls; it must run in a synctest bubble,
// so every duration is exact.
func (p *parts) run(t *testing.T) {
	ctx := t.Context()

	// edge: timeouts of each cause, recorded by hand; the first rule fires.
	propagated, cancelP := context.WithDeadlineCause(ctx, time.Now(), resilience.ErrPropagatedDeadline)
	defer cancelP()
	p.edge.RecordContext(propagated, time.Second, resilience.OutcomeDeadline)
	p.edge.RecordContext(propagated, time.Second, resilience.OutcomeDeadline)
	p.edge.RecordContext(ctx, 2*time.Second, resilience.OutcomeDeadline)
	p.edge.Record(3*time.Second, resilience.OutcomeTimeout)
	p.edge.Record(time.Millisecond, resilience.OutcomeSuccess)

	// payments: each call does what do says, taking the time it says.
	var do func(ctx context.Context) error
	payments := resilience.Compose(
		monitor.Monitor[int](p.payments),
		breaker.Breaker[int](p.cb),
		bulkhead.Limit[int](p.bh),
		timeout.WithAdaptive[int](p.at),
	)(func(ctx context.Context) (int, error) { return 0, do(ctx) })
	ok := func(d time.Duration) func(context.Context) error {
		return func(ctx context.Context) error { return sleep(ctx, d) }
	}

	// A success of 20ms, and a call rejected by the bulkhead meanwhile.
	do = ok(20 * time.Millisecond)
	var wg sync.WaitGroup
	wg.Go(func() { payments(ctx) })
	time.Sleep(time.Millisecond)
	if _, err := payments(ctx); !errors.Is(err, bulkhead.ErrFull) {
		t.Fatalf("second concurrent call: %v, want bulkhead.ErrFull", err)
	}
	wg.Wait()
	// Another success, a call canceled by its caller after 5ms, a failure
	// of 10ms, then three timeouts (50ms): the fourth failure in a row
	// opens the breaker.
	payments(ctx)
	cctx, cancel := context.WithCancel(ctx)
	do = func(ctx context.Context) error { return sleep(ctx, time.Hour) }
	time.AfterFunc(5*time.Millisecond, cancel)
	if _, err := payments(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled call: %v", err)
	}
	do = func(ctx context.Context) error { time.Sleep(10 * time.Millisecond); return errBoom }
	payments(ctx)
	do = func(ctx context.Context) error { return sleep(ctx, time.Hour) }
	for range 3 {
		if _, err := payments(ctx); !resilience.IsTimeout(err) {
			t.Fatalf("call: %v, want a timeout", err)
		}
	}
	// Two calls rejected while it is open; after OpenTimeout, a probe
	// that succeeds closes it.
	for range 2 {
		if _, err := payments(ctx); !errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("call: %v, want breaker.ErrOpen", err)
		}
	}
	time.Sleep(12 * time.Second) // OpenTimeout and its jitter
	do = ok(20 * time.Millisecond)
	if _, err := payments(ctx); err != nil {
		t.Fatalf("probe: %v", err)
	}

	// search: the first attempt of a slow call takes 30ms, a hedge 5ms.
	var slow bool
	var attempts int
	var mu sync.Mutex
	search := resilience.Compose(
		monitor.Monitor[int](p.search),
		retry.Retry[int](retry.Config{MaxAttempts: 2, BaseDelay: time.Millisecond, Budget: p.b}),
		hedge.Hedge[int](p.h),
	)(func(ctx context.Context) (int, error) {
		mu.Lock()
		attempts++
		d := 5 * time.Millisecond
		if attempts == 1 && slow {
			d = 30 * time.Millisecond
		}
		mu.Unlock()
		return 0, sleep(ctx, d)
	})
	for _, s := range []bool{true, true, false} {
		mu.Lock()
		slow, attempts = s, 0
		mu.Unlock()
		if _, err := search(ctx); err != nil {
			t.Fatalf("search: %v", err)
		}
	}
	// The first slow call's hedge is denied (the new budget holds its
	// floor, 0.1 of a retry), the second's starts and wins.
}

func TestCollectorKnownSequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newParts()
		p.h = must(hedge.New(hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 1, Budget: p.b}))
		c := p.collector(t)
		p.run(t)

		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)

		const want = `
# HELP steady_calls_total Calls recorded by a steady monitor, by how they ended: success, failure, timeout, canceled (by the caller) or rejected (by a policy, without calling the dependency).
# TYPE steady_calls_total counter
steady_calls_total{name="edge",outcome="canceled"} 0
steady_calls_total{name="edge",outcome="failure"} 0
steady_calls_total{name="edge",outcome="rejected"} 0
steady_calls_total{name="edge",outcome="success"} 1
steady_calls_total{name="edge",outcome="timeout"} 4
steady_calls_total{name="payments",outcome="canceled"} 1
steady_calls_total{name="payments",outcome="failure"} 1
steady_calls_total{name="payments",outcome="rejected"} 3
steady_calls_total{name="payments",outcome="success"} 3
steady_calls_total{name="payments",outcome="timeout"} 3
steady_calls_total{name="search",outcome="canceled"} 0
steady_calls_total{name="search",outcome="failure"} 0
steady_calls_total{name="search",outcome="rejected"} 0
steady_calls_total{name="search",outcome="success"} 3
steady_calls_total{name="search",outcome="timeout"} 0
# HELP steady_timeouts_total Calls recorded by a steady monitor that timed out, by cause: limit (a timeout inside the call fired), deadline (the caller's own deadline passed) or propagated (the caller's deadline, sent by an upstream service, passed).
# TYPE steady_timeouts_total counter
steady_timeouts_total{cause="deadline",name="edge"} 1
steady_timeouts_total{cause="limit",name="edge"} 1
steady_timeouts_total{cause="propagated",name="edge"} 2
steady_timeouts_total{cause="deadline",name="payments"} 0
steady_timeouts_total{cause="limit",name="payments"} 3
steady_timeouts_total{cause="propagated",name="payments"} 0
steady_timeouts_total{cause="deadline",name="search"} 0
steady_timeouts_total{cause="limit",name="search"} 0
steady_timeouts_total{cause="propagated",name="search"} 0
# HELP steady_alert_firing 1 while a steady monitor's timeout-rate alert rule fires, else 0; window is the rule's window in seconds, threshold its timeout ratio.
# TYPE steady_alert_firing gauge
steady_alert_firing{name="edge",threshold="0.5",window="3600"} 0
steady_alert_firing{name="edge",threshold="0.5",window="60"} 1
# HELP steady_circuit_state State of a steady circuit breaker: 1 for the state it is in, 0 for the others.
# TYPE steady_circuit_state gauge
steady_circuit_state{name="payments",state="closed"} 1
steady_circuit_state{name="payments",state="half-open"} 0
steady_circuit_state{name="payments",state="open"} 0
# HELP steady_circuit_transitions_total Changes of state of a steady circuit breaker.
# TYPE steady_circuit_transitions_total counter
steady_circuit_transitions_total{from="closed",name="payments",to="open"} 1
steady_circuit_transitions_total{from="half-open",name="payments",to="closed"} 1
steady_circuit_transitions_total{from="half-open",name="payments",to="open"} 0
steady_circuit_transitions_total{from="open",name="payments",to="half-open"} 1
# HELP steady_circuit_rejected_total Calls a steady circuit breaker rejected without calling the dependency.
# TYPE steady_circuit_rejected_total counter
steady_circuit_rejected_total{name="payments"} 2
# HELP steady_bulkhead_admitted_total Calls that got a slot of a steady bulkhead, at once or after queuing.
# TYPE steady_bulkhead_admitted_total counter
steady_bulkhead_admitted_total{name="payments"} 8
# HELP steady_bulkhead_rejected_total Calls a steady bulkhead rejected: its queue was full, or they waited its QueueTimeout.
# TYPE steady_bulkhead_rejected_total counter
steady_bulkhead_rejected_total{name="payments"} 1
# HELP steady_bulkhead_in_flight_calls Slots of a steady bulkhead held now.
# TYPE steady_bulkhead_in_flight_calls gauge
steady_bulkhead_in_flight_calls{name="payments"} 0
# HELP steady_adaptive_timeout_seconds The limit a steady adaptive timeout gives a call now.
# TYPE steady_adaptive_timeout_seconds gauge
steady_adaptive_timeout_seconds{name="payments"} 0.05
# HELP steady_adaptive_timeout_calls_total Calls that taught a steady adaptive timeout its limit.
# TYPE steady_adaptive_timeout_calls_total counter
steady_adaptive_timeout_calls_total{name="payments"} 7
# HELP steady_adaptive_timeout_timeouts_total Calls that taught a steady adaptive timeout and timed out.
# TYPE steady_adaptive_timeout_timeouts_total counter
steady_adaptive_timeout_timeouts_total{name="payments"} 3
# HELP steady_adaptive_timeout_skipped_total Calls that taught a steady adaptive timeout nothing (retries, hedges, the caller's deadline or cancellation, rejections).
# TYPE steady_adaptive_timeout_skipped_total counter
steady_adaptive_timeout_skipped_total{name="payments"} 1
# HELP steady_adaptive_timeout_warming_up 1 while a steady adaptive timeout gives calls its Max until its next estimate, else 0.
# TYPE steady_adaptive_timeout_warming_up gauge
steady_adaptive_timeout_warming_up{name="payments"} 1
# HELP steady_hedge_calls_total Calls made through a steady hedger.
# TYPE steady_hedge_calls_total counter
steady_hedge_calls_total{name="search"} 3
# HELP steady_hedged_calls_total Calls through a steady hedger that started at least one hedge.
# TYPE steady_hedged_calls_total counter
steady_hedged_calls_total{name="search"} 1
# HELP steady_hedges_total Hedges a steady hedger started.
# TYPE steady_hedges_total counter
steady_hedges_total{name="search"} 1
# HELP steady_hedge_wins_total Hedges that won their call.
# TYPE steady_hedge_wins_total counter
steady_hedge_wins_total{name="search"} 1
# HELP steady_hedges_denied_total Hedges a steady hedger did not start because its budget refused them.
# TYPE steady_hedges_denied_total counter
steady_hedges_denied_total{name="search"} 1
# HELP steady_hedge_delay_seconds The delay after which a steady hedger starts a hedge now.
# TYPE steady_hedge_delay_seconds gauge
steady_hedge_delay_seconds{name="search"} 0.01
# HELP steady_budget_requests_total Calls that asked a steady budget for their first attempt.
# TYPE steady_budget_requests_total counter
steady_budget_requests_total{name="search"} 3
# HELP steady_budget_retries_total Extra attempts (retries and hedges) a steady budget allowed.
# TYPE steady_budget_retries_total counter
steady_budget_retries_total{name="search"} 1
# HELP steady_budget_denied_total Extra attempts a steady budget refused, and calls a throttler rejected.
# TYPE steady_budget_denied_total counter
steady_budget_denied_total{name="search"} 1
# HELP steady_budget_retries_succeeded_total Extra attempts allowed by a steady budget that succeeded.
# TYPE steady_budget_retries_succeeded_total counter
steady_budget_retries_succeeded_total{name="search"} 1
# HELP steady_budget_headroom Room a steady budget has now: about how many extra attempts in a row it would allow (for a throttler, how many more attempts may fail before it rejects).
# TYPE steady_budget_headroom gauge
steady_budget_headroom{name="search"} 1.1
`
		names := []string{
			"steady_calls_total", "steady_timeouts_total", "steady_alert_firing", "steady_circuit_state", "steady_circuit_transitions_total",
			"steady_circuit_rejected_total", "steady_bulkhead_admitted_total", "steady_bulkhead_rejected_total",
			"steady_bulkhead_in_flight_calls",
			"steady_adaptive_timeout_seconds", "steady_adaptive_timeout_calls_total", "steady_adaptive_timeout_timeouts_total",
			"steady_adaptive_timeout_skipped_total", "steady_adaptive_timeout_warming_up",
			"steady_hedge_calls_total", "steady_hedged_calls_total", "steady_hedges_total", "steady_hedge_wins_total",
			"steady_hedges_denied_total", "steady_hedge_delay_seconds",
			"steady_budget_requests_total", "steady_budget_retries_total", "steady_budget_denied_total",
			"steady_budget_retries_succeeded_total", "steady_budget_headroom",
		}
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
			t.Error(err)
		}

		// The durations: 20, 20, 5 (canceled), 10, 50, 50, 50 and 20 ms.
		h := durationHistogram(t, reg, "payments")
		if got := h.GetSampleCount(); got != 8 {
			t.Errorf("_count = %d, want 8", got)
		}
		if got := h.GetSampleSum(); math.Abs(got-0.225) > 1e-9 {
			t.Errorf("_sum = %v, want 0.225", got)
		}
		// Classic buckets, cumulative: each duration sits well inside a
		// bucket, so the counts are exact.
		wantCum := map[float64]uint64{0.001: 0, 0.0025: 0, 0.005: 0, 0.01: 1, 0.025: 5, 0.05: 5, 0.1: 8, 0.25: 8, 60: 8}
		for _, b := range h.GetBucket() {
			if want, ok := wantCum[b.GetUpperBound()]; ok && b.GetCumulativeCount() != want {
				t.Errorf("le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
		if n := len(h.GetBucket()); n != 15 {
			t.Errorf("%d classic buckets, want 15", n)
		}
		// Native buckets (schema 3): decode the spans and deltas, and find
		// each duration in the bucket (2^((i-1)/8), 2^(i/8)] that holds it.
		if h.GetSchema() != 3 {
			t.Fatalf("schema %d, want 3", h.GetSchema())
		}
		native := map[int]int64{}
		idx, count := 0, int64(0)
		deltas := h.GetPositiveDelta()
		for _, sp := range h.GetPositiveSpan() {
			idx += int(sp.GetOffset())
			for range sp.GetLength() {
				count += deltas[0]
				deltas = deltas[1:]
				if count > 0 {
					native[idx] = count
				}
				idx++
			}
		}
		bucketOf := func(secs float64) int { return int(math.Ceil(math.Log2(secs) * 8)) }
		wantNative := map[int]int64{}
		for _, d := range []float64{0.020, 0.020, 0.005, 0.010, 0.050, 0.050, 0.050, 0.020} {
			wantNative[bucketOf(d)]++
		}
		// The monitor's buckets (6.25% wide) may straddle a native edge:
		// allow each count to sit in its bucket or the next.
		for i, n := range wantNative {
			if native[i]+native[i+1] < n {
				t.Errorf("native bucket %d: %d (next %d), want %d", i, native[i], native[i+1], n)
			}
		}
		var total int64
		for _, n := range native {
			total += n
		}
		t.Logf("native buckets: %v", native)
		if total != 8 {
			t.Errorf("native buckets hold %d, want 8 (%v)", total, native)
		}

		// search's three calls, native too.
		e := durationHistogram(t, reg, "search")
		if e.GetSampleCount() != 3 || e.GetSchema() != 3 {
			t.Errorf("search: %v", e)
		}
	})
}

// durationHistogram gathers reg and returns steady_call_duration_seconds{name}.
func durationHistogram(t *testing.T, reg *prometheus.Registry, name string) *dto.Histogram {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "steady_call_duration_seconds" {
			continue
		}
		if mf.GetType() != dto.MetricType_HISTOGRAM {
			t.Fatalf("steady_call_duration_seconds is a %v, want a histogram", mf.GetType())
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == name {
				return m.GetHistogram()
			}
		}
	}
	t.Fatalf("no steady_call_duration_seconds{name=%q}", name)
	return nil
}

func TestCollectorLint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newParts()
		p.h = must(hedge.New(hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 1, Budget: p.b}))
		c := p.collector(t)
		p.run(t)
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range problems {
			t.Errorf("lint: %s: %s", pr.Metric, pr.Text)
		}
		// Every descriptor is used, and nothing undescribed is sent.
		if n := testutil.CollectAndCount(c); n == 0 {
			t.Fatal("no metrics collected")
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		descs := make(chan *prometheus.Desc, 100)
		c.Describe(descs)
		close(descs)
		if len(descs) != len(mfs) {
			t.Errorf("%d descriptors, but %d metric families gathered", len(descs), len(mfs))
		}
	})
}

func TestCollectorUnits(t *testing.T) {
	// Names say their unit: durations and delays are in seconds, counters
	// end in _total, and nothing is in milliseconds.
	p := newParts()
	p.h = must(hedge.New(hedge.Config{}))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.collector(t))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "steady_") {
			t.Errorf("%s: want prefix steady_", name)
		}
		if isCounter := mf.GetType() == dto.MetricType_COUNTER; isCounter != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %v: counters, and only they, end in _total", name, mf.GetType())
		}
		if strings.Contains(name, "duration") || strings.Contains(name, "delay") {
			if !strings.HasSuffix(name, "_seconds") {
				t.Errorf("%s: a time, want _seconds", name)
			}
		}
		if strings.Contains(name, "millis") || strings.Contains(name, "_ms") {
			t.Errorf("%s: want base units", name)
		}
	}
}

func TestCollectorAddErrors(t *testing.T) {
	m := &monitor.Metrics{}
	c := steadyprom.New()
	if err := c.AddMetrics("payments", m); err != nil {
		t.Fatal(err)
	}
	err := c.AddMetrics("payments", &monitor.Metrics{})
	if !errors.Is(err, steadyprom.ErrDuplicate) || !strings.Contains(err.Error(), `"payments"`) {
		t.Errorf("same kind, same name: %v, want ErrDuplicate naming it", err)
	}
	if err := c.AddBudget("payments", budget.Unlimited()); err != nil {
		t.Errorf("another kind, same name: %v", err)
	}
	for what, err := range map[string]error{
		"empty name":    c.AddMetrics("", m),
		"nil metrics":   c.AddMetrics("x", nil),
		"nil breaker":   c.AddBreaker("x", nil),
		"nil hedger":    c.AddHedger("x", nil),
		"nil budget":    c.AddBudget("x", nil),
		"nil bulkhead":  c.AddBulkhead("x", nil),
		"nil adaptive":  c.AddAdaptiveTimeout("x", nil),
		"typed nil bud": c.AddBudget("x", (*budget.Ratio)(nil)),
	} {
		var ce *resilience.ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, resilience.ErrInvalidConfig) {
			t.Errorf("%s: %v, want a *resilience.ConfigError", what, err)
		}
	}
	if got := testutil.CollectAndCount(c, "steady_calls_total"); got != 5 {
		t.Errorf("%d steady_calls_total series, want 5 (one Metrics)", got)
	}
	if !c.Remove("payments") {
		t.Error("Remove(payments) = false")
	}
	if c.Remove("payments") {
		t.Error("second Remove(payments) = true")
	}
	if got := testutil.CollectAndCount(c); got != 0 {
		t.Errorf("%d series after Remove, want 0", got)
	}
}

func TestCollectorConcurrent(t *testing.T) {
	// Scrapes, Adds and Removes race with calls (run with -race).
	c := steadyprom.New()
	m := &monitor.Metrics{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	call := monitor.Monitor[int](m)(func(context.Context) (int, error) { return 1, nil })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				call(context.Background())
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			c.AddMetrics("a", m)
			c.Remove("a")
		}
	})
	wg.Go(func() {
		for range 50 {
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
}
