package breaker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/internal/testlog"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

type panicValue struct{ msg string }

func TestPanic_countedAndReraised(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 2, OpenTimeout: time.Second})
		want := &panicValue{"boom"}
		call := breaker.Breaker[int](cb)(func(context.Context) (int, error) { panic(want) })

		for range 2 {
			got := func() (r any) {
				defer func() { r = recover() }()
				_, _ = call(t.Context())
				return nil
			}()
			assert.Same(t, want, got, "the original panic value goes on up")
		}
		require.Equal(t, breaker.StateOpen, cb.State(), "each panic is a failure")
		assert.Equal(t, uint64(2), cb.Snapshot().Counts.Failures)

		// A panicking probe reopens the breaker, and still panics.
		time.Sleep(1100 * time.Millisecond)
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		assert.PanicsWithValue(t, want, func() { _, _ = call(t.Context()) })
		assert.Equal(t, breaker.StateOpen, cb.State())
		cb.Reset()
	})
}

func TestIsolateAndReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr transitions
		cb := newBreaker(t, breaker.Settings{Name: "db", OpenTimeout: time.Second, OnStateChange: tr.hook})
		c := newCaller(cb)
		require.NoError(t, c.do(opOK))
		_ = c.do(opFail)

		cb.Isolate()
		require.Equal(t, breaker.StateOpen, cb.State())
		err := c.do(opOK)
		require.ErrorIs(t, err, breaker.ErrOpen)
		var oe *breaker.OpenError
		require.ErrorAs(t, err, &oe)
		assert.True(t, oe.Isolated)
		assert.Zero(t, oe.RetryAfter())
		assert.Equal(t, 2, c.calls(), "fn must not run while isolated")

		snap := cb.Snapshot()
		assert.True(t, snap.Isolated)
		assert.True(t, snap.NextProbe.IsZero(), "no probe is scheduled")
		assert.Equal(t, uint64(2), snap.Counts.Calls, "the counts when it was isolated")

		// No probe ever comes: held open.
		time.Sleep(time.Hour)
		require.Equal(t, breaker.StateOpen, cb.State())
		require.ErrorIs(t, c.do(opOK), breaker.ErrOpen)
		cb.Isolate() // again: nothing changes
		assert.Equal(t, uint64(1), cb.Snapshot().Transitions.Isolations)

		cb.Reset()
		require.Equal(t, breaker.StateClosed, cb.State())
		snap = cb.Snapshot()
		assert.False(t, snap.Isolated)
		assert.Equal(t, breaker.Counts{}, snap.Counts, "Reset clears the counts")
		assert.Equal(t, uint64(2), snap.Rejected, "but not the lifetime counters")
		require.NoError(t, c.do(opOK))
		assert.Equal(t, []string{"closed->open", "open->closed"}, tr.list())
	})
}

func TestIsolate_whileOpenStopsTheProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr transitions
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second, OnStateChange: tr.hook})
		c := newCaller(cb)
		_ = c.do(opFail)
		require.Equal(t, breaker.StateOpen, cb.State())
		cb.Isolate()
		time.Sleep(time.Minute)
		assert.Equal(t, breaker.StateOpen, cb.State())
		assert.Equal(t, []string{"closed->open"}, tr.list(), "isolating an open breaker is no change of state")
		cb.Reset()
	})
}

func TestIsolate_whileHalfOpenIgnoresTheProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		c := newCaller(cb)
		blk := newBlocker()
		probe := breaker.Breaker[op](cb)(blk.fn)
		_ = c.do(opFail)
		time.Sleep(1100 * time.Millisecond)
		p := goCall(t.Context(), probe)
		<-blk.started
		cb.Isolate()
		blk.release <- nil // a successful probe, but the breaker is held open
		require.NoError(t, <-p)
		assert.Equal(t, breaker.StateOpen, cb.State())
		require.ErrorIs(t, c.do(opOK), breaker.ErrOpen)
		cb.Reset()
	})
}

