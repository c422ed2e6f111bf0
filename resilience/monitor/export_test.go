package monitor_test

import (
	"context"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

func TestHistogram_matchesSnapshot(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	var h monitor.Histogram
	m.Histogram(&h)
	assert.Zero(t, h.Count())
	assert.Zero(t, h.Quantile(0.99), "empty")
	for range h.Buckets() {
		t.Fatal("an empty histogram has no buckets")
	}

	durations := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 100 * time.Millisecond}
	var sum time.Duration
	for _, d := range durations {
		m.Record(d, resilience.OutcomeSuccess)
		sum += d
	}
	m.Record(time.Hour, resilience.OutcomeRejected) // no duration: not in it
	m.Histogram(&h)
	s := m.Snapshot()

	assert.Equal(t, int64(4), h.Count())
	assert.Equal(t, sum, h.Sum(), "the sum is exact")
	assert.Equal(t, s.P50, h.Quantile(0.5))
	assert.Equal(t, s.P99, h.Quantile(0.99))
	assert.Equal(t, s.Max, h.Quantile(1), "capped at the exact max")
	assert.Equal(t, h.Quantile(0), h.Quantile(-3), "q is clamped")
	assert.Zero(t, h.Quantile(math.NaN()))

	// The buckets: ascending bounds, each duration under the first bound
	// that is at least it, counts adding up.
	var prev time.Duration
	var n int64
	i := 0
	for upper, c := range h.Buckets() {
		assert.Greater(t, upper, prev)
		assert.GreaterOrEqual(t, upper, durations[i], "bucket %d holds %v", i, durations[i])
		assert.Less(t, upper, durations[i]+durations[i]/16+1, "within a bucket's width")
		assert.Equal(t, int64(1), c)
		prev, n = upper, n+c
		i++
	}
	assert.Equal(t, int64(4), n)
}

func TestHistogram_subGivesTheCallsBetween(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	for range 100 {
		m.Record(time.Millisecond, resilience.OutcomeSuccess)
	}
	var before, now monitor.Histogram
	m.Histogram(&before)
	for range 10 {
		m.Record(time.Second, resilience.OutcomeFailure)
	}
	m.Histogram(&now)
	now.Sub(&before)

	assert.Equal(t, int64(10), now.Count())
	assert.Equal(t, 10*time.Second, now.Sum())
	p50 := now.Quantile(0.5)
	assert.InEpsilon(t, float64(time.Second), float64(p50), 0.0625, "only the second's calls")
	assert.LessOrEqual(t, now.Quantile(1), time.Second+time.Second/16, "bounded by the bucket's top once the max is unknown")

	// A Reset in between: nothing below zero.
	m.Reset()
	m.Record(time.Millisecond, resilience.OutcomeSuccess)
	var after monitor.Histogram
	m.Histogram(&after)
	after.Sub(&before)
	assert.Equal(t, int64(0), after.Count(), "the 1ms bucket went down from 100 to 1: clamped")
	assert.Zero(t, after.Sum())
}

func TestHistogram_nilMetricsAndReset(t *testing.T) {
	var nilM *monitor.Metrics
	var h monitor.Histogram
	nilM.Histogram(&h)
	assert.Zero(t, h.Count())

	m := newMetrics(t, monitor.Config{})
	m.Record(time.Second, resilience.OutcomeSuccess)
	m.Reset()
	m.Record(time.Millisecond, resilience.OutcomeSuccess)
	m.Histogram(&h)
	assert.Equal(t, int64(1), h.Count(), "since the Reset, as Snapshot")
	assert.Equal(t, time.Millisecond, h.Sum())
}

func TestHistogram_doesNotAllocate(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	m.Record(time.Millisecond, resilience.OutcomeSuccess)
	var a, b monitor.Histogram
	allocs := testing.AllocsPerRun(100, func() {
		b.Sub(&a)
		_ = b.Quantile(0.99)
		for range b.Buckets() {
		}
	})
	assert.Zero(t, allocs)
}

func TestMetrics_timeoutCauses(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	m.Record(time.Second, resilience.OutcomeTimeout)
	m.Record(time.Second, resilience.OutcomeDeadline)

	// RecordContext tells a propagated deadline apart by the context's cause.
	ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now().Add(-time.Second), resilience.ErrPropagatedDeadline)
	defer cancel()
	m.RecordContext(ctx, time.Second, resilience.OutcomeDeadline)
	m.RecordContext(context.Background(), time.Second, resilience.OutcomeDeadline)
	var noCtx context.Context // a nil ctx counts as Background, as documented
	m.RecordContext(noCtx, time.Second, resilience.OutcomeSuccess)
	// A context derived from it inherits the cause.
	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	m.RecordContext(child, time.Second, resilience.OutcomeDeadline)

	s := m.Snapshot()
	assert.Equal(t, int64(5), s.Timeouts)
	assert.Equal(t, int64(1), s.LimitTimeouts)
	assert.Equal(t, int64(2), s.DeadlineTimeouts)
	assert.Equal(t, int64(2), s.PropagatedTimeouts)
	assert.Equal(t, int64(6), s.Total)
	assert.InDelta(t, 5.0/6, s.TimeoutRate, 1e-9)
}

