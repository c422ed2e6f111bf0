package breaker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

// dependency is a call that takes `took` and fails while down is set.
type dependency struct {
	down  atomic.Bool
	took  time.Duration
	calls atomic.Int64
}

func (d *dependency) call(ctx context.Context) (int, error) {
	d.calls.Add(1)
	time.Sleep(d.took)
	if d.down.Load() {
		return 0, errDown
	}
	return 1, nil
}

// tripped returns a breaker with MaxWaiting that the dependency d, down,
// has just opened (OpenTimeout 1s), and the pipeline through it.
func tripped(t *testing.T, maxWaiting int, d *dependency) (*breaker.CircuitBreaker, resilience.Func[int]) {
	cb := newBreaker(t, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second, MaxWaiting: maxWaiting})
	f := breaker.Breaker[int](cb)(d.call)
	d.down.Store(true)
	if _, err := f(t.Context()); !errors.Is(err, errDown) {
		t.Fatalf("tripping call: %v", err)
	}
	if cb.State() != breaker.StateOpen {
		t.Fatalf("state %v, want open", cb.State())
	}
	return cb, f
}

func TestWait_aWaiterGetsThroughWhenTheDependencyRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dependency{took: 10 * time.Millisecond}
		cb, f := tripped(t, 10, d)
		start := time.Now()
		go func() {
			time.Sleep(500 * time.Millisecond)
			d.down.Store(false) // recovered before the probe
		}()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		v, err := f(ctx)
		if err != nil || v != 1 {
			t.Fatalf("= %d, %v; want the call to wait for the recovery and succeed", v, err)
		}
		// The open period is 1s plus up to 10% jitter; the call is the probe.
		if el := time.Since(start); el < time.Second || el > 1200*time.Millisecond {
			t.Errorf("succeeded after %v, want right after the open period (1-1.1s)", el)
		}
		if d.calls.Load() != 2 {
			t.Errorf("the dependency got %d calls, want 2 (the tripping one and the probe)", d.calls.Load())
		}
		if s := cb.Snapshot(); s.Waited != 1 || s.Waiting != 0 || s.Rejected != 0 || s.State != breaker.StateClosed {
			t.Errorf("Snapshot = %+v", s)
		}
	})
}

func TestWait_aDeadlineBeforeTheNextProbeFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dependency{}
		cb, f := tripped(t, 10, d)
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f(ctx)
		if !errors.Is(err, breaker.ErrOpen) || time.Since(start) != 0 {
			t.Errorf("err = %v after %v; want the rejection at once", err, time.Since(start))
		}
		if s := cb.Snapshot(); s.Rejected != 1 || s.Waited != 0 {
			t.Errorf("Snapshot = %+v", s)
		}
	})
}

func TestWait_aWaiterCanceledWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dependency{}
		cb, f := tripped(t, 10, d)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(300*time.Millisecond, cancel)
		start := time.Now()
		_, err := f(ctx)
		if !errors.Is(err, breaker.ErrOpen) || time.Since(start) != 300*time.Millisecond {
			t.Errorf("err = %v after %v; want the rejection when the caller gave up (300ms)", err, time.Since(start))
		}
		if s := cb.Snapshot(); s.Waiting != 0 || s.Rejected != 1 {
			t.Errorf("Snapshot = %+v; want no one waiting and one rejection", s)
		}
		if d.calls.Load() != 1 {
			t.Errorf("the dependency got %d calls, want only the tripping one", d.calls.Load())
		}
	})
}

func TestWait_maxWaitingExceededFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dependency{}
		cb, f := tripped(t, 2, d)
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { _, _ = f(t.Context()) })
		}
		synctest.Wait()
		if n := cb.Snapshot().Waiting; n != 2 {
			t.Fatalf("Waiting = %d, want 2", n)
		}
		start := time.Now()
		if _, err := f(t.Context()); !errors.Is(err, breaker.ErrOpen) || time.Since(start) != 0 {
			t.Errorf("the third call: err = %v after %v; want the rejection at once", err, time.Since(start))
		}
		d.down.Store(false)
		wg.Wait()
	})
}

func TestWait_isolatedDoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{MaxWaiting: 10})
		cb.Isolate()
		f := breaker.Breaker[int](cb)((&dependency{}).call)
		start := time.Now()
		if _, err := f(t.Context()); !errors.Is(err, breaker.ErrOpen) || time.Since(start) != 0 {
			t.Errorf("err = %v after %v; want the rejection at once", err, time.Since(start))
		}
	})
}

