package timeout_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
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

func TestPredictorConfig_Validate(t *testing.T) {
	ok := timeout.PredictorConfig{Max: time.Second, Features: 2}
	tests := []struct {
		name  string
		edit  func(*timeout.PredictorConfig)
		field string
	}{
		{"no features", func(c *timeout.PredictorConfig) { c.Features = 0 }, "Features"},
		{"too many features", func(c *timeout.PredictorConfig) { c.Features = 65 }, "Features"},
		{"zero Max", func(c *timeout.PredictorConfig) { c.Max = 0 }, "Max"},
		{"Min above Max", func(c *timeout.PredictorConfig) { c.Min = time.Minute }, "Min"},
		{"rate", func(c *timeout.PredictorConfig) { c.TargetRate = 0.7 }, "TargetRate"},
		{"Warmup", func(c *timeout.PredictorConfig) { c.Warmup = -2 }, "Warmup"},
		{"Step", func(c *timeout.PredictorConfig) { c.Step = 2 }, "Step"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			require.ErrorIs(t, err, resilience.ErrInvalidConfig)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "PredictorConfig."+tc.field, ce.Field)
			p, nerr := timeout.NewPredictor(c)
			assert.Nil(t, p)
			assert.EqualError(t, nerr, err.Error())
		})
	}
	require.NoError(t, ok.Validate())
}

func TestWithPredicted_badInput(t *testing.T) {
	p, err := timeout.NewPredictor(timeout.PredictorConfig{Max: time.Second, Features: 2})
	require.NoError(t, err)
	feats := func(context.Context) []float64 { return []float64{1, 2} }

	v := panicValue(func() { timeout.WithPredicted[int](nil, feats) })
	perr, _ := v.(error)
	assert.EqualError(t, perr, "timeout: WithPredicted(p) is nil, want a *Predictor from NewPredictor")
	v = panicValue(func() { timeout.WithPredicted[int](p, nil) })
	perr, _ = v.(error)
	assert.EqualError(t, perr, "timeout: WithPredicted(features) is nil, want a func")
	assert.PanicsWithValue(t, resilience.ErrNilFunc, func() { timeout.WithPredicted[int](p, feats)(nil) })

	var called atomic.Int64
	fn := func(context.Context) (int, error) { called.Add(1); return 1, nil }
	for _, x := range [][]float64{nil, {1}, {1, 2, 3}, {1, math.NaN()}, {math.Inf(1), 0}} {
		_, err := timeout.WithPredicted[int](p, func(context.Context) []float64 { return x })(fn)(t.Context())
		var ce *resilience.ConfigError
		require.ErrorAs(t, err, &ce, "features %v", x)
		assert.Equal(t, "WithPredicted(features) result", ce.Field)
		assert.True(t, resilience.IsRejected(err))
		assert.Equal(t, p.Fallback().Current(), p.Predict(x), "a bad x gets the fallback's limit")
	}
	assert.Zero(t, called.Load(), "fn is not called with bad features")

	var nilCtx context.Context
	_, err = timeout.WithPredicted[int](p, feats)(fn)(nilCtx)
	assert.ErrorIs(t, err, resilience.ErrNilContext)
}

// trainSized runs n sized calls through p with ln(size) as the feature.
func trainSized(t *testing.T, p *timeout.Predictor, rng *rand.Rand, n int) {
	t.Helper()
	var cur sizedCall
	var applied time.Duration
	call := timeout.WithPredicted[int](p, func(context.Context) []float64 {
		return []float64{math.Log(float64(cur.base) / float64(time.Millisecond))}
	})(sizedOp(&cur, &applied))
	runSized(t, rng, &cur, &applied, call, n, 0)
}

// The model learns what the feature says: a larger payload gets a longer
// limit, and the weight on ln(size) is about 1 (latency in proportion to
// size).
func TestPredictor_learnsTheFeature(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := timeout.NewPredictor(timeout.PredictorConfig{TargetRate: 0.01, Max: 10 * time.Second, Features: 1})
		require.NoError(t, err)
		trainSized(t, p, rand.New(rand.NewPCG(1, 1)), 60_000)
		s := p.Snapshot()
		t.Logf("ln(limit/s) = %.3f + %.3f·ln(size/ms), predicting %v, advantage %.3f, model rate %.4f%% over %d calls",
			s.Intercept, s.Weights[0], s.Predicting, s.Advantage, 100*s.Rate, s.Calls)
		require.True(t, s.Predicting)
		assert.InDelta(t, 1, s.Weights[0], 0.3)
		small, large := p.Predict([]float64{math.Log(10)}), p.Predict([]float64{math.Log(200)})
		assert.Greater(t, large, 10*small, "10ms payload: %v, 200ms payload: %v", small, large)
		// The 99th percentile of a 200ms payload is 200ms·e^(0.3·2.33) = 403ms.
		assert.InDelta(t, float64(403*time.Millisecond), float64(large), float64(100*time.Millisecond))
		// The exposed model gives the prediction.
		x := math.Log(50)
		assert.InDelta(t, math.Exp(s.Intercept+s.Weights[0]*x), p.Predict([]float64{x}).Seconds(), 0.001)
	})
}

