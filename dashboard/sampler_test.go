package dashboard_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

// TestSampler checks the sampler goroutine that New starts: one tick per
// Config.Tick, figures over each tick, and Close stops it.
func TestSampler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, err := dashboard.New(dashboard.Config{Tick: 100 * time.Millisecond, History: time.Second})
		require.NoError(t, err)
		m := &monitor.Metrics{}
		require.NoError(t, d.Register("api", dashboard.Parts{Metrics: m}))
		start := time.Now()

		// 5 calls in each of the first 10 ticks, none after.
		for range 10 {
			for range 5 {
				m.Record(time.Millisecond, resilience.OutcomeSuccess)
			}
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
		s := d.Snapshot()
		assert.Equal(t, uint64(10), s.Seq)
		assert.Equal(t, start.Add(time.Second), s.Time)
		c := card(t, s, "api")
		assert.Equal(t, int64(50), *c.Total)
		assert.InDeltaSlice(t, []float64{50, 50, 50, 50, 50, 50, 50, 50, 50, 50}, c.History.Rate, 1e-6)

		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		s = d.Snapshot()
		assert.Equal(t, uint64(13), s.Seq)
		assert.InDeltaSlice(t, []float64{50, 50, 50, 50, 50, 50, 50, 0, 0, 0}, card(t, s, "api").History.Rate, 1e-6,
			"a second of history: the last 10 ticks")

		d.Close()
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, uint64(13), d.Snapshot().Seq, "no tick after Close")
	})
}