// When a probe fails, its caller gets the failure (a call is never run
// twice), and the waiters wait for the next probe; those whose deadline
// comes before it give up at once.
func TestWait_aFailedProbeSendsWaitersBackOrAway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dependency{took: 300 * time.Millisecond}
		cb, f := tripped(t, 10, d)
		start := time.Now()
		type result struct {
			err error
			at  time.Duration
		}
		wait := func(deadline time.Duration) chan result {
			out := make(chan result, 1)
			go func() {
				ctx, cancel := context.WithTimeout(t.Context(), deadline)
				defer cancel()
				_, err := f(ctx)
				out <- result{err, time.Since(start)}
			}()
			return out
		}
		probe := wait(10 * time.Second) // waits, then is the first probe, which fails
		time.Sleep(1150 * time.Millisecond)
		if cb.State() != breaker.StateHalfOpen {
			t.Fatalf("state %v, want half-open: the first probe in flight", cb.State())
		}
		short, long := wait(time.Second), wait(10*time.Second) // deadlines 2.15s and 11.15s
		// The probe fails at about 1.45s: the breaker reopens with its next
		// probe 1-1.1s later, after the short waiter's deadline.
		time.Sleep(500 * time.Millisecond)
		if cb.State() != breaker.StateOpen {
			t.Fatalf("state %v, want open again", cb.State())
		}
		d.down.Store(false)
		rp, rs, rl := <-probe, <-short, <-long
		if !errors.Is(rs.err, breaker.ErrOpen) || rs.at > 1500*time.Millisecond {
			t.Errorf("the waiter with 1s: %v at %v; want the rejection when the probe failed (~1.45s)", rs.err, rs.at)
		}
		if !errors.Is(rp.err, errDown) {
			t.Errorf("the first probe's caller: %v, want its own failure", rp.err)
		}
		if rl.err != nil {
			t.Errorf("the waiter with 10s: %v, want it to get through as the second probe", rl.err)
		}
		if n := d.calls.Load(); n != 3 {
			t.Errorf("the dependency got %d calls, want 3 (tripping, two probes)", n)
		}
		if cb.State() != breaker.StateClosed {
			t.Errorf("state %v, want closed", cb.State())
		}
	})
}

// When a probe closes the breaker, the waiters go through paced by
// success, doubling each round trip, not all at once.
func TestWait_waitersAreReleasedWithoutAHerd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const probe = 20 * time.Millisecond
		d := &dependency{took: probe}
		cb, _ := tripped(t, 100, d)
		var mu sync.Mutex
		var started []time.Duration
		var t0 time.Time
		f := breaker.Breaker[int](cb)(func(ctx context.Context) (int, error) {
			mu.Lock()
			started = append(started, time.Since(t0))
			mu.Unlock()
			return d.call(ctx)
		})
		d.down.Store(false)
		t0 = time.Now()
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				if _, err := f(t.Context()); err != nil {
					t.Errorf("a waiter failed: %v", err)
				}
			})
		}
		wg.Wait()
		if len(started) != 64 {
			t.Fatalf("%d calls reached the dependency, want 64", len(started))
		}
		// started[0] is the probe; the breaker closes one probe later.
		// Then each success lets two more waiters through: with calls of
		// one probe's duration, 2 go at once, 4 more a round trip later,
		// then 8, 16...: by k round trips, at most 2^(k+2) - 2.
		closed := started[0] + probe
		for k := 0; k <= 5; k++ {
			upTo := closed + time.Duration(k)*probe
			n := 0
			for _, s := range started[1:] {
				if s <= upTo {
					n++
				}
			}
			if limit := 1<<(k+2) - 2; n > limit {
				t.Errorf("%d waiters through by %v after the close, want at most %d", n, upTo-closed, limit)
			}
		}
		if last := started[len(started)-1] - closed; last > 8*probe {
			t.Errorf("the last waiter went through %v after the close, want within 6 round trips of %v", last, probe)
		}
		if s := cb.Snapshot(); s.Waited != 64 || s.Waiting != 0 {
			t.Errorf("Snapshot = %+v", s)
		}
	})
}

func TestWait_badMaxWaiting(t *testing.T) {
	err := breaker.Settings{MaxWaiting: -1}.Validate()
	if err == nil || err.Error() != "breaker: Settings.MaxWaiting is -1, want >= 0 (0: reject at once)" {
		t.Errorf("Validate = %v", err)
	}
}
