package monitor_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

// events collects the AlertEvents a rule delivers.
type events struct {
	mu   sync.Mutex
	list []monitor.AlertEvent
}

func (e *events) add(ev monitor.AlertEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) get() []monitor.AlertEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]monitor.AlertEvent(nil), e.list...)
}

// tick is the bucket width of the rules below (Window/10): sleeping one
// tick inside a bubble always starts exactly one new bucket, whatever the
// clock's phase.
const (
	window      = 10 * time.Second
	windowTicks = 10
	tick        = window / windowTicks
)

// record records n calls ending in o: timeouts (timeout and deadline)
// took a second, rejected calls no time, the others a millisecond.
func record(m *monitor.Metrics, n int, o resilience.Outcome) {
	d := time.Millisecond
	switch o {
	case timedOut, deadline:
		d = time.Second
	case rejected:
		d = 0
	}
	for range n {
		m.Record(d, o)
	}
}

func alerting(t *testing.T, ev *events, r monitor.AlertRule) *monitor.Metrics {
	t.Helper()
	if r.Window == 0 {
		r.Window = window
	}
	r.OnAlert = ev.add
	return newMetrics(t, monitor.Config{Name: "api", Alerts: []monitor.AlertRule{r}})
}

func TestAlert_firesOncePerCrossing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})

		record(m, 9, timedOut)
		time.Sleep(tick)
		m.Snapshot()
		assert.Empty(t, ev.get(), "9 calls: below MinCalls")

		record(m, 1, timedOut)
		record(m, 5, success)
		assert.Empty(t, ev.get(), "evaluated once per tick, not per call")
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 1)
		assert.Equal(t, monitor.AlertEvent{
			Firing: true, Rate: 10.0 / 15.0, Calls: 15, Timeouts: 10,
			Window: window, Threshold: 0.5, Name: "api",
		}, ev.get()[0])

		for range 5 { // still above: no new firing
			record(m, 10, timedOut)
			time.Sleep(tick)
			m.Snapshot()
		}
		assert.Len(t, ev.get(), 1)
	})
}

func TestAlert_evaluatedByRecordToo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{Threshold: 0.5})
		record(m, 10, timedOut)
		time.Sleep(tick)
		record(m, 1, success) // the first call of the new tick evaluates it
		require.Len(t, ev.get(), 1)
		assert.True(t, ev.get()[0].Firing)
		assert.Equal(t, int64(10), ev.get()[0].Calls, "the window ends where the tick starts")
	})
}

func TestAlert_evaluatedByRejectedRecordToo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{Threshold: 0.5})
		record(m, 10, timedOut)
		time.Sleep(tick)
		record(m, 1, rejected) // an open breaker's: the only calls there are
		require.Len(t, ev.get(), 1, "a rejected call evaluates the new tick too")
		assert.True(t, ev.get()[0].Firing)
		assert.Equal(t, int64(10), ev.get()[0].Calls)
	})
}

func TestAlert_resolves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
		record(m, 10, timedOut)
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 1)

		record(m, 10, success) // 10 of 20: not above 0.5
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 2)
		assert.Equal(t, monitor.AlertEvent{
			Firing: false, Rate: 0.5, Calls: 20, Timeouts: 10,
			Window: window, Threshold: 0.5, Name: "api",
		}, ev.get()[1])

		time.Sleep(tick)
		m.Snapshot()
		assert.Len(t, ev.get(), 2, "resolves once")
	})
}

func TestAlert_canceledCallsLeftOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
		record(m, 6, timedOut)
		record(m, 4, failure)
		record(m, 100, canceled)
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 1)
		assert.Equal(t, int64(10), ev.get()[0].Calls)
		assert.Equal(t, 0.6, ev.get()[0].Rate)
	})
}

