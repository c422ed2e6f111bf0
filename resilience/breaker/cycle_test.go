package breaker_test

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/internal/testlog"
	"github.com/steadyhq/steady/resilience/breaker"
)

// blocker is a Func that waits for release before it returns err.
type blocker struct {
	release chan error
	started chan struct{}
}

func newBlocker() *blocker {
	return &blocker{release: make(chan error), started: make(chan struct{}, 100)}
}

func (b *blocker) fn(ctx context.Context) (op, error) {
	b.started <- struct{}{}
	select {
	case err := <-b.release:
		return opOK, err
	case <-ctx.Done():
		return opOK, ctx.Err()
	}
}

// goCall starts a call of call in a goroutine; its error arrives on the
// returned channel.
func goCall(ctx context.Context, call func(context.Context) (op, error)) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := call(ctx)
		done <- err
	}()
	return done
}

func TestCycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr transitions
		const openTimeout = 5 * time.Second
		cb := newBreaker(t, breaker.Settings{
			Name:             "payments",
			TimeoutRate:      0.5,
			MinRequests:      4,
			Window:           10 * time.Second,
			OpenTimeout:      openTimeout,
			HalfOpenRequests: 2,
			OnStateChange:    tr.hook,
		})
		c := newCaller(cb)
		blk := newBlocker()
		probe := breaker.Breaker[op](cb)(blk.fn) // a second pipeline on the same breaker

		// Closed: below MinRequests nothing trips, then the timeout rate
		// reaches 0.5 over 4 calls.
		for _, o := range []op{opOK, opOK, opTimeout} {
			require.NotErrorIs(t, c.do(o), breaker.ErrOpen)
		}
		require.Equal(t, breaker.StateClosed, cb.State())
		require.ErrorIs(t, c.do(opTimeout), errTimedOut)
		require.Equal(t, breaker.StateOpen, cb.State())
		trippedAt := time.Now()

		// Open: calls are rejected without calling fn.
		ran := c.calls()
		err := c.do(opOK)
		require.ErrorIs(t, err, breaker.ErrOpen)
		assert.Equal(t, ran, c.calls(), "fn must not run while open")
		var oe *breaker.OpenError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "payments", oe.Name)
		assert.Equal(t, breaker.StateOpen, oe.State)
		assert.False(t, oe.Retryable())
		assert.Greater(t, oe.NextProbe.Sub(trippedAt), openTimeout)
		assert.Less(t, oe.NextProbe.Sub(trippedAt), openTimeout+openTimeout/10)

		snap := cb.Snapshot()
		assert.Equal(t, oe.NextProbe, snap.NextProbe)
		assert.Equal(t, uint64(4), snap.Counts.Calls, "while open, the counts that tripped it")
		assert.Equal(t, uint64(2), snap.Counts.Timeouts)

		// Still open at exactly OpenTimeout (the jitter only adds).
		time.Sleep(openTimeout)
		require.Equal(t, breaker.StateOpen, cb.State())
		require.ErrorIs(t, c.do(opOK), breaker.ErrOpen)
		// Half-open by 1.1×OpenTimeout, without any call needed.
		time.Sleep(openTimeout / 10)
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		assert.True(t, cb.Snapshot().NextProbe.IsZero())

		// Half-open: two probes may run; a third call is rejected.
		p1 := goCall(context.Background(), probe)
		p2 := goCall(context.Background(), probe)
		<-blk.started
		<-blk.started
		ran = c.calls()
		err = c.do(opOK)
		require.ErrorIs(t, err, breaker.ErrOpen)
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, breaker.StateHalfOpen, oe.State)
		assert.Equal(t, ran, c.calls())

		// Both probes succeed: closed, with a fresh window.
		blk.release <- nil
		var second <-chan error
		select { // either probe may have taken the release
		case err := <-p1:
			require.NoError(t, err)
			second = p2
		case err := <-p2:
			require.NoError(t, err)
			second = p1
		}
		require.Equal(t, breaker.StateHalfOpen, cb.State(), "one of two probes is not enough")
		blk.release <- nil
		require.NoError(t, <-second)
		require.Equal(t, breaker.StateClosed, cb.State())
		assert.Equal(t, breaker.Counts{}, cb.Snapshot().Counts)
		require.NoError(t, c.do(opOK))

		// Trip again; this time the first probe times out: open again.
		for range 3 {
			_ = c.do(opTimeout)
		}
		require.Equal(t, breaker.StateOpen, cb.State())
		time.Sleep(openTimeout + openTimeout/10)
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		require.ErrorIs(t, c.do(opTimeout), errTimedOut)
		require.Equal(t, breaker.StateOpen, cb.State())
		require.ErrorIs(t, c.do(opOK), breaker.ErrOpen)

		// And recover with two sequential probes.
		time.Sleep(openTimeout + openTimeout/10)
		require.NoError(t, c.do(opOK))
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		require.NoError(t, c.do(opOK))
		require.Equal(t, breaker.StateClosed, cb.State())

		assert.Equal(t, []string{
			"closed->open", "open->half-open", "half-open->closed",
			"closed->open", "open->half-open", "half-open->open",
			"open->half-open", "half-open->closed",
		}, tr.list())
		snap = cb.Snapshot()
		assert.Equal(t, breaker.Transitions{Trips: 2, HalfOpens: 3, Closes: 2, Reopens: 1}, snap.Transitions)
		assert.Equal(t, uint64(4), snap.Rejected)
	})
}

