package timeout_test

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

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

func TestAdaptiveConfig_Validate(t *testing.T) {
	ok := timeout.AdaptiveConfig{Max: time.Second}
	tests := []struct {
		name  string
		edit  func(*timeout.AdaptiveConfig)
		field string
	}{
		{"negative rate", func(c *timeout.AdaptiveConfig) { c.TargetRate = -0.1 }, "TargetRate"},
		{"rate of one half", func(c *timeout.AdaptiveConfig) { c.TargetRate = 0.5 }, "TargetRate"},
		{"NaN rate", func(c *timeout.AdaptiveConfig) { c.TargetRate = nan() }, "TargetRate"},
		{"negative Min", func(c *timeout.AdaptiveConfig) { c.Min = -1 }, "Min"},
		{"zero Max", func(c *timeout.AdaptiveConfig) { c.Max = 0 }, "Max"},
		{"negative Max", func(c *timeout.AdaptiveConfig) { c.Max = -time.Second }, "Max"},
		{"Min above Max", func(c *timeout.AdaptiveConfig) { c.Min = 2 * time.Second }, "Min"},
		{"negative Warmup", func(c *timeout.AdaptiveConfig) { c.Warmup = -1 }, "Warmup"},
		{"Step above 1", func(c *timeout.AdaptiveConfig) { c.Step = 1.5 }, "Step"},
		{"negative Step", func(c *timeout.AdaptiveConfig) { c.Step = -0.05 }, "Step"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			require.ErrorIs(t, err, resilience.ErrInvalidConfig)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "AdaptiveConfig."+tc.field, ce.Field)
			a, nerr := timeout.NewAdaptive(c)
			assert.Nil(t, a)
			assert.EqualError(t, nerr, err.Error(), "NewAdaptive returns the Validate error")
		})
	}
	require.NoError(t, ok.Validate())
}

func nan() float64 { z := 0.0; return z / z }

func TestWithAdaptive_nil(t *testing.T) {
	v := panicValue(func() { timeout.WithAdaptive[int](nil) })
	err, _ := v.(error)
	require.ErrorIs(t, err, resilience.ErrInvalidConfig)
	assert.EqualError(t, err, "timeout: WithAdaptive(a) is nil, want an *Adaptive from NewAdaptive")
	a := newAdaptive(t, timeout.AdaptiveConfig{Max: time.Second})
	assert.PanicsWithValue(t, resilience.ErrNilFunc, func() { timeout.WithAdaptive[int](a)(nil) })
	var nilCtx context.Context
	_, err = timeout.WithAdaptive[int](a)(okOp)(nilCtx)
	assert.ErrorIs(t, err, resilience.ErrNilContext)
}

func newAdaptive(t *testing.T, c timeout.AdaptiveConfig) *timeout.Adaptive {
	t.Helper()
	a, err := timeout.NewAdaptive(c)
	require.NoError(t, err)
	return a
}

func okOp(context.Context) (int, error) { return 1, nil }

// warm runs calls of lognormal latency (median 20ms, σ 0.6) until a's
// warm-up is over, then n more.
func warm(t *testing.T, a *timeout.Adaptive, rng *rand.Rand, n int) {
	t.Helper()
	var lat time.Duration
	call := timeout.WithAdaptive[int](a)(sleepFor(&lat))
	w := lognormal(20*time.Millisecond, 0.6)
	for i := 0; a.Snapshot().WarmingUp || i < n; i++ {
		lat = w.sample(rng)
		_, _ = call(t.Context())
	}
}

func TestAdaptive_warmUpAtMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdaptive(t, timeout.AdaptiveConfig{TargetRate: 0.01, Max: 5 * time.Second, Warmup: 500})
		s := a.Snapshot()
		assert.Equal(t, timeout.AdaptiveSnapshot{Limit: 5 * time.Second, WarmingUp: true}, s)

		var lat time.Duration
		call := timeout.WithAdaptive[int](a)(sleepFor(&lat))
		rng := rand.New(rand.NewPCG(1, 2))
		w := lognormal(20*time.Millisecond, 0.6)
		for range 499 {
			lat = w.sample(rng)
			_, err := call(t.Context())
			require.NoError(t, err)
			require.Equal(t, 5*time.Second, a.Current(), "the limit is Max during the warm-up")
		}
		lat = w.sample(rng)
		_, err := call(t.Context())
		require.NoError(t, err)
		s = a.Snapshot()
		assert.False(t, s.WarmingUp)
		assert.Equal(t, uint64(500), s.Calls)
		// The estimate is the histogram bucket of the 99th percentile,
		// at most 9% above it, give or take the sampling.
		q := w.quantile(0.99)
		assert.InDelta(t, float64(q), float64(s.Limit), 0.25*float64(q), "first estimate %v, true p99 %v", s.Limit, q)
	})
}

