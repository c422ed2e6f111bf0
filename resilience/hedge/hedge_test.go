package hedge_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/steadyhq/steady/chaos"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/timeout"
)

func newHedger(t *testing.T, cfg hedge.Config) *hedge.Hedger {
	t.Helper()
	h, err := hedge.New(cfg)
	if err != nil {
		t.Fatalf("hedge.New: %v", err)
	}
	return h
}

// attempts is a dependency whose n-th attempt (from 0) takes delays[n]
// (the last one repeats), honours its context, and records how each
// attempt ended.
type attempts struct {
	delays []time.Duration
	errs   []error // error of attempt n, if any
	n      atomic.Int64
	mu     sync.Mutex
	ended  map[int]error // attempt -> ctx error it saw, or nil
}

func (a *attempts) call(ctx context.Context) (int, error) {
	i := int(a.n.Add(1) - 1)
	d := a.delays[min(i, len(a.delays)-1)]
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		a.record(i, ctx.Err())
		return 0, ctx.Err()
	}
	a.record(i, nil)
	if i < len(a.errs) && a.errs[i] != nil {
		return 0, a.errs[i]
	}
	return i, nil
}

func (a *attempts) record(i int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended == nil {
		a.ended = map[int]error{}
	}
	a.ended[i] = err
}

func TestHedge_slowFirstAttemptLosesToTheHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		a := &attempts{delays: []time.Duration{time.Second, 10 * time.Millisecond}}
		start := time.Now()
		v, err := hedge.Hedge[int](h)(a.call)(t.Context())
		if err != nil || v != 1 {
			t.Fatalf("= %d, %v; want the hedge's answer 1", v, err)
		}
		if d := time.Since(start); d != 60*time.Millisecond {
			t.Errorf("took %v, want 60ms (50ms delay + 10ms hedge)", d)
		}
		synctest.Wait()
		if !errors.Is(a.ended[0], context.Canceled) {
			t.Errorf("the first attempt ended with %v, want its context canceled", a.ended[0])
		}
		s := h.Snapshot()
		if s.Calls != 1 || s.Hedged != 1 || s.Hedges != 1 || s.Wins != 1 || s.Running != 0 {
			t.Errorf("Snapshot = %+v", s)
		}
	})
}

func TestHedge_fastFirstAttemptStartsNoHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		a := &attempts{delays: []time.Duration{10 * time.Millisecond}}
		v, err := hedge.Hedge[int](h)(a.call)(t.Context())
		if err != nil || v != 0 || a.n.Load() != 1 {
			t.Fatalf("= %d, %v after %d attempts; want the first answer, alone", v, err, a.n.Load())
		}
		time.Sleep(time.Second)
		if a.n.Load() != 1 || h.Snapshot().Hedges != 0 {
			t.Error("a hedge started after the call returned")
		}
	})
}

func TestHedge_firstAttemptWinsAndTheHedgeIsCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		a := &attempts{delays: []time.Duration{80 * time.Millisecond, time.Second}}
		start := time.Now()
		v, err := hedge.Hedge[int](h)(a.call)(t.Context())
		if err != nil || v != 0 || time.Since(start) != 80*time.Millisecond {
			t.Fatalf("= %d, %v after %v; want the first attempt's answer at 80ms", v, err, time.Since(start))
		}
		synctest.Wait() // the hedge sees its cancellation and returns
		if !errors.Is(a.ended[1], context.Canceled) {
			t.Errorf("the losing hedge ended with %v, want its context canceled", a.ended[1])
		}
		if s := h.Snapshot(); s.Hedges != 1 || s.Wins != 0 || s.Running != 0 {
			t.Errorf("Snapshot = %+v", s)
		}
	})
}

func TestHedge_upToMaxHedgesOnePerDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 3})
		a := &attempts{delays: []time.Duration{time.Second, time.Second, time.Second, 25 * time.Millisecond}}
		start := time.Now()
		v, err := hedge.Hedge[int](h)(a.call)(t.Context())
		// Hedges at 10, 20 and 30ms; the third answers at 55ms.
		if err != nil || v != 3 || time.Since(start) != 55*time.Millisecond {
			t.Fatalf("= %d, %v after %v; want the third hedge's answer at 55ms", v, err, time.Since(start))
		}
		if a.n.Load() != 4 {
			t.Errorf("%d attempts, want 4", a.n.Load())
		}
	})
}

