package monitor_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

const (
	success  = resilience.OutcomeSuccess
	failure  = resilience.OutcomeFailure
	timedOut = resilience.OutcomeTimeout
	canceled = resilience.OutcomeCanceled
	deadline = resilience.OutcomeDeadline
	rejected = resilience.OutcomeRejected
)

// newMetrics returns a Metrics made by NewMetrics from a valid cfg.
func newMetrics(t testing.TB, cfg monitor.Config) *monitor.Metrics {
	t.Helper()
	m, err := monitor.NewMetrics(cfg)
	require.NoError(t, err)
	return m
}

func TestMetrics_exactMeanAndMax(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	m.Record(1*time.Millisecond, success)
	m.Record(2*time.Millisecond, failure)
	m.Record(6*time.Millisecond, success)

	s := m.Snapshot()
	assert.Equal(t, int64(3), s.Total)
	assert.Equal(t, 3*time.Millisecond, s.Mean, "sum/count, not a running average")
	assert.Equal(t, 6*time.Millisecond, s.Max)
}

func TestMetrics_meanIsExactForUnevenSums(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	for _, d := range []time.Duration{1, 2, 2, 1000, 7 * time.Hour} {
		m.Record(d, success)
	}
	assert.Equal(t, (1+2+2+1000+7*time.Hour)/5, m.Snapshot().Mean)
}

func TestMetrics_meanDoesNotOverflow(t *testing.T) {
	// 4 calls of 2^62ns sum to 2^64ns, past int64 and uint64 both.
	m := newMetrics(t, monitor.Config{})
	const huge = time.Duration(1) << 62
	for range 4 {
		m.Record(huge, success)
	}
	m.Record(0, success)
	s := m.Snapshot()
	assert.Equal(t, time.Duration(3689348814741910323), s.Mean) // 2^64/5 rounded down
	assert.Equal(t, huge, s.Max)
}

func TestMetrics_meanAcrossResetPastTwoTo64(t *testing.T) {
	// The summed durations cross 2^64 after Reset: the new phase's sum,
	// 2^63, is the high word's carry less the baseline's borrow.
	m := newMetrics(t, monitor.Config{})
	const huge = time.Duration(1) << 62
	for range 3 {
		m.Record(huge, success)
	}
	m.Reset()
	m.Record(huge, success)
	m.Record(huge, failure) // 5 × 2^62 in all: past 2^64
	s := m.Snapshot()
	assert.Equal(t, int64(2), s.Total)
	assert.Equal(t, huge, s.Mean)
	assert.Equal(t, huge, s.Max)
}

func TestMetrics_outcomes(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	m.Record(time.Millisecond, success)
	m.Record(time.Millisecond, success)
	m.Record(time.Millisecond, failure)
	m.Record(time.Millisecond, timedOut)
	m.Record(time.Millisecond, deadline)
	m.Record(time.Millisecond, canceled)
	m.Record(time.Millisecond, rejected)
	m.Record(time.Millisecond, rejected)
	m.Record(time.Millisecond, resilience.Outcome(42))

	s := m.Snapshot()
	assert.Equal(t, int64(9), s.Total)
	assert.Equal(t, int64(2), s.Successes)
	assert.Equal(t, int64(2), s.Failures, "an unknown outcome counts as a failure; a rejection does not")
	assert.Equal(t, int64(2), s.Timeouts, "timeout and deadline are both timeouts")
	assert.Equal(t, int64(1), s.Canceled)
	assert.Equal(t, int64(2), s.Rejected)
	assert.Equal(t, s.Total, s.Successes+s.Failures+s.Timeouts+s.Canceled+s.Rejected)
	assert.InDelta(t, 2.0/6.0, s.TimeoutRate, 1e-12, "canceled and rejected calls are left out of the rate")
}