func TestWithAdaptive_timeoutError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdaptive(t, timeout.AdaptiveConfig{TargetRate: 0.01, Max: 5 * time.Second, Warmup: 200})
		warm(t, a, rand.New(rand.NewPCG(1, 2)), 0)
		d := a.Current()
		require.Less(t, d, time.Second)

		start := time.Now()
		lat := time.Hour
		_, err := timeout.WithAdaptive[int](a)(sleepFor(&lat))(t.Context())
		assert.Equal(t, d, time.Since(start), "the call ends at its limit")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.True(t, resilience.IsTimeout(err))
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, d, te.Duration, "the error names the limit the call had")
		assert.Equal(t, "timeout after "+d.String()+": context deadline exceeded", err.Error())
		assert.True(t, retry.IsRetryable(err))
		assert.False(t, resilience.IsRejected(err))
		assert.Greater(t, a.Current(), d, "a timeout raises the limit")
	})
}

// A success that came after the limit (fn ignored its context) is still
// the call's result, and a timeout for the limit.
func TestWithAdaptive_lateSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdaptive(t, timeout.AdaptiveConfig{TargetRate: 0.01, Max: time.Second, Warmup: 200})
		warm(t, a, rand.New(rand.NewPCG(1, 2)), 0)
		before := a.Snapshot()
		v, err := timeout.WithAdaptive[string](a)(ignoring(2*time.Second, "late", nil))(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "late", v)
		after := a.Snapshot()
		assert.Equal(t, before.Timeouts+1, after.Timeouts)
		assert.Greater(t, after.Limit, before.Limit)
	})
}

// The caller's shorter deadline wins, its error comes back unchanged, and
// the call teaches nothing: it could not have timed out.
func TestWithAdaptive_parentDeadlineWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdaptive(t, timeout.AdaptiveConfig{Max: time.Minute})
		call := timeout.WithAdaptive[string](a)(waitFor(time.Hour, "late"))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := call(ctx)
		assert.Equal(t, time.Second, time.Since(start))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var te *timeout.Error
		assert.False(t, errors.As(err, &te), "the caller's deadline is not the policy's: %v", err)

		// A success under the caller's shorter deadline teaches nothing
		// either.
		ctx2, cancel2 := context.WithTimeout(t.Context(), time.Second)
		defer cancel2()
		_, err = timeout.WithAdaptive[string](a)(waitFor(time.Millisecond, "ok"))(ctx2)
		require.NoError(t, err)

		s := a.Snapshot()
		assert.Equal(t, uint64(0), s.Calls)
		assert.Equal(t, uint64(2), s.Skipped)
		assert.Equal(t, time.Minute, s.Limit)

		// A caller's deadline beyond the limit leaves the limit in charge.
		ctx3, cancel3 := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel3()
		_, err = call(ctx3)
		require.ErrorAs(t, err, &te)
		assert.Equal(t, time.Minute, te.Duration)
		assert.Equal(t, uint64(1), a.Snapshot().Timeouts)
	})
}

func TestWithAdaptive_callerCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdaptive(t, timeout.AdaptiveConfig{Max: time.Minute})
		call := timeout.WithAdaptive[string](a)(waitFor(time.Hour, "late"))
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		_, err := call(ctx)
		assert.ErrorIs(t, err, context.Canceled)

		_, err = call(ctx) // already canceled: fn is not called
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, timeout.AdaptiveSnapshot{Limit: time.Minute, Skipped: 2, WarmingUp: true}, a.Snapshot())
	})
}

type rejection struct{}

func (rejection) Error() string  { return "rejected" }
func (rejection) Rejected() bool { return true }