func TestAlert_windowAgesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
		record(m, 10, timedOut)
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 1)

		time.Sleep(window - tick) // the timeouts' bucket is the oldest in the window
		m.Snapshot()
		require.Len(t, ev.get(), 1, "still in the window")

		time.Sleep(tick) // now it is out, and the window is empty
		m.Snapshot()
		require.Len(t, ev.get(), 1, "too few calls: no decision, the alert stays")

		record(m, 10, success)
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 2)
		assert.Equal(t, monitor.AlertEvent{
			Firing: false, Calls: 10, Window: window, Threshold: 0.5, Name: "api",
		}, ev.get()[1], "the window holds the successes only")
	})
}

func TestAlert_tooFewCallsDecideNothing(t *testing.T) {
	t.Run("a firing alert stays firing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var ev events
			m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
			record(m, 10, timedOut)
			time.Sleep(tick)
			m.Snapshot()
			require.Len(t, ev.get(), 1)

			// The storm ages out and only a few calls come, all fine:
			// too few to say the dependency is back.
			for i := range 3 * windowTicks {
				if i%2 == 0 {
					record(m, 1, success)
				}
				time.Sleep(tick)
				m.Snapshot()
			}
			require.Len(t, ev.get(), 1, "5 calls in the window: no decision")
			time.Sleep(time.Hour) // no calls at all
			m.Snapshot()
			require.Len(t, ev.get(), 1, "an empty window decides nothing either")

			record(m, 10, success) // enough calls again
			time.Sleep(tick)
			m.Snapshot()
			require.Len(t, ev.get(), 2)
			assert.Equal(t, monitor.AlertEvent{
				Firing: false, Calls: 10, Window: window, Threshold: 0.5, Name: "api",
			}, ev.get()[1])
		})
	})
	t.Run("a quiet rule stays quiet", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var ev events
			m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
			for i := range 3 * windowTicks {
				if i%2 == 0 {
					record(m, 1, timedOut) // all time out, but 5 calls a window
				}
				time.Sleep(tick)
				m.Snapshot()
			}
			assert.Empty(t, ev.get())
		})
	})
}

func TestAlert_rejectedLeftOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
		record(m, 6, timedOut)
		record(m, 4, success)
		record(m, 1000, rejected) // as failures, they would dilute the rate to 0.6%
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 1)
		assert.Equal(t, monitor.AlertEvent{
			Firing: true, Rate: 0.6, Calls: 10, Timeouts: 6,
			Window: window, Threshold: 0.5, Name: "api",
		}, ev.get()[0])

		// An open breaker: nothing but rejections. The alert stays.
		for range 3 * windowTicks {
			record(m, 100, rejected)
			time.Sleep(tick)
			m.Snapshot()
		}
		assert.Len(t, ev.get(), 1)

		// Nor does a rule fire on rejections alone, however many.
		var quietEv events
		m2 := alerting(t, &quietEv, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
		record(m2, 1000, rejected)
		time.Sleep(tick)
		m2.Snapshot()
		assert.Empty(t, quietEv.get())
	})
}

func TestAlert_slidesBucketByBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 1, Threshold: 0.5, Cooldown: time.Nanosecond})
		// One timeout per tick for 10 ticks, then one success per tick:
		// each tick one timeout leaves the window and one success enters,
		// so the rate comes down to 0.5 after 5 successes.
		for range 10 {
			record(m, 1, timedOut)
			time.Sleep(tick)
		}
		require.Len(t, ev.get(), 1)
		for i := range 5 {
			require.Len(t, ev.get(), 1, "after %d successes", i)
			record(m, 1, success)
			time.Sleep(tick)
			m.Snapshot()
		}
		require.Len(t, ev.get(), 2)
		assert.Equal(t, monitor.AlertEvent{
			Rate: 0.5, Calls: 10, Timeouts: 5, Window: window, Threshold: 0.5, Name: "api",
		}, ev.get()[1])
	})
}

func TestAlert_thresholdIsStrict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 4, Threshold: 0.25})
		record(m, 1, timedOut)
		record(m, 3, success)
		time.Sleep(tick)
		m.Snapshot()
		assert.Empty(t, ev.get(), "0.25 is not above 0.25")
	})
}