func TestMetrics_timeoutRate(t *testing.T) {
	tests := []struct {
		name     string
		outcomes []resilience.Outcome
		want     float64
	}{
		{"no calls", nil, 0},
		{"only canceled", []resilience.Outcome{canceled, canceled}, 0},
		{"only rejected", []resilience.Outcome{rejected, rejected}, 0},
		{"rejections do not dilute it", []resilience.Outcome{timedOut, timedOut, success, rejected, rejected, rejected, rejected}, 2.0 / 3.0},
		{"no timeouts", []resilience.Outcome{success, failure}, 0},
		{"all timeouts", []resilience.Outcome{timedOut, deadline}, 1},
		{"one in four", []resilience.Outcome{timedOut, success, success, failure, canceled}, 0.25},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMetrics(t, monitor.Config{})
			for _, o := range tc.outcomes {
				m.Record(time.Millisecond, o)
			}
			assert.Equal(t, tc.want, m.Snapshot().TimeoutRate)
		})
	}
}

func TestMetrics_rejectedKeptOutOfDurations(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	m.Record(1*time.Millisecond, success)
	m.Record(2*time.Millisecond, failure)
	m.Record(6*time.Millisecond, timedOut)
	for range 100 {
		// The duration of a rejected call is ignored, however long.
		m.Record(time.Hour, rejected)
	}

	s := m.Snapshot()
	assert.Equal(t, int64(103), s.Total)
	assert.Equal(t, int64(100), s.Rejected)
	assert.Equal(t, 3*time.Millisecond, s.Mean, "summed duration / (Total - Rejected)")
	assert.Equal(t, 6*time.Millisecond, s.Max)
	assert.LessOrEqual(t, s.P50, 2*time.Millisecond+2*time.Millisecond/16)
	assert.LessOrEqual(t, s.P99, 6*time.Millisecond)
	assert.InDelta(t, 1.0/3.0, s.TimeoutRate, 1e-12)
}

func TestMetrics_onlyRejected(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	m.Record(time.Second, rejected)
	m.Record(time.Second, rejected)
	assert.Equal(t, monitor.Stats{Total: 2, Rejected: 2}, m.Snapshot(), "no durations, no rate")
}

func TestMetrics_negativeDurationCountsAsZero(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	m.Record(-time.Second, success)
	s := m.Snapshot()
	assert.Equal(t, int64(1), s.Total)
	assert.Zero(t, s.Mean)
	assert.Zero(t, s.Max)
	assert.Zero(t, s.P99)
}

func TestMetrics_percentilesWithinStatedError(t *testing.T) {
	const bound = 0.0625 // the doc's 6.25%
	distributions := []struct {
		name string
		ds   []time.Duration
	}{
		{"uniform 1ms..1000ms", func() []time.Duration {
			ds := make([]time.Duration, 1000)
			for i := range ds {
				ds[i] = time.Duration(i+1) * time.Millisecond
			}
			return ds
		}()},
		{"log-uniform 1µs..1h", func() []time.Duration {
			r := rand.New(rand.NewPCG(1, 2))
			ds := make([]time.Duration, 20000)
			for i := range ds {
				// 1µs * 3.6e9^u for u uniform in [0,1)
				ds[i] = time.Duration(1e3 * math.Pow(3.6e9, r.Float64()))
			}
			return ds
		}()},
		{"bimodal: fast hits, slow misses", func() []time.Duration {
			r := rand.New(rand.NewPCG(3, 4))
			ds := make([]time.Duration, 10000)
			for i := range ds {
				if i%20 == 0 {
					ds[i] = 800*time.Millisecond + time.Duration(r.Int64N(int64(400*time.Millisecond)))
				} else {
					ds[i] = 2*time.Millisecond + time.Duration(r.Int64N(int64(time.Millisecond)))
				}
			}
			return ds
		}()},
		{"all equal", func() []time.Duration {
			ds := make([]time.Duration, 100)
			for i := range ds {
				ds[i] = 1234567 * time.Nanosecond
			}
			return ds
		}()},
	}
	for _, dist := range distributions {
		t.Run(dist.name, func(t *testing.T) {
			m := newMetrics(t, monitor.Config{})
			for _, d := range dist.ds {
				m.Record(d, success)
			}
			s := m.Snapshot()
			sorted := sortedCopy(dist.ds)
			for _, p := range []struct {
				q   float64
				got time.Duration
			}{{0.50, s.P50}, {0.90, s.P90}, {0.99, s.P99}} {
				want := nearestRank(sorted, p.q)
				assert.InEpsilon(t, float64(want), float64(p.got), bound, "p%v: got %v, want %v", p.q*100, p.got, want)
				assert.LessOrEqual(t, p.got, s.Max)
			}
			assert.Equal(t, sorted[len(sorted)-1], s.Max)
		})
	}
}

