package timeout_test

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// A workload is a latency distribution for simulated calls, known exactly
// so that a test can compare a learned limit with the true quantile.
type workload struct {
	name   string
	sample func(rng *rand.Rand) time.Duration
	cdf    func(d time.Duration) float64 // P(latency <= d)
}

// lognormal is latency with the given median and σ of its logarithm.
func lognormal(median time.Duration, sigma float64) workload {
	return workload{
		name: "lognormal",
		sample: func(rng *rand.Rand) time.Duration {
			return time.Duration(float64(median) * math.Exp(sigma*rng.NormFloat64()))
		},
		cdf: func(d time.Duration) float64 {
			if d <= 0 {
				return 0
			}
			return normCDF(math.Log(float64(d)/float64(median)) / sigma)
		},
	}
}

// mixture picks b with probability pb, else a.
func mixture(name string, a, b workload, pb float64) workload {
	return workload{
		name: name,
		sample: func(rng *rand.Rand) time.Duration {
			if rng.Float64() < pb {
				return b.sample(rng)
			}
			return a.sample(rng)
		},
		cdf: func(d time.Duration) float64 { return (1-pb)*a.cdf(d) + pb*b.cdf(d) },
	}
}

// scaled is w with every latency multiplied by f.
func scaled(w workload, f float64) workload {
	return workload{
		name:   w.name,
		sample: func(rng *rand.Rand) time.Duration { return time.Duration(float64(w.sample(rng)) * f) },
		cdf:    func(d time.Duration) float64 { return w.cdf(time.Duration(float64(d) / f)) },
	}
}

// quantile returns the q quantile of w, by bisection on its cdf.
func (w workload) quantile(q float64) time.Duration {
	lo, hi := math.Log(float64(time.Nanosecond)), math.Log(float64(time.Hour))
	for range 200 {
		mid := (lo + hi) / 2
		if w.cdf(time.Duration(math.Exp(mid))) < q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Duration(math.Exp(hi))
}

// exceed is P(latency > d).
func (w workload) exceed(d time.Duration) float64 { return 1 - w.cdf(d) }

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// sleepFor returns an operation that takes *lat (read when it starts), or
// less when its context ends first: a well-behaved dependency whose
// latency the simulation sets before each call.
func sleepFor(lat *time.Duration) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		t := time.NewTimer(*lat)
		defer t.Stop()
		select {
		case <-t.C:
			return 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