func TestReset_cutsTheOpenPeriodShort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr transitions
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second, OnStateChange: tr.hook})
		c := newCaller(cb)
		_ = c.do(opFail)
		cb.Reset()
		require.NoError(t, c.do(opOK))
		time.Sleep(time.Minute) // the open timer must not fire into the new state
		assert.Equal(t, breaker.StateClosed, cb.State())
		assert.Equal(t, []string{"closed->open", "open->closed"}, tr.list())
		assert.Equal(t, breaker.Transitions{Trips: 1, Resets: 1}, cb.Snapshot().Transitions)
	})
}

func TestBadInput(t *testing.T) {
	// A nil breaker is found when the pipeline is built.
	var ce *resilience.ConfigError
	func() {
		defer func() {
			err, _ := recover().(error)
			require.ErrorAs(t, err, &ce)
		}()
		breaker.Breaker[int](nil)
	}()
	require.ErrorIs(t, ce, resilience.ErrInvalidConfig)
	assert.Equal(t, "Breaker(cb)", ce.Field, "named as at the call site")
	assert.EqualError(t, ce, "breaker: Breaker(cb) is nil, want a breaker from New")

	// So is a nil Func.
	cb := newBreaker(t, breaker.Settings{})
	assert.PanicsWithValue(t, resilience.ErrNilFunc, func() { breaker.Breaker[int](cb)(nil) })

	// A nil context is bad input at call time: an error, and not counted.
	called := false
	// a nil context is the bad input under test
	_, err := breaker.Breaker[int](cb)(func(context.Context) (int, error) { called = true; return 1, nil })(nil)
	assert.ErrorIs(t, err, resilience.ErrNilContext)
	assert.False(t, called)
	assert.Equal(t, breaker.Counts{}, cb.Snapshot().Counts)
}

func TestZeroValue(t *testing.T) {
	var cb breaker.CircuitBreaker
	assert.Equal(t, breaker.StateClosed, cb.State())
	assert.Empty(t, cb.Name())
	call := breaker.Breaker[int](&cb)(func(context.Context) (int, error) { return 0, errDown })
	for range breaker.DefaultConsecutiveFailures {
		_, err := call(t.Context())
		require.ErrorIs(t, err, errDown)
	}
	_, err := call(t.Context())
	require.ErrorIs(t, err, breaker.ErrOpen)
	cb.Reset()
}

func TestSharedByPipelinesOfAnyType(t *testing.T) {
	cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 2})
	failString := breaker.Breaker[string](cb)(func(context.Context) (string, error) { return "", errDown })
	failStruct := breaker.Breaker[struct{ N int }](cb)(func(context.Context) (struct{ N int }, error) {
		return struct{ N int }{}, errDown
	})
	okInt := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 42, nil })

	v, err := okInt(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 42, v)
	_, _ = failString(t.Context())
	_, _ = failStruct(t.Context())
	_, err = okInt(t.Context())
	require.ErrorIs(t, err, breaker.ErrOpen, "one breaker guards the dependency for every pipeline")
	cb.Reset()
}

func TestOpenError_messages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{Name: "payments", ConsecutiveFailures: 1, OpenTimeout: 4 * time.Second})
		c := newCaller(cb)
		_ = c.do(opFail)
		err := c.do(opOK)
		var oe *breaker.OpenError
		require.ErrorAs(t, err, &oe)
		wait := oe.RetryAfter()
		assert.Greater(t, wait, 4*time.Second)
		assert.Less(t, wait, 4400*time.Millisecond)
		assert.Equal(t, `breaker "payments": circuit open, next probe in `+wait.Round(100*time.Millisecond).String(), err.Error())

		time.Sleep(wait - 250*time.Millisecond)
		assert.Equal(t, `breaker "payments": circuit open, next probe in 250ms`, err.Error(), "the wait is as of the call to Error")

		cb.Isolate()
		assert.EqualError(t, c.do(opOK), `breaker "payments": circuit isolated, held open until Reset`)
		cb.Reset()
	})

	assert.EqualError(t, &breaker.OpenError{State: breaker.StateHalfOpen}, "breaker: circuit half-open, probe slots taken")
	assert.EqualError(t, &breaker.OpenError{State: breaker.StateOpen}, "breaker: circuit open, next probe due now")
	assert.EqualError(t, breaker.ErrOpen, "breaker: circuit open")
}