func TestMetrics_percentilesBelow512ns(t *testing.T) {
	// Below 512ns the buckets are 32ns wide: an absolute bound.
	m := newMetrics(t, monitor.Config{})
	for d := time.Duration(1); d <= 500; d++ {
		m.Record(d, success)
	}
	s := m.Snapshot()
	assert.InDelta(t, 250, int64(s.P50), 32)
	assert.InDelta(t, 450, int64(s.P90), 32)
	assert.InDelta(t, 495, int64(s.P99), 32)
}

func TestMetrics_zeroValueRecords(t *testing.T) {
	var m monitor.Metrics
	assert.Equal(t, monitor.Stats{}, m.Snapshot())
	m.Record(2*time.Millisecond, success)
	m.Record(4*time.Millisecond, failure)
	s := m.Snapshot()
	assert.Equal(t, int64(2), s.Total)
	assert.Equal(t, int64(1), s.Successes)
	assert.Equal(t, int64(1), s.Failures)
	assert.Equal(t, 3*time.Millisecond, s.Mean)
	assert.Equal(t, 4*time.Millisecond, s.Max)
}

func TestMetrics_resetClearsCountsKeepsGauge(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	m.Record(time.Second, timedOut)
	m.Record(time.Second, failure)
	m.Record(time.Second, rejected)
	m.Abandoned().Add(2)
	m.Reset()

	s := m.Snapshot()
	assert.Equal(t, monitor.Stats{Abandoned: 2}, s, "counts and durations cleared, the gauge of running work kept")

	m.Record(1*time.Millisecond, success)
	m.Record(3*time.Millisecond, success)
	s = m.Snapshot()
	assert.Equal(t, int64(2), s.Total)
	assert.Equal(t, int64(2), s.Successes)
	assert.Zero(t, s.Timeouts)
	assert.Equal(t, 2*time.Millisecond, s.Mean)
	assert.Equal(t, 3*time.Millisecond, s.Max, "Max from before Reset is gone")
	assert.LessOrEqual(t, s.P99, 3*time.Millisecond, "the histogram restarts too")

	m.Reset()
	m.Reset()
	assert.Zero(t, m.Snapshot().Total)
}

func TestMetrics_concurrentRecordExactTotals(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	const goroutines, perGoroutine = 16, 2000
	outcomes := []resilience.Outcome{success, failure, timedOut, canceled, rejected}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				m.Record(time.Duration(g*perGoroutine+i+1)*time.Microsecond, outcomes[i%len(outcomes)])
			}
		})
	}
	// Read while writing: must not race or go backwards.
	var last int64
	for range 20 {
		s := m.Snapshot()
		assert.GreaterOrEqual(t, s.Total, last)
		last = s.Total
	}
	wg.Wait()

	s := m.Snapshot()
	const n = goroutines * perGoroutine
	assert.Equal(t, int64(n), s.Total)
	assert.Equal(t, int64(n/5), s.Successes)
	assert.Equal(t, int64(n/5), s.Failures)
	assert.Equal(t, int64(n/5), s.Timeouts)
	assert.Equal(t, int64(n/5), s.Canceled)
	assert.Equal(t, int64(n/5), s.Rejected)
	// Every fifth call, the k-th µs for k = 5, 10, ..., n, was rejected:
	// the others sum to n(n+1)/2 - 5(n/5)(n/5+1)/2 µs over 4n/5 calls.
	const sum = n*(n+1)/2 - 5*(n/5)*(n/5+1)/2
	assert.Equal(t, time.Duration(n-1)*time.Microsecond, s.Max, "the longest, nµs, was rejected")
	assert.Equal(t, time.Duration(sum)*time.Microsecond/(4*n/5), s.Mean, "mean of the calls not rejected")
}

