package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/timeout"
)

// The predictor's target: on latency proportional to a payload size
// (5-205ms, uniform, times lognormal noise of σ 0.3), with ln(size) as its
// feature, the same realised timeout rate as the Adaptive with a mean limit
// at least 25% lower.

const sizeSigma = 0.3

// sizedCall is one simulated call: its size in ms of base latency.
type sizedCall struct{ base, lat time.Duration }

func nextSized(rng *rand.Rand) sizedCall {
	base := time.Duration(float64(5*time.Millisecond) + rng.Float64()*float64(200*time.Millisecond))
	return sizedCall{base, time.Duration(float64(base) * math.Exp(sizeSigma*rng.NormFloat64()))}
}

// exceedSized is P(latency > d) for a call of this base.
func (c sizedCall) exceed(d time.Duration) float64 {
	return 1 - normCDF(math.Log(float64(d)/float64(c.base))/sizeSigma)
}

type sizedResult struct {
	rate, expected float64
	meanLimit      time.Duration
}

// runSized makes warm+measure calls through call, which must be built over
// op; cur is set before each call. It measures the last measure calls.
func runSized(t *testing.T, rng *rand.Rand, cur *sizedCall, applied *time.Duration, call resilience.Func[int], warm, measure int) sizedResult {
	var timeouts int
	var sumExp, sumLim float64
	for i := range warm + measure {
		*cur = nextSized(rng)
		_, err := call(t.Context())
		var te *timeout.Error
		to := errors.As(err, &te)
		if !to {
			require.NoError(t, err)
		}
		if i < warm {
			continue
		}
		if to {
			timeouts++
		}
		sumExp += cur.exceed(*applied)
		sumLim += float64(*applied)
	}
	n := float64(measure)
	return sizedResult{float64(timeouts) / n, sumExp / n, time.Duration(sumLim / n)}
}

// sizedOp is the dependency: it takes cur.lat, and records the limit it
// was given (exact under synctest, where no time passes before it reads).
func sizedOp(cur *sizedCall, applied *time.Duration) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		dl, _ := ctx.Deadline()
		*applied = time.Until(dl)
		return sleepFor(&cur.lat)(ctx)
	}
}

func TestPredictor_sizeTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates about a million calls")
	}
	for _, r := range []float64{0.01, 0.001} {
		if r < 0.01 && raceEnabled {
			t.Log("r=0.1% skipped under the race detector: sequential, and ten times slower")
			continue
		}
		t.Run(fmt.Sprintf("r=%g", r), func(t *testing.T) {
			warm := int(400 / r)
			if r < 0.005 {
				warm = int(300 / r)
			}
			measure := max(50_000, int(200/r))
			var ad, pr sizedResult
			synctest.Test(t, func(t *testing.T) {
				var cur sizedCall
				var applied time.Duration
				a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{TargetRate: r, Max: 10 * time.Second})
				require.NoError(t, err)
				ad = runSized(t, rand.New(rand.NewPCG(11, 12)), &cur, &applied,
					timeout.WithAdaptive[int](a)(sizedOp(&cur, &applied)), warm, measure)
			})
			var snap timeout.PredictorSnapshot
			synctest.Test(t, func(t *testing.T) {
				var cur sizedCall
				var applied time.Duration
				p, err := timeout.NewPredictor(timeout.PredictorConfig{TargetRate: r, Max: 10 * time.Second, Features: 1})
				require.NoError(t, err)
				features := func(context.Context) []float64 {
					return []float64{math.Log(float64(cur.base) / float64(time.Millisecond))}
				}
				pr = runSized(t, rand.New(rand.NewPCG(11, 12)), &cur, &applied,
					timeout.WithPredicted[int](p, features)(sizedOp(&cur, &applied)), warm, measure)
				snap = p.Snapshot()
			})
			t.Logf("%d calls measured after %d: adaptive realised %.4f%% (exact %.4f%%), mean limit %v",
				measure, warm, 100*ad.rate, 100*ad.expected, ad.meanLimit.Round(time.Millisecond))
			t.Logf("predictor realised %.4f%% (exact %.4f%%), mean limit %v = %.1f%% lower; model ln(limit/s) = %.3f + %.3f·ln(size/ms), predicting %v, advantage %.3f",
				100*pr.rate, 100*pr.expected, pr.meanLimit.Round(time.Millisecond), 100*(1-float64(pr.meanLimit)/float64(ad.meanLimit)),
				snap.Intercept, snap.Weights[0], snap.Predicting, snap.Advantage)
			assert.True(t, snap.Predicting)
			assert.GreaterOrEqual(t, pr.rate, r/2)
			assert.LessOrEqual(t, pr.rate, 2*r)
			assert.LessOrEqual(t, float64(pr.meanLimit), 0.75*float64(ad.meanLimit), "at least 25% lower")
		})
	}
}