func TestCycle_defaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{})
		c := newCaller(cb)
		for range 5 {
			_ = c.do(opFail)
		}
		require.Equal(t, breaker.StateOpen, cb.State())
		time.Sleep(breaker.DefaultOpenTimeout)
		require.Equal(t, breaker.StateOpen, cb.State())
		time.Sleep(breaker.DefaultOpenTimeout / 10)
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		// One probe (the default HalfOpenRequests) closes it.
		require.NoError(t, c.do(opOK))
		require.Equal(t, breaker.StateClosed, cb.State())
	})
}

func TestHalfOpen_oneProbeAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		c := newCaller(cb)
		blk := newBlocker()
		probe := breaker.Breaker[op](cb)(blk.fn)

		_ = c.do(opFail)
		time.Sleep(1100 * time.Millisecond)
		require.Equal(t, breaker.StateHalfOpen, cb.State())

		p := goCall(context.Background(), probe)
		<-blk.started
		ran := c.calls()
		for range 3 {
			require.ErrorIs(t, c.do(opOK), breaker.ErrOpen)
		}
		assert.Equal(t, ran, c.calls())
		blk.release <- errDown
		require.ErrorIs(t, <-p, errDown)
		require.Equal(t, breaker.StateOpen, cb.State(), "a failed probe reopens the breaker")
		assert.Equal(t, uint64(3), cb.Snapshot().Rejected)
		cb.Reset()
	})
}

func TestHalfOpen_canceledProbeFreesItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		c := newCaller(cb)
		_ = c.do(opFail)
		time.Sleep(1100 * time.Millisecond)
		require.Equal(t, breaker.StateHalfOpen, cb.State())

		// The caller gives up on its probe: neither success nor failure.
		require.ErrorIs(t, c.do(opCanceled), context.Canceled)
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		require.ErrorIs(t, c.do(opDeadline), context.DeadlineExceeded)
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		// The slot is free again for a real probe.
		require.NoError(t, c.do(opOK))
		require.Equal(t, breaker.StateClosed, cb.State())
	})
}