// A rejection (say, an open breaker inside the timeout) took no time at the
// dependency, so it says nothing about its latency.
func TestWithAdaptive_rejectionTeachesNothing(t *testing.T) {
	a := newAdaptive(t, timeout.AdaptiveConfig{Max: time.Minute})
	_, err := timeout.WithAdaptive[int](a)(func(context.Context) (int, error) { return 0, rejection{} })(t.Context())
	assert.Equal(t, rejection{}, err)
	s := a.Snapshot()
	assert.Equal(t, uint64(0), s.Calls)
	assert.Equal(t, uint64(1), s.Skipped)

	// Any other error within the limit is a call that did not time out.
	boom := errors.New("boom")
	_, err = timeout.WithAdaptive[int](a)(func(context.Context) (int, error) { return 0, boom })(t.Context())
	assert.Equal(t, boom, err)
	assert.Equal(t, uint64(1), a.Snapshot().Calls)
}

// Karn's rule: only a retry's first attempt teaches the limit.
func TestWithAdaptive_retriedAttemptsTeachNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdaptive(t, timeout.AdaptiveConfig{Max: time.Minute})
		var n atomic.Int64
		call := resilience.Compose(
			retry.Retry[int](retry.Config{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}),
			timeout.WithAdaptive[int](a),
		)(func(context.Context) (int, error) {
			if n.Add(1)%3 != 0 {
				return 0, errors.New("transient")
			}
			return 1, nil
		})
		for range 10 {
			v, err := call(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, v)
		}
		s := a.Snapshot()
		assert.Equal(t, uint64(10), s.Calls, "one first attempt per call")
		assert.Equal(t, uint64(20), s.Skipped, "two retried attempts per call")
	})
}

// The censoring case. A dependency that suddenly gets slower than the limit
// times out on every call; the limit must climb to Max and stay there, not
// collapse (as an estimator fed min(latency, limit) does).
func TestAdaptive_slowerThanTheLimitClimbsToMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const max = 3 * time.Second
		a := newAdaptive(t, timeout.AdaptiveConfig{TargetRate: 0.001, Max: max})
		rng := rand.New(rand.NewPCG(3, 4))
		warm(t, a, rng, 20_000)
		settled := a.Current()
		require.Less(t, settled, 200*time.Millisecond)

		// Now every call takes 10s (beyond Max): each one times out.
		lat := 10 * time.Second
		call := timeout.WithAdaptive[int](a)(sleepFor(&lat))
		prev, n := settled, 0
		for a.Current() < max {
			_, err := call(t.Context())
			require.ErrorIs(t, err, context.DeadlineExceeded)
			cur := a.Current()
			require.Greater(t, cur, prev, "every timeout raises the limit")
			prev = cur
			n++
			require.Less(t, n, 1000, "the limit did not reach Max")
		}
		t.Logf("limit %v → Max %v in %d timed-out calls", settled, max, n)
		for range 1000 {
			_, err := call(t.Context())
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Equal(t, max, a.Current(), "the limit stays at Max while the dependency is slower")
		}

		// Pinned at Max, it estimates afresh: when the dependency
		// recovers, the limit is back near where it was after one
		// warm-up (10,000 calls at this rate) and a few thousand more.
		assert.True(t, a.Snapshot().WarmingUp)
		warm(t, a, rng, 5_000)
		assert.Less(t, a.Current(), 3*settled/2, "after recovery: %v (settled before at %v)", a.Current(), settled)
	})
}

func TestAdaptive_minClamp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdaptive(t, timeout.AdaptiveConfig{TargetRate: 0.01, Min: 200 * time.Millisecond, Max: time.Second, Warmup: 100})
		warm(t, a, rand.New(rand.NewPCG(5, 6)), 5000)
		assert.Equal(t, 200*time.Millisecond, a.Current(), "latencies far below Min hold the limit at Min")
	})
}