func TestHedge_allFailReturnsTheFirstError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond})
		first, second := errors.New("first"), errors.New("second")
		a := &attempts{delays: []time.Duration{30 * time.Millisecond, 50 * time.Millisecond}, errs: []error{first, second}}
		start := time.Now()
		_, err := hedge.Hedge[int](h)(a.call)(t.Context())
		if err != first || time.Since(start) != 60*time.Millisecond {
			t.Errorf("err = %v after %v; want the first attempt's error once the hedge failed too (60ms)", err, time.Since(start))
		}
	})
}

func TestHedge_aFailedFirstAttemptWaitsForTheHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond})
		a := &attempts{delays: []time.Duration{30 * time.Millisecond, 50 * time.Millisecond}, errs: []error{errors.New("503")}}
		v, err := hedge.Hedge[int](h)(a.call)(t.Context())
		if err != nil || v != 1 {
			t.Errorf("= %d, %v; want the hedge's success", v, err)
		}
	})
}

func TestHedge_aFastFailureIsNotHedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond})
		boom := errors.New("boom")
		a := &attempts{delays: []time.Duration{time.Millisecond}, errs: []error{boom}}
		if _, err := hedge.Hedge[int](h)(a.call)(t.Context()); err != boom || a.n.Load() != 1 {
			t.Errorf("err = %v after %d attempts, want boom after 1", err, a.n.Load())
		}
	})
}

func TestHedge_noHedgeAfterTheCallersDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 100 * time.Millisecond})
		a := &attempts{delays: []time.Duration{time.Second}}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := hedge.Hedge[int](h)(a.call)(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the deadline", err)
		}
		time.Sleep(time.Second)
		if a.n.Load() != 1 {
			t.Errorf("%d attempts, want 1: the delay came after the deadline", a.n.Load())
		}
	})
}

func TestHedge_callerGivesUpWhileHedgesRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond})
		a := &attempts{delays: []time.Duration{time.Second}}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := hedge.Hedge[int](h)(a.call)(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 50*time.Millisecond {
			t.Errorf("err = %v after %v, want the deadline at 50ms", err, time.Since(start))
		}
		synctest.Wait()
		if s := h.Snapshot(); s.Running != 0 {
			t.Errorf("%d hedges still running", s.Running)
		}
	})
}

// A hedge that ignores its context is not waited for, and shows as running.
func TestHedge_loserThatIgnoresItsContextIsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond})
		var n atomic.Int64
		stubborn := func(ctx context.Context) (int, error) {
			if n.Add(1) == 1 {
				time.Sleep(20 * time.Millisecond) // the first attempt: slow, but wins
				return 1, nil
			}
			time.Sleep(time.Second) // the hedge ignores its context
			return 2, nil
		}
		v, err := hedge.Hedge[int](h)(stubborn)(t.Context())
		if v != 1 || err != nil {
			t.Fatalf("= %d, %v", v, err)
		}
		if s := h.Snapshot(); s.Running != 1 {
			t.Errorf("Running = %d, want the stubborn hedge counted", s.Running)
		}
		time.Sleep(time.Second)
		if s := h.Snapshot(); s.Running != 0 {
			t.Errorf("Running = %d once it returned, want 0", s.Running)
		}
	})
}

func TestHedge_budgetRefusesTheHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// An Adaptive budget with one token: the first hedge takes it and
		// fails (a 503), the second call's hedge is denied.
		b, err := budget.NewAdaptive(budget.AdaptiveConfig{Capacity: 1})
		if err != nil {
			t.Fatal(err)
		}
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond, Budget: b})
		a := &attempts{delays: []time.Duration{50 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond},
			errs: []error{nil, errors.New("503"), nil}}
		if v, err := hedge.Hedge[int](h)(a.call)(t.Context()); v != 0 || err != nil {
			t.Fatalf("first call = %d, %v", v, err)
		}
		if v, err := hedge.Hedge[int](h)(a.call)(t.Context()); v != 2 || err != nil || a.n.Load() != 3 {
			t.Errorf("second call = %d, %v after %d attempts; want its first attempt alone", v, err, a.n.Load())
		}
		s, bs := h.Snapshot(), b.Snapshot()
		if s.Hedges != 1 || s.Denied != 1 || bs.Retries != 1 || bs.Denied != 1 {
			t.Errorf("hedger %+v, budget %+v; want one hedge allowed, one denied", s, bs)
		}
	})
}

