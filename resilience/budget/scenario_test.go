package budget_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/retry"
)

// errUnavailable is what the dependency of the scenarios fails with: a
// retryable error, like an HTTP 503.
var errUnavailable = errors.New("503 service unavailable")

// scenario is a load run through retry with at most four attempts per call
// (retry.DefaultConfig otherwise: 100ms doubling, with jitter), from
// workers goroutines at once, under synctest. Each attempt takes latency
// of fake time and fails if fail says so; fail is a function of the call
// and the attempt, so a run does not depend on how the workers interleave.
type scenario struct {
	calls   int
	workers int
	latency time.Duration
	fail    func(call, attempt int) bool
	from    int // count only calls from this one on
}

// result is what a scenario measured.
type result struct {
	calls, succeeded, attempts int
	denied                     int // calls that ended because the budget denied a retry
	deniedAfter1s              int // of which after the first second
	elapsed                    time.Duration
}

// rate returns the calls per second of fake time.
func (r result) rate() float64 { return float64(r.calls) / r.elapsed.Seconds() }

func (r result) successRate() float64 { return float64(r.succeeded) / float64(r.calls) }
func (r result) amplification() float64 {
	return float64(r.attempts) / float64(r.calls)
}

// run runs sc with b as retry's budget (none if b is nil), in a synctest
// bubble of its own; newBudget is called inside the bubble.
func (sc scenario) run(t *testing.T, newBudget func() budget.Budget) result {
	t.Helper()
	var res result
	synctest.Test(t, func(t *testing.T) {
		cfg := retry.DefaultConfig()
		cfg.MaxAttempts = 4
		if newBudget != nil {
			cfg.Budget = newBudget()
		}
		var attempts, succeeded, denied, deniedAfter1s, next atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for range sc.workers {
			wg.Go(func() {
				for {
					call := int(next.Add(1)) - 1
					if call >= sc.calls {
						return
					}
					n := 0
					counted := call >= sc.from
					fn := retry.Retry[int](cfg)(func(context.Context) (int, error) {
						n++
						if counted {
							attempts.Add(1)
						}
						time.Sleep(sc.latency)
						if sc.fail(call, n) {
							return 0, errUnavailable
						}
						return n, nil
					})
					_, err := fn(context.Background())
					switch {
					case !counted:
					case err == nil:
						succeeded.Add(1)
					case errors.Is(err, budget.ErrExhausted):
						denied.Add(1)
						if time.Since(start) > time.Second {
							deniedAfter1s.Add(1)
						}
					}
				}
			})
		}
		wg.Wait()
		res = result{calls: sc.calls - sc.from, succeeded: int(succeeded.Load()), attempts: int(attempts.Load()), denied: int(denied.Load()), deniedAfter1s: int(deniedAfter1s.Load()), elapsed: time.Since(start)}
	})
	return res
}

// randomFailures fails each attempt with probability p, drawn from a
// generator seeded by the call, so that attempt n of call c fails or not
// whatever the order of the calls.
func randomFailures(p float64, seed uint64) func(call, attempt int) bool {
	return func(call, attempt int) bool {
		r := rand.New(rand.NewPCG(seed, uint64(call)))
		var x float64
		for range attempt {
			x = r.Float64()
		}
		return x < p
	}
}

func always(int, int) bool { return true }

// The budgets compared; the first is the recommended default.
var budgets = []struct {
	name string
	new  func() budget.Budget
}{
	{"adaptive", func() budget.Budget { return must(budget.NewAdaptive(budget.AdaptiveConfig{})) }},
	{"adaptive-500", func() budget.Budget { return must(budget.NewAdaptive(budget.AdaptiveConfig{Capacity: 500})) }},
	{"ratio", func() budget.Budget { return must(budget.NewRatio(budget.RatioConfig{})) }},
	{"throttler", func() budget.Budget { return must(budget.NewThrottler(budget.ThrottlerConfig{})) }},
	{"none", nil},
}

func must[B budget.Budget](b B, err error) budget.Budget {
	if err != nil {
		panic(err)
	}
	return b
}

// after returns a fail that succeeds for the calls before call from and
// fails every attempt of the others: an outage that starts after a healthy
// period.
func after(from int) func(call, attempt int) bool {
	return func(call, _ int) bool { return call >= from }
}

func TestScenarios_report(t *testing.T) {
	for _, load := range []struct {
		name    string
		workers int
		latency time.Duration
	}{
		{"500 workers, 10ms per attempt", 500, 10 * time.Millisecond},
		{"150 workers, 10ms per attempt", 150, 10 * time.Millisecond},
		{"50 workers, 10ms per attempt", 50, 10 * time.Millisecond},
		{"10 workers, 100ms per attempt", 10, 100 * time.Millisecond},
	} {
		t.Logf("%s", load.name)
		outage := scenario{calls: 10_000, workers: load.workers, latency: load.latency, fail: always}
		transient := scenario{calls: 10_000, workers: load.workers, latency: load.latency, fail: randomFailures(0.3, 1)}
		onset := scenario{calls: 10_000, workers: load.workers, latency: load.latency, fail: after(5000), from: 5000}
		for _, b := range budgets {
			o := outage.run(t, b.new)
			tr := transient.run(t, b.new)
			on := onset.run(t, b.new)
			t.Logf("  %-12s outage: %.3fx attempts/call; after 5,000 good calls: %.3fx; transient 30%%: %.2f%% success, %.3fx attempts/call, %d denied (%d after the first second; %.0f calls/s)",
				b.name, o.amplification(), on.amplification(), 100*tr.successRate(), tr.amplification(), tr.denied, tr.deniedAfter1s, tr.rate())
		}
	}
}

// The targets of the recommended budget, the zero AdaptiveConfig, with four
// attempts per call.

func TestAdaptive_outageIsNotAmplified(t *testing.T) {
	sc := scenario{calls: 10_000, workers: 50, latency: 10 * time.Millisecond, fail: always}
	without := sc.run(t, nil)
	require.Equal(t, 40_000, without.attempts, "without a budget, every call makes 4 attempts")

	with := sc.run(t, budgets[0].new)
	t.Logf("%d calls, %d attempts: %.3fx", with.calls, with.attempts, with.amplification())
	assert.LessOrEqual(t, with.amplification(), 1.1)
	assert.Zero(t, with.succeeded)
}

func TestAdaptive_outageAfterHealthyTrafficIsNotAmplified(t *testing.T) {
	sc := scenario{calls: 10_000, workers: 50, latency: 10 * time.Millisecond, fail: after(5000), from: 5000}
	res := sc.run(t, budgets[0].new)
	t.Logf("%d calls into the outage, %d attempts: %.3fx", res.calls, res.attempts, res.amplification())
	assert.LessOrEqual(t, res.amplification(), 1.1)
}

func TestAdaptive_transientFaultsAreStillRetried(t *testing.T) {
	sc := scenario{calls: 10_000, workers: 50, latency: 10 * time.Millisecond, fail: randomFailures(0.3, 1)}
	without := sc.run(t, nil)
	with := sc.run(t, budgets[0].new)
	t.Logf("without a budget: %.2f%% success, %.3fx; with: %.2f%% success, %.3fx, %d denied",
		100*without.successRate(), without.amplification(), 100*with.successRate(), with.amplification(), with.denied)
	assert.GreaterOrEqual(t, with.successRate(), 0.99)
	assert.LessOrEqual(t, with.amplification(), 1.45)
	assert.Equal(t, without.succeeded, with.succeeded, "the budget denied no retry that would have helped")
}