// Calls from many goroutines: the counts add up, the limit stays within
// [Min, Max], the realised rate is still near the target, and the race
// detector sees the shared state.
func TestAdaptive_concurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const r = 0.01
		a := newAdaptive(t, timeout.AdaptiveConfig{TargetRate: r, Min: time.Millisecond, Max: time.Second, Warmup: 300})
		w := lognormal(20*time.Millisecond, 0.6)
		call := timeout.WithAdaptive[int](a)(func(ctx context.Context) (int, error) {
			lat := w.sample(rand.New(rand.NewPCG(rand.Uint64(), 0)))
			return sleepFor(&lat)(ctx)
		})
		workers, each := 8, 4000
		if raceEnabled {
			each = 500
		}
		var wg sync.WaitGroup
		var mid timeout.AdaptiveSnapshot
		var once sync.Once
		for range workers {
			wg.Go(func() {
				for i := range each {
					_, _ = call(t.Context())
					d := a.Current()
					if d < time.Millisecond || d > time.Second {
						t.Errorf("limit %v outside [1ms, 1s]", d)
					}
					if i == each/4 {
						once.Do(func() { mid = a.Snapshot() })
					}
				}
			})
		}
		wg.Wait()
		s := a.Snapshot()
		assert.Equal(t, uint64(workers*each), s.Calls+s.Skipped)
		assert.False(t, s.WarmingUp)
		if !raceEnabled {
			rate := float64(s.Timeouts-mid.Timeouts) / float64(s.Calls-mid.Calls)
			t.Logf("realised %.3f%% over the last %d calls from %d goroutines; limit %v (true p99 %v)",
				100*rate, s.Calls-mid.Calls, workers, s.Limit, w.quantile(1-r).Round(time.Millisecond))
			assert.GreaterOrEqual(t, rate, r/2)
			assert.LessOrEqual(t, rate, 2*r)
		}
	})
}

// Start applies the adaptive limit by hand: the context expires at the
// limit, end teaches the limit and wraps the error, once.
func TestAdaptive_startByHand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdaptive(t, timeout.AdaptiveConfig{Max: 100 * time.Millisecond})
		ctx, end := a.Start(t.Context())
		<-ctx.Done()
		err := end(ctx.Err())
		var te *timeout.Error
		if !errors.As(err, &te) || te.Duration != 100*time.Millisecond || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("end = %v, want a *timeout.Error of 100ms", err)
		}
		if err2 := end(ctx.Err()); !errors.As(err2, &te) {
			t.Errorf("a second end = %v, want the same wrapping", err2)
		}
		if s := a.Snapshot(); s.Calls != 1 || s.Timeouts != 1 {
			t.Errorf("Snapshot = %+v, want one call, one timeout (taught once)", s)
		}
		ctx, end = a.Start(t.Context())
		time.Sleep(10 * time.Millisecond)
		if err := end(nil); err != nil || ctx.Err() == nil {
			t.Errorf("end(nil) = %v, ctx.Err() = %v; want nil and the context released", err, ctx.Err())
		}
		if s := a.Snapshot(); s.Calls != 2 || s.Timeouts != 1 {
			t.Errorf("Snapshot = %+v, want two calls", s)
		}
	})
}

// A streak of timeouts that a right limit almost never sees (5 in a row
// for r = 1%) means the dependency got slower: the limit goes to Max at
// once and learns afresh, instead of failing calls while it climbs.
func TestAdaptive_aStreakOfTimeoutsGoesToMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdaptive(t, timeout.AdaptiveConfig{TargetRate: 0.01, Max: time.Second, Warmup: 100})
		var lat time.Duration
		call := timeout.WithAdaptive[int](a)(func(ctx context.Context) (int, error) {
			select {
			case <-time.After(lat):
				return 1, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		})
		lat = 10 * time.Millisecond
		for a.Snapshot().WarmingUp {
			_, _ = call(t.Context())
		}
		if a.Current() >= 100*time.Millisecond {
			t.Fatalf("limit %v after the warm-up on 10ms calls", a.Current())
		}
		lat = 200 * time.Millisecond // 20× slower
		failed := 0
		for range 10 {
			if _, err := call(t.Context()); err != nil {
				failed++
			}
		}
		if failed != 5 || a.Current() != time.Second || !a.Snapshot().WarmingUp {
			t.Errorf("%d calls failed, limit %v (warming up: %v); want 5 failures, then Max and a new warm-up", failed, a.Current(), a.Snapshot().WarmingUp)
		}
	})
}