func TestOpenError_isNotRetryable(t *testing.T) {
	var err error = &breaker.OpenError{State: breaker.StateOpen}
	var r interface{ Retryable() bool }
	require.ErrorAs(t, err, &r)
	assert.False(t, r.Retryable())
	assert.True(t, errors.Is(err, breaker.ErrOpen))
	assert.False(t, resilience.IsTimeout(err), "an open breaker is no timeout")
}

func TestState_String(t *testing.T) {
	assert.Equal(t, "closed", breaker.StateClosed.String())
	assert.Equal(t, "open", breaker.StateOpen.String())
	assert.Equal(t, "half-open", breaker.StateHalfOpen.String())
	assert.Equal(t, "state(7)", breaker.State(7).String())
}

func TestLogging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf testlog.Buffer
		logger := slog.New(slog.NewJSONHandler(&buf, nil))
		cb := newBreaker(t, breaker.Settings{
			Name: "payments", TimeoutRate: 0.5, MinRequests: 4, OpenTimeout: time.Second, Logger: logger,
		})
		c := newCaller(cb)
		for _, o := range []op{opOK, opTimeout, opOK, opTimeout} {
			_ = c.do(o)
		}
		time.Sleep(1100 * time.Millisecond)
		_ = c.do(opOK)

		var records []map[string]any
		for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
			var r map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &r))
			records = append(records, r)
		}
		require.Len(t, records, 3)

		trip := records[0]
		assert.Equal(t, "WARN", trip["level"])
		assert.Equal(t, "circuit breaker opened", trip["msg"])
		assert.Equal(t, "payments", trip["breaker"])
		assert.Equal(t, "closed", trip["from"])
		assert.Equal(t, "open", trip["to"])
		assert.Equal(t, "TimeoutRate 0.50 >= 0.50 over 4 calls", trip["reason"])
		counts := trip["counts"].(map[string]any)
		assert.InDelta(t, 4, counts["calls"], 0)
		assert.InDelta(t, 2, counts["timeouts"], 0)
		assert.InDelta(t, 0.5, counts["timeout_rate"], 0)
		assert.Contains(t, trip, "next_probe")

		assert.Equal(t, "circuit breaker half-open", records[1]["msg"])
		assert.Equal(t, "INFO", records[1]["level"])
		assert.Equal(t, "circuit breaker closed", records[2]["msg"])
		assert.Equal(t, "1 of 1 probes succeeded", records[2]["reason"])
	})
}

func TestLogging_reopenSaysWhyTheProbeFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf testlog.Buffer
		cb := newBreaker(t, breaker.Settings{
			ConsecutiveFailures: 1, OpenTimeout: time.Second, Logger: slog.New(slog.NewTextHandler(&buf, nil)),
		})
		c := newCaller(cb)
		_ = c.do(opFail)
		time.Sleep(1100 * time.Millisecond)
		_ = c.do(opTimeout)
		assert.Contains(t, buf.String(), `msg="circuit breaker reopened" breaker="" from=half-open to=open reason="probe timed out"`)
		assert.Contains(t, buf.String(), `reason="ConsecutiveFailures 1 >= 1"`)

		time.Sleep(1100 * time.Millisecond)
		_ = c.do(opFail)
		assert.Contains(t, buf.String(), `reason="probe failed"`)

		time.Sleep(1100 * time.Millisecond)
		panicking := breaker.Breaker[int](cb)(func(context.Context) (int, error) { panic("boom") })
		assert.Panics(t, func() { _, _ = panicking(t.Context()) })
		assert.Contains(t, buf.String(), `reason="probe panicked: boom"`)

		cb.Reset()
		assert.Contains(t, buf.String(), `msg="circuit breaker reset" breaker="" from=open to=closed reason="Reset called"`)
	})
}