func TestMetrics_alerts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fired []monitor.AlertEvent
		m := newMetrics(t, monitor.Config{
			Name: "db",
			Alerts: []monitor.AlertRule{
				{Window: 10 * time.Second, MinCalls: 10, Threshold: 0.5, OnAlert: func(ev monitor.AlertEvent) { fired = append(fired, ev) }},
				{Window: time.Minute, MinCalls: 1000, Threshold: 0.1},
			},
		})
		assert.Nil(t, (*monitor.Metrics)(nil).Alerts())
		assert.Nil(t, newMetrics(t, monitor.Config{}).Alerts(), "no rules")

		a := m.Alerts()
		require.Len(t, a, 2)
		assert.Equal(t, monitor.AlertEvent{Window: 10 * time.Second, Threshold: 0.5, Name: "db"}, a[0], "nothing decided yet")
		assert.Equal(t, time.Minute, a[1].Window)

		for range 20 {
			m.Record(time.Second, resilience.OutcomeTimeout)
		}
		time.Sleep(10 * time.Second)
		// No call since: Alerts evaluates the rule itself.
		a = m.Alerts()
		assert.True(t, a[0].Firing, "firing now")
		assert.Equal(t, int64(20), a[0].Calls)
		assert.Equal(t, 1.0, a[0].Rate)
		assert.False(t, a[1].Firing, "too few calls for the second rule")
		require.Len(t, fired, 1, "the event was delivered once")

		for range 20 {
			m.Record(time.Millisecond, resilience.OutcomeSuccess)
		}
		for range 11 { // the timeouts age out of the window
			time.Sleep(time.Second)
			if a = m.Alerts(); !a[0].Firing {
				break
			}
		}
		assert.False(t, a[0].Firing, "resolved")
		assert.Equal(t, int64(20), a[0].Calls)
		assert.Zero(t, a[0].Rate)
		require.Len(t, fired, 2)
		assert.False(t, fired[1].Firing)
	})
}

func TestHistograms_timeoutsApart(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	var others, timeouts monitor.Histogram
	m.Histograms(&others, &timeouts)
	assert.Zero(t, others.Count()+timeouts.Count(), "nothing yet")

	ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now(), resilience.ErrPropagatedDeadline)
	defer cancel()
	m.Record(time.Millisecond, resilience.OutcomeSuccess)
	m.Record(2*time.Second, resilience.OutcomeTimeout)
	m.Record(3*time.Second, resilience.OutcomeDeadline)
	m.RecordContext(ctx, 4*time.Second, resilience.OutcomeDeadline)
	m.Record(5*time.Millisecond, resilience.OutcomeFailure)
	m.Record(time.Hour, resilience.OutcomeRejected)

	m.Histograms(&others, &timeouts)
	assert.Equal(t, int64(3), timeouts.Count(), "the timeouts of every cause")
	assert.Equal(t, 9*time.Second, timeouts.Sum())
	assert.InEpsilon(t, float64(4*time.Second), float64(timeouts.Quantile(1)), 0.0625)
	assert.Equal(t, int64(2), others.Count(), "the success and the failure")
	assert.Equal(t, 6*time.Millisecond, others.Sum())

	// Together they are Histogram, and Snapshot's figures.
	var all monitor.Histogram
	m.Histogram(&all)
	assert.Equal(t, int64(5), all.Count())
	assert.Equal(t, 9*time.Second+6*time.Millisecond, all.Sum())
	s := m.Snapshot()
	assert.Equal(t, (9*time.Second+6*time.Millisecond)/5, s.Mean, "the mean counts the timeouts")
	assert.Equal(t, 4*time.Second, s.Max)

	m.Reset()
	m.Record(time.Second, resilience.OutcomeTimeout)
	m.Histograms(&others, &timeouts)
	assert.Equal(t, int64(1), timeouts.Count(), "since the Reset")
	assert.Equal(t, time.Second, timeouts.Sum())
	assert.Zero(t, others.Count())

	var nilM *monitor.Metrics
	nilM.Histograms(&others, &timeouts)
	assert.Zero(t, others.Count()+timeouts.Count())
}

// TestHistograms_eachOnlyGrows: read while calls are recorded, neither
// part ever goes down in any bucket, as a cumulative histogram must not,
// and at the end nothing is lost.
func TestHistograms_eachOnlyGrows(t *testing.T) {
	m := newMetrics(t, monitor.Config{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 2000 {
				m.Record(time.Millisecond, resilience.OutcomeTimeout)
				m.Record(time.Millisecond, resilience.OutcomeSuccess)
			}
		})
	}
	var prevO, prevT, o, to monitor.Histogram
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		m.Histograms(&o, &to)
		for _, pair := range [][2]*monitor.Histogram{{&prevO, &o}, {&prevT, &to}} {
			d := *pair[1]
			d.Sub(pair[0])
			require.Equal(t, pair[1].Count()-pair[0].Count(), d.Count(), "a bucket went down")
		}
		prevO, prevT = o, to
	}
	m.Histograms(&o, &to)
	assert.Equal(t, int64(8000), to.Count(), "no timeout lost while the shards made their histograms")
	assert.Equal(t, int64(8000), o.Count())
	assert.Equal(t, int64(8000), m.Snapshot().Timeouts)
}