func TestHalfOpen_slowProbeFailsWithSlowCallRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{
			SlowCallRate: 0.5, SlowCallDuration: time.Second, MinRequests: 1, OpenTimeout: time.Minute,
		})
		c := newCaller(cb)
		require.NoError(t, c.do(opSlow))
		require.Equal(t, breaker.StateOpen, cb.State())
		time.Sleep(66 * time.Second)
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		require.NoError(t, c.do(opSlow), "a slow call still returns its result")
		require.Equal(t, breaker.StateOpen, cb.State())
		cb.Reset()
	})
}

func TestWindow_oldCallsAgeOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{TimeoutRate: 0.5, MinRequests: 4, Window: 10 * time.Second})
		c := newCaller(cb)
		for range 3 {
			_ = c.do(opTimeout) // in the first 1s bucket
		}
		assert.Equal(t, uint64(3), cb.Snapshot().Counts.Timeouts)

		time.Sleep(9500 * time.Millisecond) // still inside the window
		assert.Equal(t, uint64(3), cb.Snapshot().Counts.Timeouts)
		require.NoError(t, c.do(opOK))
		assert.Equal(t, uint64(4), cb.Snapshot().Counts.Calls)

		time.Sleep(500 * time.Millisecond) // the first bucket has aged out
		snap := cb.Snapshot().Counts
		assert.Equal(t, uint64(0), snap.Timeouts)
		assert.Equal(t, uint64(1), snap.Calls)

		// Had the old timeouts stayed, this would make 4 in 5 calls and
		// trip; without them it is 1 timeout in 2 calls, below MinRequests.
		_ = c.do(opTimeout)
		assert.Equal(t, breaker.StateClosed, cb.State())
		_ = c.do(opOK)
		_ = c.do(opTimeout)
		assert.Equal(t, breaker.StateOpen, cb.State(), "2 timeouts in 4 calls")
		cb.Reset()
	})
}

func TestWindow_slidesBucketByBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1000, Window: 10 * time.Second})
		c := newCaller(cb)
		for i := range 10 { // one failure in each 1s bucket
			_ = c.do(opFail)
			require.Equal(t, uint64(i+1), cb.Snapshot().Counts.Failures)
			time.Sleep(time.Second)
		}
		for i := range 10 { // and they leave one by one
			require.Equal(t, uint64(9-i), cb.Snapshot().Counts.Failures)
			time.Sleep(time.Second)
		}
		// A long silence, longer than many windows, leaves nothing behind.
		time.Sleep(time.Hour)
		_ = c.do(opFail)
		assert.Equal(t, uint64(1), cb.Snapshot().Counts.Failures)
	})
}

func TestCallsInFlightDuringAChangeAreNotCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 2, OpenTimeout: time.Second})
		c := newCaller(cb)
		blk := newBlocker()
		slow := breaker.Breaker[op](cb)(blk.fn)

		inflight := goCall(context.Background(), slow)
		<-blk.started
		_ = c.do(opFail)
		_ = c.do(opFail)
		require.Equal(t, breaker.StateOpen, cb.State())
		cb.Reset()

		// The call started before the trip ends now: the fresh window
		// must not see it.
		blk.release <- errDown
		require.ErrorIs(t, <-inflight, errDown)
		assert.Equal(t, breaker.Counts{}, cb.Snapshot().Counts)
		_ = c.do(opFail)
		assert.Equal(t, breaker.StateClosed, cb.State(), "only one failure since Reset")
	})
}

func TestOpenTimerAtTestEndIsHarmless(t *testing.T) {
	// A breaker left open holds only a timer, not a goroutine.
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1})
		_ = newCaller(cb).do(opFail)
		require.Equal(t, breaker.StateOpen, cb.State())
	})
}