func TestConcurrentUse(t *testing.T) {
	cb := newBreaker(t, breaker.Settings{
		ConsecutiveFailures: 20, FailureRate: 0.6, TimeoutRate: 0.5, MinRequests: 20,
		SlowCallRate: 0.9, SlowCallDuration: time.Millisecond,
		Window: 50 * time.Millisecond, OpenTimeout: time.Millisecond, HalfOpenRequests: 3,
		OnStateChange: func(string, breaker.State, breaker.State) {},
	})
	var ran, rejected atomic.Int64
	var n atomic.Int64
	call := breaker.Breaker[int](cb)(func(ctx context.Context) (int, error) {
		ran.Add(1)
		switch n.Add(1) % 7 {
		case 0:
			return 0, errTimedOut
		case 1, 2:
			return 0, errDown
		case 3:
			panic("boom")
		}
		return 1, nil
	})

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				func() {
					defer func() { _ = recover() }()
					_, err := call(context.Background())
					if errors.Is(err, breaker.ErrOpen) {
						rejected.Add(1)
					}
				}()
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			switch i % 50 {
			case 10:
				cb.Isolate()
			case 11:
				cb.Reset()
			}
			_ = cb.Snapshot()
			_ = cb.State()
			time.Sleep(100 * time.Microsecond)
		}
	})
	wg.Wait()
	cb.Reset()

	assert.Equal(t, int64(8*2000), ran.Load()+rejected.Load(), "every call either ran or was rejected")
	snap := cb.Snapshot()
	assert.Equal(t, uint64(rejected.Load()), snap.Rejected)

	// After the storm the breaker still follows its rules exactly.
	require.Equal(t, breaker.StateClosed, snap.State)
	fail := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 0, errDown })
	for range 19 {
		_, _ = fail(context.Background())
	}
	assert.Equal(t, breaker.StateClosed, cb.State())
	_, _ = fail(context.Background())
	assert.Equal(t, breaker.StateOpen, cb.State(), "20 failures in a row")
	cb.Reset()
}

// OnStateChange is called one call at a time and in the order of the
// changes, whichever goroutines make them (calls, probes, the open timer,
// Isolate and Reset): each change starts in the state the last one ended
// in. The hook takes a while, so goroutines that make changes meanwhile
// must leave their events to the one delivering.
func TestOnStateChange_oneCallAtATimeInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			inFlight, overlaps atomic.Int32
			mu                 sync.Mutex
			last               = breaker.StateClosed // guarded by mu
			changes            int                   // guarded by mu
			misordered         []string              // guarded by mu
		)
		cb := newBreaker(t, breaker.Settings{
			ConsecutiveFailures: 2, OpenTimeout: time.Millisecond, HalfOpenRequests: 2,
			OnStateChange: func(_ string, from, to breaker.State) {
				if inFlight.Add(1) > 1 {
					overlaps.Add(1)
				}
				defer inFlight.Add(-1)
				mu.Lock()
				if from != last {
					misordered = append(misordered, fmt.Sprintf("%v->%v after ->%v", from, to, last))
				}
				last = to
				changes++
				mu.Unlock()
				time.Sleep(20 * time.Microsecond)
			},
		})
		var n atomic.Int64
		call := breaker.Breaker[int](cb)(func(context.Context) (int, error) {
			time.Sleep(10 * time.Microsecond)
			if n.Add(1)%4 < 2 { // two failures (a trip), then two successes (a close)
				return 0, errDown
			}
			return 1, nil
		})

		var callers, operators sync.WaitGroup
		var stop atomic.Bool
		for range 4 {
			callers.Go(func() {
				for !stop.Load() {
					_, _ = call(context.Background())
					time.Sleep(20 * time.Microsecond)
				}
			})
		}
		for range 2 {
			operators.Go(func() {
				for range 50 {
					cb.Isolate()
					time.Sleep(50 * time.Microsecond)
					cb.Reset()
					time.Sleep(5 * time.Millisecond) // trips, probes, reopens, closes
				}
			})
		}
		operators.Wait()
		stop.Store(true)
		callers.Wait()
		cb.Isolate()
		synctest.Wait() // an open timer's goroutine may still be delivering
		cb.Reset()

		mu.Lock()
		defer mu.Unlock()
		assert.Zero(t, overlaps.Load(), "calls of OnStateChange overlapped")
		assert.Empty(t, misordered, "changes delivered out of order")
		assert.Equal(t, breaker.StateClosed, last, "the last change delivered is Reset's")
		tr := cb.Snapshot().Transitions
		t.Logf("%d changes delivered; %+v", changes, tr)
		// Every kind of change took part.
		assert.Positive(t, tr.Trips)
		assert.Positive(t, tr.HalfOpens)
		assert.Positive(t, tr.Closes)
		assert.Positive(t, tr.Reopens)
		assert.Positive(t, tr.Isolations)
	})
}
