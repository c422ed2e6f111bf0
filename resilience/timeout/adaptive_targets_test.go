package timeout_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/timeout"
)

// The synthetic targets of the adaptive timeout: on each workload and
// target rate r, after the warm-up,
//
//   - the realised timeout rate is within [r/2, 2r];
//   - the mean limit is at most 1.15 times the true (1-r) quantile;
//   - after a ×4 latency step, the expected timeout rate at the limit is
//     back within 2r within 5,000 calls.
//
// The calls run one after another under synctest, with latencies from a
// seeded source, so 100,000 simulated calls of tens of milliseconds take
// well under a second of real time and every run sees the same sequence.

// simResult is what one simulated run measured.
type simResult struct {
	warmup   int     // calls until the first estimate
	calls    int     // calls in the measured window
	rate     float64 // realised timeout rate in it
	expected float64 // mean exact P(timeout) at the limits it had
	ratio    float64 // mean limit / true (1-r) quantile
	meanLim  time.Duration
	trueQ    time.Duration
	recovery int // calls after the step until back within 2r (step runs)

	// After the step (step runs), measured from 5,000 calls after it.
	stepRate, stepRatio float64
	stepQ               time.Duration
}

// simulate runs calls on w with target r; when step, the latency is
// multiplied by 4 halfway through the measured calls.
func simulate(t *testing.T, w workload, r float64, step bool) simResult {
	const seed = 7
	rng := rand.New(rand.NewPCG(seed, uint64(r*1e6)))
	a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{TargetRate: r, Max: 10 * time.Second})
	require.NoError(t, err)
	var lat time.Duration
	call := timeout.WithAdaptive[int](a)(sleepFor(&lat))

	settle := int(math.Ceil(10 / r)) // after the warm-up, before measuring
	measure := max(20_000, int(math.Ceil(100/r)))

	var res simResult
	one := func(w workload) (d time.Duration, timedOut bool) {
		d = a.Current()
		lat = w.sample(rng)
		_, err := call(t.Context())
		var te *timeout.Error
		if errors.As(err, &te) {
			require.Equal(t, d, te.Duration, "the error names the call's limit")
			return d, true
		}
		require.NoError(t, err)
		return d, false
	}
	for a.Snapshot().WarmingUp {
		one(w)
		res.warmup++
	}
	for range settle {
		one(w)
	}

	// window measures n calls on w.
	window := func(w workload, n int, exact []float64) (rate, expected, ratio float64, mean time.Duration) {
		q := w.quantile(1 - r)
		var timeouts int
		var sumRatio, sumExp, sumLim float64
		for i := range n {
			d, to := one(w)
			if to {
				timeouts++
			}
			p := w.exceed(d)
			if exact != nil {
				exact[i] = p
			}
			sumExp += p
			sumRatio += float64(d) / float64(q)
			sumLim += float64(d)
		}
		fn := float64(n)
		return float64(timeouts) / fn, sumExp / fn, sumRatio / fn, time.Duration(sumLim / fn)
	}

	res.calls = measure
	res.trueQ = w.quantile(1 - r)
	res.rate, res.expected, res.ratio, res.meanLim = window(w, measure, nil)
	if !step {
		return res
	}

	// The step: every latency ×4 from here on. recovery is the first call
	// n after it from which the exact timeout rate, averaged over the
	// next 1,000 calls, is within 2r.
	w4 := scaled(w, 4)
	const span = 1000
	exact := make([]float64, 5000+span)
	window(w4, len(exact), exact)
	res.recovery = -1
	for n := 0; n+span <= len(exact); n++ {
		var sum float64
		for _, p := range exact[n : n+span] {
			sum += p
		}
		if sum/span <= 2*r {
			res.recovery = n
			break
		}
	}
	// Measured again after the step, on the new distribution.
	res.stepQ = w4.quantile(1 - r)
	res.stepRate, _, res.stepRatio, _ = window(w4, measure, nil)
	return res
}

func TestAdaptive_syntheticTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates about 2 million calls")
	}
	base := lognormal(20*time.Millisecond, 0.6)
	bimodal := mixture("bimodal", lognormal(10*time.Millisecond, 0.3), lognormal(500*time.Millisecond, 0.3), 0.02)
	cases := []struct {
		name string
		w    workload
		step bool
	}{
		{"lognormal", base, false},
		{"bimodal", bimodal, false},
		{"step×4", base, true},
	}
	for _, r := range []float64{0.01, 0.001} {
		if r < 0.01 && raceEnabled {
			t.Log("r=0.1% skipped under the race detector: sequential, and ten times slower")
			continue
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/r=%g", tc.name, r), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					res := simulate(t, tc.w, r, tc.step)
					t.Logf("warm-up %d calls; %d calls measured: realised %.4f%% (exact %.4f%%) for %.2g%%, mean limit %v = %.3f× true p(1-r) %v",
						res.warmup, res.calls, 100*res.rate, 100*res.expected, 100*r, res.meanLim.Round(time.Millisecond), res.ratio, res.trueQ.Round(time.Millisecond))
					assert.GreaterOrEqual(t, res.rate, r/2, "realised timeout rate")
					assert.LessOrEqual(t, res.rate, 2*r, "realised timeout rate")
					assert.LessOrEqual(t, res.ratio, 1.15, "mean limit / true quantile")
					if tc.step {
						t.Logf("after the ×4 step: back within 2r after %d calls; from call 5,000 after it, %d calls: realised %.4f%%, mean limit %.3f× the new true p(1-r) %v",
							res.recovery, res.calls, 100*res.stepRate, res.stepRatio, res.stepQ.Round(time.Millisecond))
						assert.GreaterOrEqual(t, res.recovery, 0, "never back within 2r")
						assert.LessOrEqual(t, res.recovery, 5000, "calls to recover from the step")
						assert.GreaterOrEqual(t, res.stepRate, r/2)
						assert.LessOrEqual(t, res.stepRate, 2*r)
						assert.LessOrEqual(t, res.stepRatio, 1.15)
					}
				})
			})
		}
	}
}