func TestAlert_cooldownDelaysTheNextFiring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5, Cooldown: time.Minute})
		record(m, 10, timedOut)
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 1)
		firedAt := time.Now()

		record(m, 100, success)
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 2, "resolved")

		// A new storm crosses again and again, but the next firing waits
		// out the cool-down.
		for time.Since(firedAt) < time.Minute {
			require.Len(t, ev.get(), 2, "fired again %v after the last firing", time.Since(firedAt))
			record(m, 200, timedOut)
			time.Sleep(tick)
			m.Snapshot()
		}
		require.Len(t, ev.get(), 3)
		assert.True(t, ev.get()[2].Firing)
	})
}

func TestAlert_defaultCooldownIsWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var firings []time.Time
		m := newMetrics(t, monitor.Config{Alerts: []monitor.AlertRule{{Window: window, MinCalls: 10, Threshold: 0.5,
			OnAlert: func(ev monitor.AlertEvent) {
				if ev.Firing {
					firings = append(firings, time.Now())
				}
			}}}})
		record(m, 10, timedOut)
		time.Sleep(tick)
		m.Snapshot() // fires: 10 of 10
		record(m, 10, success)
		time.Sleep(tick)
		m.Snapshot() // resolves: 10 of 20
		for i := 0; len(firings) < 2; i++ {
			require.Less(t, i, 2*windowTicks, "%d firings in %d ticks", len(firings), i+2)
			record(m, 5, timedOut) // above again from the next tick on
			time.Sleep(tick)
			m.Snapshot()
		}
		gap := firings[1].Sub(firings[0])
		assert.GreaterOrEqual(t, gap, window, "cool-down defaults to Window")
		assert.Less(t, gap, window+tick, "and fires at the first tick after it")
	})
}

func TestAlert_defaultWindowIs30sAndMinCalls10(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := newMetrics(t, monitor.Config{Alerts: []monitor.AlertRule{{Threshold: 0.5, OnAlert: ev.add}}})
		record(m, 9, timedOut)
		time.Sleep(3 * time.Second) // the default window is 30s: a tick is 3s
		m.Snapshot()
		assert.Empty(t, ev.get(), "default MinCalls is 10")
		record(m, 1, timedOut)
		time.Sleep(3 * time.Second)
		m.Snapshot()
		require.Len(t, ev.get(), 1)
		assert.Equal(t, 30*time.Second, ev.get()[0].Window)
		assert.Equal(t, "", ev.get()[0].Name)
	})
}

func TestAlert_severalRules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fast, slow events
		m := newMetrics(t, monitor.Config{Alerts: []monitor.AlertRule{
			{Window: 10 * time.Second, MinCalls: 10, Threshold: 0.5, OnAlert: fast.add},
			{Window: 100 * time.Second, MinCalls: 10, Threshold: 0.9, OnAlert: slow.add},
		}})
		record(m, 20, timedOut)
		record(m, 10, success)
		time.Sleep(10 * time.Second)
		m.Snapshot()
		assert.Len(t, fast.get(), 1, "2/3 > 0.5")
		assert.Empty(t, slow.get(), "2/3 <= 0.9")
		record(m, 200, timedOut)
		time.Sleep(10 * time.Second)
		m.Snapshot()
		assert.Len(t, slow.get(), 1)
	})
}

func TestAlert_onceUnderConcurrentRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 3 {
					record(m, 50, timedOut)
					time.Sleep(tick)
				}
				record(m, 50, timedOut)
			})
		}
		wg.Wait()
		evs := ev.get()
		require.Len(t, evs, 1)
		assert.True(t, evs[0].Firing)
		// The tick's worth, 8 goroutines × 50; calls made in the first
		// moments of the next tick, while it is evaluated, may count too.
		assert.GreaterOrEqual(t, evs[0].Calls, int64(400))
		assert.LessOrEqual(t, evs[0].Calls, int64(800))
	})
}

