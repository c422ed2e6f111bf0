package monitor_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// In the recommended order Monitor → Breaker → Timeout, with a dependency
// that never answers, the breaker opens on the timeouts and then rejects
// nearly every call. The alert fires and stays firing: the rejections
// neither dilute the timeout rate nor count as the calls a window needs to
// resolve.
func TestMonitor_openBreakerDoesNotResolveAlert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var ev events
		var firedAt []time.Duration
		m := newMetrics(t, monitor.Config{Name: "payments", Alerts: []monitor.AlertRule{{
			Window: 10 * time.Second, MinCalls: 10, Threshold: 0.5,
			OnAlert: func(e monitor.AlertEvent) {
				firedAt = append(firedAt, time.Since(start))
				ev.add(e)
			},
		}}})
		cb, err := breaker.New(breaker.Settings{
			Name: "payments", TimeoutRate: 0.5, MinRequests: 10,
			Window: 10 * time.Second, OpenTimeout: 5 * time.Second, Logger: discard,
		})
		require.NoError(t, err)
		hang := func(ctx context.Context) (int, error) { // the dependency is down
			<-ctx.Done()
			return 0, ctx.Err()
		}
		call := resilience.Compose(
			monitor.Monitor[int](m),
			breaker.Breaker[int](cb),
			timeout.WithTimeout[int](time.Second),
		)(hang)

		var wg sync.WaitGroup
		for range 300 { // 10 calls a second for 30s
			wg.Go(func() { _, _ = call(context.Background()) })
			time.Sleep(100 * time.Millisecond)
		}
		wg.Wait()
		time.Sleep(time.Second) // one more tick, read by Snapshot
		s := m.Snapshot()

		evs := ev.get()
		require.NotEmpty(t, evs, "the alert fires")
		assert.True(t, evs[0].Firing)
		assert.Less(t, firedAt[0], 5*time.Second, "soon after the timeouts began")
		assert.Len(t, evs, 1, "and does not resolve while the dependency is down: %+v", evs)

		assert.Equal(t, int64(300), s.Total)
		assert.Positive(t, s.Rejected, "the open breaker rejected calls")
		assert.Zero(t, s.Failures, "a rejection is not a failure")
		assert.Zero(t, s.Successes)
		assert.Equal(t, s.Total-s.Rejected, s.Timeouts, "every call that reached the dependency timed out")
		assert.Equal(t, 1.0, s.TimeoutRate)
		assert.Equal(t, time.Second, s.Mean, "the rejections' ~0s do not pull the mean down")
		assert.Equal(t, cb.Snapshot().Rejected, uint64(s.Rejected))
	})
}