func TestOnStateChange_mayUseTheBreaker(t *testing.T) {
	// Not in a bubble: a hook run under a lock would deadlock on a mutex,
	// which synctest cannot see; a real-time guard turns that into a
	// failure instead of a hang.
	var (
		cb     *breaker.CircuitBreaker
		mu     sync.Mutex
		states []breaker.State
		snaps  []breaker.Snapshot
	)
	cb = newBreaker(t, breaker.Settings{
		ConsecutiveFailures: 1,
		OnStateChange: func(name string, from, to breaker.State) {
			s := cb.State()
			snap := cb.Snapshot()
			mu.Lock()
			states = append(states, s)
			snaps = append(snaps, snap)
			mu.Unlock()
			if to == breaker.StateOpen {
				cb.Reset() // e.g. an operator's auto-reset; must not deadlock
			}
		},
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = newCaller(cb).do(opFail)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("OnStateChange deadlocked: it must run without the breaker's locks")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, states, 2, "closed->open, then open->closed from the hook's Reset")
	assert.Equal(t, breaker.StateClosed, cb.State())
	assert.Equal(t, uint64(1), snaps[0].Transitions.Trips)
	assert.Equal(t, uint64(1), snaps[0].Counts.Failures)
}

func TestHalfOpen_hugeHalfOpenRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenRequests: math.MaxUint32})
		c := newCaller(cb)
		_ = c.do(opFail)
		time.Sleep(1100 * time.Millisecond)
		require.NoError(t, c.do(opOK), "a probe slot is free")
		assert.Equal(t, breaker.StateHalfOpen, cb.State())
		cb.Reset()
	})
}

func TestHalfOpen_probesAreCountedNotJustInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenRequests: 2})
		c := newCaller(cb)
		blk := newBlocker()
		probe := breaker.Breaker[op](cb)(blk.fn)
		_ = c.do(opFail)
		time.Sleep(1100 * time.Millisecond)

		require.NoError(t, c.do(opOK))  // probe 1 of 2: done
		p := goCall(t.Context(), probe) // probe 2 of 2: in flight
		<-blk.started
		// One probe is in flight but both slots are used: rejected.
		ran := c.calls()
		err := c.do(opOK)
		require.ErrorIs(t, err, breaker.ErrOpen)
		var oe *breaker.OpenError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, breaker.StateHalfOpen, oe.State)
		assert.Equal(t, ran, c.calls())

		blk.release <- nil
		require.NoError(t, <-p)
		assert.Equal(t, breaker.StateClosed, cb.State())
		assert.Equal(t, uint64(1), cb.Snapshot().Rejected)
	})
}

// Breakers that trip at the same instant do not probe in lock-step: each
// open period is OpenTimeout plus its own jitter of up to 10%, and the
// breaker turns half-open at the NextProbe it reported.
func TestOpenTimeout_jitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const openTimeout = 10 * time.Second
		type tripped struct {
			cb        *breaker.CircuitBreaker
			nextProbe time.Time
		}
		all := make([]tripped, 20)
		trippedAt := time.Now() // the fake clock stands still while nothing blocks
		for i := range all {
			cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: openTimeout})
			_ = newCaller(cb).do(opFail)
			require.Equal(t, breaker.StateOpen, cb.State())
			all[i] = tripped{cb, cb.Snapshot().NextProbe}
		}
		require.Equal(t, trippedAt, time.Now())

		periods := make(map[time.Duration]bool)
		for i, tr := range all {
			p := tr.nextProbe.Sub(trippedAt)
			assert.Greater(t, p, openTimeout, "breaker %d", i)
			assert.LessOrEqual(t, p, openTimeout+openTimeout/10, "breaker %d", i)
			periods[p] = true
		}
		assert.Greater(t, len(periods), 1, "20 breakers tripped together must not all probe at the same time")

		// Each turns half-open at its own NextProbe, not before.
		slices.SortFunc(all, func(a, b tripped) int { return a.nextProbe.Compare(b.nextProbe) })
		for i, tr := range all {
			if d := time.Until(tr.nextProbe); d > 0 {
				time.Sleep(d - 1)
				synctest.Wait()
				require.Equal(t, breaker.StateOpen, tr.cb.State(), "breaker %d, 1ns before its NextProbe", i)
				time.Sleep(time.Nanosecond) // to NextProbe exactly
				synctest.Wait()
			}
			require.Equal(t, breaker.StateHalfOpen, tr.cb.State(), "breaker %d, at its NextProbe", i)
		}
	})
}