// A feature that says nothing about latency gives no shorter limits, so
// calls keep the fallback's limit.
func TestPredictor_fallsBackWhenNoBetter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := timeout.NewPredictor(timeout.PredictorConfig{TargetRate: 0.01, Max: 10 * time.Second, Features: 1})
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(2, 2))
		w := lognormal(20*time.Millisecond, 0.6)
		var lat time.Duration
		call := timeout.WithPredicted[int](p, func(context.Context) []float64 {
			return []float64{rng.Float64()} // noise
		})(sleepFor(&lat))
		var predicting int
		for i := range 60_000 {
			lat = w.sample(rng)
			_, _ = call(t.Context())
			if i > 20_000 && p.Snapshot().Predicting {
				predicting++
			}
		}
		s := p.Snapshot()
		t.Logf("weight %.3f, advantage %.3f, predicting on %d of the last 40,000 calls; fallback %v, rate %.3f%%; model rate %.3f%% of %d",
			s.Weights[0], s.Advantage, predicting, s.Fallback.Limit, 100*s.Fallback.Rate, 100*s.Rate, s.Calls)
		assert.Less(t, predicting, 4_000, "the model was in use on more than a tenth of the calls")
		assert.False(t, s.Predicting)
		x := []float64{0.5}
		assert.Equal(t, p.Fallback().Current(), p.Predict(x))
	})
}

// The censoring case for the model: a dependency that turns slower than
// every limit makes every call time out, and the model's limits climb to
// Max with the fallback's.
func TestPredictor_slowerThanTheLimitClimbsToMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const max = 3 * time.Second
		p, err := timeout.NewPredictor(timeout.PredictorConfig{TargetRate: 0.01, Max: max, Features: 1})
		require.NoError(t, err)
		trainSized(t, p, rand.New(rand.NewPCG(3, 3)), 60_000)
		require.True(t, p.Snapshot().Predicting)
		x := []float64{math.Log(100)}
		before := p.Predict(x)
		require.Less(t, before, time.Second)

		lat := time.Hour
		call := timeout.WithPredicted[int](p, func(context.Context) []float64 { return x })(sleepFor(&lat))
		n := 0
		for p.Predict(x) < max || p.Fallback().Current() < max {
			_, err := call(t.Context())
			require.ErrorIs(t, err, context.DeadlineExceeded)
			n++
			require.Less(t, n, 2000, "limits did not reach Max: model %v, fallback %v", p.Predict(x), p.Fallback().Current())
		}
		t.Logf("limit for a 100ms payload %v → Max in %d timed-out calls", before, n)
	})
}

// Karn's rule holds for the model too.
func TestWithPredicted_retriedAttemptsTeachNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := timeout.NewPredictor(timeout.PredictorConfig{Max: time.Minute, Features: 1})
		require.NoError(t, err)
		var n atomic.Int64
		call := resilience.Compose(
			retry.Retry[int](retry.Config{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}),
			timeout.WithPredicted[int](p, func(context.Context) []float64 { return []float64{1} }),
		)(func(context.Context) (int, error) {
			if n.Add(1)%2 != 0 {
				return 0, errors.New("transient")
			}
			return 1, nil
		})
		for range 10 {
			_, err := call(t.Context())
			require.NoError(t, err)
		}
		s := p.Snapshot()
		assert.Equal(t, uint64(10), s.Fallback.Calls)
		assert.Equal(t, uint64(10), s.Fallback.Skipped)
	})
}

// Calls from many goroutines, for the race detector: the model's numbers
// are shared atomics written by every call.
func TestPredictor_concurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := timeout.NewPredictor(timeout.PredictorConfig{TargetRate: 0.01, Max: time.Second, Features: 2, Warmup: 200})
		require.NoError(t, err)
		call := timeout.WithPredicted[int](p, func(ctx context.Context) []float64 {
			return []float64{rand.Float64(), rand.NormFloat64()}
		})(func(ctx context.Context) (int, error) {
			lat := rand.N(50 * time.Millisecond)
			return sleepFor(&lat)(ctx)
		})
		const workers, each = 8, 300
		done := make(chan struct{})
		for range workers {
			go func() {
				defer func() { done <- struct{}{} }()
				for range each {
					_, _ = call(t.Context())
					if d := p.Predict([]float64{0.5, 0}); d <= 0 || d > time.Second {
						t.Errorf("limit %v outside (0, 1s]", d)
					}
				}
			}()
		}
		for range workers {
			<-done
		}
		// Each call teaches the fallback, the model or (a probe) both, or
		// is skipped.
		s := p.Snapshot()
		assert.False(t, s.Fallback.WarmingUp)
		assert.GreaterOrEqual(t, s.Fallback.Calls+s.Fallback.Skipped+s.Calls, uint64(workers*each))
		assert.LessOrEqual(t, s.Fallback.Calls+s.Fallback.Skipped, uint64(workers*each))
	})
}