func TestMetrics_nilDoesNothing(t *testing.T) {
	var m *monitor.Metrics
	m.Record(time.Second, success)
	m.Reset()
	assert.Equal(t, monitor.Stats{}, m.Snapshot())
	g := m.Abandoned()
	g.Add(1)
	assert.Zero(t, g.Value())
}

func TestGauge_goesUpAndDown(t *testing.T) {
	var g monitor.Gauge
	assert.Zero(t, g.Value())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				g.Add(1)
				g.Add(-1)
			}
			g.Add(2)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(16), g.Value())

	var m monitor.Metrics
	m.Abandoned().Add(3)
	m.Abandoned().Add(-1)
	assert.Equal(t, int64(2), m.Snapshot().Abandoned)
}

func TestStats_String_oneLineSummary(t *testing.T) {
	s := monitor.Stats{
		Total: 13, Successes: 6, Failures: 1, Timeouts: 2, Canceled: 1, Rejected: 3, Abandoned: 1,
		Mean: 3*time.Millisecond + 141592*time.Nanosecond, Max: 2 * time.Second,
		P50: 2 * time.Millisecond, P90: 1500 * time.Microsecond, P99: 1234567890,
		TimeoutRate: 2.0 / 9.0,
	}
	assert.Equal(t, "total=13 ok=6 failed=1 timeouts=2 canceled=1 rejected=3 abandoned=1 mean=3.142ms p50=2ms p90=1.5ms p99=1.235s max=2s timeout_rate=22.2%", s.String())
	assert.Equal(t, "total=0 ok=0 failed=0 timeouts=0 canceled=0 rejected=0 abandoned=0 mean=0s p50=0s p90=0s p99=0s max=0s timeout_rate=0.0%", monitor.Stats{}.String())
	assert.Contains(t, monitor.Stats{Rejected: 99}.String(), " rejected=99 ")
}

// TestMetrics_snapshotDuringReset takes Snapshots while other goroutines
// Record and Reset: whatever mix of phases a Snapshot sees, no count,
// duration or rate goes below zero (nor the rate above one).
func TestMetrics_snapshotDuringReset(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			outcomes := []resilience.Outcome{success, failure, timedOut, canceled, rejected}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m.Record(time.Duration(i%1000)*time.Microsecond, outcomes[i%len(outcomes)])
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			m.Reset()
		}
	})
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for i := range 5000 {
		s := m.Snapshot()
		for _, f := range []struct {
			name string
			v    int64
		}{
			{"Total", s.Total}, {"Successes", s.Successes}, {"Failures", s.Failures},
			{"Timeouts", s.Timeouts}, {"Canceled", s.Canceled}, {"Rejected", s.Rejected},
			{"Mean", int64(s.Mean)}, {"Max", int64(s.Max)},
			{"P50", int64(s.P50)}, {"P90", int64(s.P90)}, {"P99", int64(s.P99)},
		} {
			if f.v < 0 {
				t.Fatalf("snapshot %d: %s is %d: %v", i, f.name, f.v, s)
			}
		}
		if s.TimeoutRate < 0 || s.TimeoutRate > 1 {
			t.Fatalf("snapshot %d: TimeoutRate is %v: %v", i, s.TimeoutRate, s)
		}
	}
}