func TestAlert_callbackMayUseMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen []monitor.AlertEvent
		var during monitor.Stats
		var m *monitor.Metrics
		m = newMetrics(t, monitor.Config{Alerts: []monitor.AlertRule{{Window: window, MinCalls: 10, Threshold: 0.5,
			OnAlert: func(ev monitor.AlertEvent) {
				seen = append(seen, ev)
				if ev.Firing {
					// Record, read, and even cause the next event from
					// inside the callback: no lock of m is held here.
					during = m.Snapshot()
					record(m, 100, success)
					time.Sleep(tick)
					m.Snapshot()
					assert.Len(t, seen, 1, "the next event waits for this callback to return")
				}
			}}}})
		record(m, 10, timedOut)
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, seen, 2)
		assert.True(t, seen[0].Firing)
		assert.False(t, seen[1].Firing, "delivered in order, after the first returned")
		assert.Equal(t, int64(10), during.Timeouts)
	})
}

// An OnAlert that panics is a bug in the caller's code: it is reported,
// at Error to the Logger, and the call that delivered the event returns
// what it returned, recorded.
func TestAlert_panickingOnAlertDoesNotChangeTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lb logBuffer
		m := newMetrics(t, monitor.Config{
			Logger: lb.logger(slog.LevelError),
			Alerts: []monitor.AlertRule{{Window: window, MinCalls: 10, Threshold: 0.5,
				OnAlert: func(monitor.AlertEvent) { panic("callback bug") }}},
		})
		record(m, 10, timedOut)
		time.Sleep(tick)
		call := monitor.Monitor[int](m)(func(context.Context) (int, error) { return 42, nil })

		var v int
		var err error
		require.NotPanics(t, func() { v, err = call(context.Background()) }, "the call delivers the firing")
		assert.Equal(t, 42, v)
		assert.NoError(t, err)
		assert.Equal(t, int64(1), m.Snapshot().Successes, "the call is recorded")
		lines := lb.lines(t)
		require.Len(t, lines, 1)
		assert.Equal(t, "ERROR", lines[0]["level"])
		assert.Equal(t, "monitor: OnAlert", lines[0]["hook"])
		assert.Equal(t, "callback bug", lines[0]["panic"])
	})
}

func TestAlert_panickingOnAlertDoesNotStopLaterEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lb logBuffer
		var got []string
		m := newMetrics(t, monitor.Config{
			Logger: lb.logger(slog.LevelError),
			Alerts: []monitor.AlertRule{
				{Window: window, MinCalls: 10, Threshold: 0.5, OnAlert: func(e monitor.AlertEvent) {
					got = append(got, fmt.Sprint("a firing=", e.Firing))
					panic("callback bug")
				}},
				{Window: window, MinCalls: 10, Threshold: 0.6, OnAlert: func(e monitor.AlertEvent) {
					got = append(got, fmt.Sprint("b firing=", e.Firing))
				}},
			},
		})
		record(m, 10, timedOut)
		time.Sleep(tick)
		require.NotPanics(t, func() { m.Snapshot() })
		assert.Equal(t, []string{"a firing=true", "b firing=true"}, got, "b's event, queued behind a's, is delivered")

		record(m, 100, success)
		time.Sleep(tick)
		m.Snapshot()
		assert.Equal(t, []string{"a firing=true", "b firing=true", "a firing=false", "b firing=false"}, got,
			"later events are delivered too")
		assert.Len(t, lb.lines(t), 2, "each panic is reported")
	})
}

func TestAlert_resetDoesNotTouchWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
		record(m, 10, timedOut)
		m.Reset()
		time.Sleep(tick)
		m.Snapshot()
		require.Len(t, ev.get(), 1, "the timeouts before Reset still count for the alert")
		assert.Zero(t, m.Snapshot().Total)
	})
}

func TestAlert_nothingEvaluatesWithoutCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		m := alerting(t, &ev, monitor.AlertRule{MinCalls: 10, Threshold: 0.5})
		record(m, 10, timedOut)
		time.Sleep(time.Hour)
		assert.Empty(t, ev.get(), "no goroutine evaluates in the background")
		m.Snapshot()
		assert.Empty(t, ev.get(), "and after an hour the timeouts are long out of the window")
	})
}