func TestHedge_badConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  hedge.Config
		want string
	}{
		{hedge.Config{Delay: -1}, "hedge: Config.Delay is -1ns, want >= 0 (0: adaptive)"},
		{hedge.Config{MaxHedges: 6}, "hedge: Config.MaxHedges is 6, want 0 to 5 (0: 1)"},
		{hedge.Config{TargetRate: 0.6}, "hedge: Config.TargetRate is 0.6, want in (0, 0.5], or 0 for the default 0.05"},
		{hedge.Config{Delay: time.Second, TargetRate: 0.1}, "hedge: Config.TargetRate is 0.1, want 0 with a fixed Delay (it is for an adaptive one)"},
		{hedge.Config{MinDelay: 2 * time.Second}, "hedge: Config.MinDelay is 2s, want < MaxDelay (1s)"},
		{hedge.Config{Budget: (*budget.Adaptive)(nil)}, "hedge: Config.Budget is a nil *budget.Adaptive, want a budget from package budget, or nil"},
	} {
		h, err := hedge.New(tc.cfg)
		if h != nil || err == nil || err.Error() != tc.want || !errors.Is(err, resilience.ErrInvalidConfig) {
			t.Errorf("New(%+v) = %v, %v; want %q", tc.cfg, h, err, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Hedge(nil) did not panic")
		}
	}()
	hedge.Hedge[int](nil)
}

// run makes n calls one after another through the policy, against a chaos
// dependency, and returns the latencies.
func runCalls(t *testing.T, h *hedge.Hedger, in *chaos.Injector, n int) []time.Duration {
	f := resilience.Compose(hedge.Hedge[string](h), chaos.Inject[string](in))(func(ctx context.Context) (string, error) { return "ok", nil })
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if _, err := f(t.Context()); err != nil {
			t.Fatal(err)
		}
		out = append(out, time.Since(start))
	}
	return out
}

// The delay settles at the low edge of a gap: with 5% stragglers at 400ms
// over 1-3ms answers, every delay from 3ms to 400ms hedges 5%, and only the
// smallest cuts the tail.
func TestHedge_adaptiveDelaySettlesAtTheLowEdgeOfAGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in, _ := chaos.New(chaos.Config{Seed: 1, Faults: []chaos.Fault{
			chaos.Latency(chaos.Uniform(time.Millisecond, 3*time.Millisecond)),
			chaos.Stragglers(0.05, 400*time.Millisecond),
		}})
		h := newHedger(t, hedge.Config{TargetRate: 0.05})
		runCalls(t, h, in, 2000) // learning
		before := h.Snapshot()
		lat := runCalls(t, h, in, 20000)
		after := h.Snapshot()
		rate := float64(after.Hedged-before.Hedged) / float64(after.Calls-before.Calls)
		t.Logf("delay %v, realised hedge rate %.2f%%, p99 %v", after.Delay, 100*rate, quantile(lat, 0.99))
		if after.Delay > 5*time.Millisecond {
			t.Errorf("delay %v, want at the low edge of the gap (3-5ms)", after.Delay)
		}
		if rate < 0.045 || rate > 0.055 {
			t.Errorf("realised hedge rate %.2f%%, want 5%% ± 10%%", 100*rate)
		}
		if p99 := quantile(lat, 0.99); p99 > 10*time.Millisecond {
			t.Errorf("p99 %v, want under 10ms", p99)
		}
	})
}

// On a smooth distribution the realised rate follows the target, although
// the first attempts that a hedge beats are canceled (censored).
func TestHedge_adaptiveRateOnALogNormal(t *testing.T) {
	for _, target := range []float64{0.01, 0.05, 0.2} {
		synctest.Test(t, func(t *testing.T) {
			in, _ := chaos.New(chaos.Config{Seed: 2, Faults: []chaos.Fault{
				chaos.Latency(chaos.LogNormal(20*time.Millisecond, 0.6)),
			}})
			h := newHedger(t, hedge.Config{TargetRate: target})
			runCalls(t, h, in, int(200/target))
			before := h.Snapshot()
			runCalls(t, h, in, int(2000/target))
			after := h.Snapshot()
			rate := float64(after.Hedged-before.Hedged) / float64(after.Calls-before.Calls)
			t.Logf("target %.0f%%: delay %v, realised %.2f%%", 100*target, after.Delay, 100*rate)
			if rate < target*0.9 || rate > target*1.1 {
				t.Errorf("target %.0f%%: realised hedge rate %.2f%%, want within ±10%%", 100*target, 100*rate)
			}
		})
	}
}