// A probe whose outcome never comes (its Ticket's Done is never called, as
// with an HTTP response body never closed) counts as failed once it has
// been out for OpenTimeout: the next call reopens the breaker, so that a
// later probe gets through, and the late outcome is not counted.
func TestHalfOpen_probeThatNeverReportsFailsAfterOpenTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf testlog.Buffer
		var tr transitions
		const openTimeout = 10 * time.Second
		cb := newBreaker(t, breaker.Settings{
			ConsecutiveFailures: 1, OpenTimeout: openTimeout,
			Logger: slog.New(slog.NewTextHandler(&buf, nil)), OnStateChange: tr.hook,
		})
		tk, _ := cb.Allow()
		tk.Done(t.Context(), errDown)
		time.Sleep(openTimeout * 11 / 10)
		require.Equal(t, breaker.StateHalfOpen, cb.State())

		lost, err := cb.Allow() // its Done never comes in time
		require.NoError(t, err)
		var oe *breaker.OpenError
		time.Sleep(openTimeout - time.Millisecond)
		_, err = cb.Allow()
		require.ErrorAs(t, err, &oe)
		require.Equal(t, breaker.StateHalfOpen, oe.State, "the probe has not been out for OpenTimeout yet")

		time.Sleep(time.Millisecond)
		_, err = cb.Allow()
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, breaker.StateOpen, oe.State, "the lost probe failed: the breaker reopened")
		assert.True(t, oe.NextProbe.After(time.Now().Add(openTimeout)), "with the usual jitter")
		require.Equal(t, breaker.StateOpen, cb.State())
		assert.Contains(t, buf.String(), `msg="circuit breaker reopened" breaker="" from=half-open to=open reason="probe did not report within OpenTimeout"`)

		time.Sleep(openTimeout * 11 / 10)
		probe, err := cb.Allow()
		require.NoError(t, err, "a later probe gets through")
		probe.Done(t.Context(), nil)
		require.Equal(t, breaker.StateClosed, cb.State())

		lost.Done(t.Context(), errDown) // too late: not counted
		assert.Equal(t, breaker.StateClosed, cb.State())
		assert.Equal(t, breaker.Counts{}, cb.Snapshot().Counts)
		assert.Equal(t, breaker.Transitions{Trips: 1, HalfOpens: 2, Reopens: 1, Closes: 1}, cb.Snapshot().Transitions)
		assert.Equal(t, []string{"closed->open", "open->half-open", "half-open->open", "open->half-open", "half-open->closed"}, tr.list())
	})
}

// A probe is given OpenTimeout from when it was let through, not from when
// the breaker turned half-open.
func TestHalfOpen_probeIsGivenOpenTimeoutFromItsStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const openTimeout = 10 * time.Second
		cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: openTimeout})
		c := newCaller(cb)
		_ = c.do(opFail)
		time.Sleep(openTimeout * 11 / 10)
		require.Equal(t, breaker.StateHalfOpen, cb.State())

		time.Sleep(openTimeout * 8 / 10) // nobody calls for a while
		require.ErrorIs(t, c.do(opCanceled), context.Canceled, "a probe that frees its slot")
		slow, err := cb.Allow()
		require.NoError(t, err)
		time.Sleep(openTimeout * 5 / 10) // the half-open phase is 1.3×OpenTimeout old, the probe 0.5×
		require.ErrorIs(t, c.do(opOK), breaker.ErrOpen)
		require.Equal(t, breaker.StateHalfOpen, cb.State(), "the probe is not given up on yet")
		slow.Done(t.Context(), nil)
		assert.Equal(t, breaker.StateClosed, cb.State())
	})
}