func quantile(d []time.Duration, q float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// Discard releases every successful result that lost, whether it came
// before the call returned or after.
func TestHedge_discardReleasesLosingResults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		delays  []time.Duration // attempts ignore their context
		discard int             // how many results are discarded
	}{
		{"a hedge finishes after the first attempt won", []time.Duration{80 * time.Millisecond, 100 * time.Millisecond}, 1},
		{"the first attempt finishes after a hedge won", []time.Duration{200 * time.Millisecond, 10 * time.Millisecond}, 1},
		{"the hedge wins", []time.Duration{time.Second, 10 * time.Millisecond}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
				var mu sync.Mutex
				var discarded []int
				release := hedge.Discard(func(v int) {
					mu.Lock()
					discarded = append(discarded, v)
					mu.Unlock()
				})
				var n atomic.Int64
				stubborn := func(ctx context.Context) (int, error) {
					i := int(n.Add(1) - 1)
					if i == 0 && tc.delays[0] == time.Second {
						<-ctx.Done() // this one honours its context
						return 0, ctx.Err()
					}
					time.Sleep(tc.delays[i])
					return i, nil
				}
				v, err := hedge.Hedge[int](h, release)(stubborn)(t.Context())
				time.Sleep(time.Second)
				synctest.Wait()
				if err != nil {
					t.Fatal(err)
				}
				all := append([]int{v}, discarded...)
				if len(all) != tc.discard+1 {
					t.Errorf("returned %d, discarded %v; want every success returned or discarded once", v, discarded)
				}
				seen := map[int]bool{}
				for _, x := range all {
					if seen[x] {
						t.Errorf("result %d returned or discarded twice", x)
					}
					seen[x] = true
				}
			})
		})
	}
}

// Karn's rule: an adaptive timeout inside a hedge learns from calls that
// were not hedged, and not from those that were.
func TestHedge_hedgedAttemptsDoNotTeachAnAdaptiveTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{Max: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond})
		a1 := &attempts{delays: []time.Duration{time.Millisecond}}
		f := resilience.Compose(hedge.Hedge[int](h), timeout.WithAdaptive[int](a))
		if _, err := f(a1.call)(t.Context()); err != nil {
			t.Fatal(err)
		}
		if s := a.Snapshot(); s.Calls != 1 || s.Skipped != 0 {
			t.Fatalf("after an unhedged call: %+v, want it taught", s)
		}
		a2 := &attempts{delays: []time.Duration{50 * time.Millisecond, time.Millisecond}}
		if _, err := f(a2.call)(t.Context()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if s := a.Snapshot(); s.Calls != 1 || s.Skipped != 2 {
			t.Errorf("after a hedged call: %+v, want both its attempts skipped", s)
		}
	})
}

// TestHedge_aTieIsCountedForTheAttemptThatIsReturned: when the first
// attempt and a hedge succeed at the same instant, whichever of them wins
// is the one whose result the call returns, and the counts say so: a win
// and a successful extra attempt for the budget exactly when the hedge's
// result is returned.
func TestHedge_aTieIsCountedForTheAttemptThatIsReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := budget.NewRatio(budget.RatioConfig{Ratio: 1, MinPerSecond: 1000, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond, Budget: b})
		var discarded atomic.Int64
		call := hedge.Hedge[int](h, hedge.Discard(func(int) { discarded.Add(1) }))
		hedgeResults := 0
		const calls = 200
		for range calls {
			var n atomic.Int64
			b.Request()
			v, err := call(func(ctx context.Context) (int, error) {
				i := int(n.Add(1))
				// The first attempt takes 20ms, the hedge 10ms from 10ms:
				// both succeed at 20ms, ignoring their context.
				time.Sleep(time.Duration(30-10*i) * time.Millisecond)
				return i, nil
			})(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if v == 2 {
				hedgeResults++
			}
			synctest.Wait() // the loser has returned
		}
		s, bs := h.Snapshot(), b.Snapshot()
		t.Logf("%d of %d ties returned the hedge's result", hedgeResults, calls)
		if s.Hedges != calls {
			t.Fatalf("%d hedges, want %d", s.Hedges, calls)
		}
		if s.Wins != int64(hedgeResults) || bs.Succeeded != int64(hedgeResults) {
			t.Errorf("hedger wins %d, budget successes %d; want both %d, the hedge results returned", s.Wins, bs.Succeeded, hedgeResults)
		}
		if discarded.Load() != calls {
			t.Errorf("%d losing results discarded, want one per call (%d)", discarded.Load(), calls)
		}
	})
}
