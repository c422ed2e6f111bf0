package bulkhead_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/bulkhead"
)

// sameKey coalesces every call.
func sameKey(context.Context) string { return "k" }

// keyFromValue coalesces calls by their nameKey value.
func keyFromValue(ctx context.Context) string { s, _ := ctx.Value(nameKey{}).(string); return s }

// upstream is a Func that counts its calls, records each call's context,
// and blocks until open is closed or its context ends.
type upstream struct {
	calls atomic.Int64
	open  chan struct{}
	mu    sync.Mutex
	ctxs  []context.Context
}

func newUpstream() *upstream { return &upstream{open: make(chan struct{})} }

func (u *upstream) fn(ctx context.Context) (string, error) {
	n := u.calls.Add(1)
	u.mu.Lock()
	u.ctxs = append(u.ctxs, ctx)
	u.mu.Unlock()
	select {
	case <-u.open:
		return fmt.Sprint("result ", n), nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// ctx returns the context of the i-th call.
func (u *upstream) ctx(i int) context.Context {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ctxs[i]
}

// 1,000 concurrent calls with one key make one upstream call, and all of
// them get its result.
func TestCoalesce_thousandCallsOneUpstreamCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		f := bulkhead.Coalesce[string](sameKey)(u.fn)
		var chans []<-chan result
		for range 1000 {
			chans = append(chans, start(t.Context(), f))
		}
		synctest.Wait()
		close(u.open)
		for _, ch := range chans {
			r := <-ch
			require.NoError(t, r.err)
			assert.Equal(t, "result 1", r.v)
		}
		assert.EqualValues(t, 1, u.calls.Load())
	})
}

// Calls with different keys, and calls after the shared call finished, run
// on their own.
func TestCoalesce_keys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		f := bulkhead.Coalesce[string](keyFromValue)(u.fn)
		withKey := func(k string) context.Context { return context.WithValue(t.Context(), nameKey{}, k) }
		a1, a2, b := start(withKey("a"), f), start(withKey("a"), f), start(withKey("b"), f)
		synctest.Wait()
		assert.EqualValues(t, 2, u.calls.Load(), "one call per key")
		close(u.open)
		r1, r2, rb := <-a1, <-a2, <-b
		assert.Equal(t, r1, r2)
		assert.NotEqual(t, r1.v, rb.v)

		_, err := f(withKey("a"))
		require.NoError(t, err)
		assert.EqualValues(t, 3, u.calls.Load(), "a call after the shared one ended starts anew")
	})
}

// A call whose key is "" is not coalesced: it calls next itself, in its
// own goroutine, with its own context.
func TestCoalesce_emptyKeyNotCoalesced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		f := bulkhead.Coalesce[string](func(context.Context) string { return "" })(u.fn)
		c1, c2 := start(t.Context(), f), start(t.Context(), f)
		synctest.Wait()
		assert.EqualValues(t, 2, u.calls.Load())
		assert.Equal(t, t.Context(), u.ctx(0), "the caller's own context")
		close(u.open)
		<-c1
		<-c2
	})
}

// The first caller gives up: it returns at once with its context's error,
// and the shared call goes on for the others, who get its result.
func TestCoalesce_firstCallerCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		f := bulkhead.Coalesce[string](sameKey)(u.fn)
		ctx, cancel := context.WithCancel(t.Context())
		first := start(ctx, f)
		synctest.Wait()
		second := start(t.Context(), f)
		synctest.Wait()

		cancel()
		synctest.Wait()
		r, ok := returned(first)
		require.True(t, ok, "the first caller returned at once")
		assert.ErrorIs(t, r.err, context.Canceled)
		assert.NoError(t, u.ctx(0).Err(), "the shared call was not canceled")
		_, ok = returned(second)
		assert.False(t, ok)

		close(u.open)
		r = <-second
		assert.NoError(t, r.err)
		assert.Equal(t, "result 1", r.v)
		assert.EqualValues(t, 1, u.calls.Load())
	})
}

// When every caller has given up, the shared call's context is canceled,
// and the next call of the key starts a new one.
func TestCoalesce_lastCallerCancelsSharedCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		f := bulkhead.Coalesce[string](sameKey)(u.fn)
		ctx1, cancel1 := context.WithCancel(t.Context())
		ctx2, cancel2 := context.WithCancel(t.Context())
		c1 := start(ctx1, f)
		synctest.Wait()
		c2 := start(ctx2, f)
		synctest.Wait()

		cancel1()
		synctest.Wait()
		assert.NoError(t, u.ctx(0).Err())
		cancel2()
		synctest.Wait()
		assert.ErrorIs(t, (<-c1).err, context.Canceled)
		assert.ErrorIs(t, (<-c2).err, context.Canceled)
		shared := u.ctx(0)
		assert.ErrorIs(t, shared.Err(), context.Canceled, "the shared call is canceled")
		assert.ErrorContains(t, context.Cause(shared), "every caller of the coalesced call gave up")

		c3 := start(t.Context(), f)
		synctest.Wait()
		assert.EqualValues(t, 2, u.calls.Load(), "a new shared call, not the canceled one")
		assert.NoError(t, u.ctx(1).Err())
		close(u.open)
		assert.Equal(t, "result 2", (<-c3).v)
	})
}

// The shared call has the first caller's values but not its deadline; it
// runs until the latest deadline among its callers, then is canceled.
func TestCoalesce_deadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		f := bulkhead.Coalesce[string](sameKey)(u.fn)
		begin := time.Now()
		ctx1, cancel1 := context.WithTimeout(context.WithValue(t.Context(), nameKey{}, "first"), time.Second)
		defer cancel1()
		ctx2, cancel2 := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel2()
		c1 := start(ctx1, f)
		synctest.Wait()
		c2 := start(ctx2, f)
		synctest.Wait()
		shared := u.ctx(0)
		_, has := shared.Deadline()
		assert.False(t, has, "no deadline of one caller")
		assert.Equal(t, "first", shared.Value(nameKey{}), "the first caller's values")

		r1 := <-c1
		assert.ErrorIs(t, r1.err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(begin))
		assert.NoError(t, shared.Err(), "alive after the first deadline")

		r2 := <-c2
		assert.ErrorIs(t, r2.err, context.DeadlineExceeded)
		assert.Equal(t, 3*time.Second, time.Since(begin))
		synctest.Wait()
		assert.Error(t, shared.Err(), "canceled at the last deadline")
		assert.EqualValues(t, 1, u.calls.Load())
	})
}

// A caller whose context has already ended gets its error without
// starting or joining a call.
func TestCoalesce_doneContext(t *testing.T) {
	u := newUpstream()
	f := bulkhead.Coalesce[string](sameKey)(u.fn)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, u.calls.Load())
}

// Every caller gets the shared call's value and error.
func TestCoalesce_sharesError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		open := make(chan struct{})
		f := bulkhead.Coalesce[int](sameKey)(func(context.Context) (int, error) {
			<-open
			return 7, errDown
		})
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				v, err := f(t.Context())
				assert.Equal(t, 7, v)
				assert.Same(t, errDown, err)
			})
		}
		synctest.Wait()
		close(open)
		wg.Wait()
	})
}

// Each application of the Policy has keys of its own: two Funcs never
// share a call, even with the same key.
func TestCoalesce_perFunc(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		p := bulkhead.Coalesce[string](sameKey)
		f, g := p(u.fn), p(u.fn)
		c1, c2 := start(t.Context(), f), start(t.Context(), g)
		synctest.Wait()
		assert.EqualValues(t, 2, u.calls.Load())
		close(u.open)
		<-c1
		<-c2
	})
}

// A panic in the shared call is raised again in every caller waiting for
// it, with its original value.
func TestCoalesce_panicReachesEveryCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		open := make(chan struct{})
		f := bulkhead.Coalesce[int](sameKey)(func(context.Context) (int, error) {
			<-open
			panic("boom")
		})
		var panics atomic.Int64
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				defer func() {
					if r := recover(); r == "boom" {
						panics.Add(1)
					}
				}()
				_, _ = f(t.Context())
			})
		}
		synctest.Wait()
		close(open)
		wg.Wait()
		assert.EqualValues(t, 3, panics.Load())
	})
}

// runtime.Goexit in the shared call (t.FailNow, say) ends each caller's
// goroutine too, as it would have without Coalesce.
func TestCoalesce_goexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := bulkhead.Coalesce[int](sameKey)(func(context.Context) (int, error) {
			runtime.Goexit()
			return 0, nil
		})
		var returnedNormally atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = f(t.Context())
			returnedNormally.Store(true)
		}()
		<-done
		assert.False(t, returnedNormally.Load())
	})
}

// A panic in key goes up the caller's stack and leaves nothing behind.
func TestCoalesce_keyPanics(t *testing.T) {
	u := newUpstream()
	close(u.open)
	f := bulkhead.Coalesce[string](func(ctx context.Context) string {
		if ctx.Value(nameKey{}) == "bad" {
			panic("bad key")
		}
		return "k"
	})(u.fn)
	assert.PanicsWithValue(t, "bad key", func() { _, _ = f(context.WithValue(t.Context(), nameKey{}, "bad")) })
	v, err := f(t.Context())
	assert.NoError(t, err)
	assert.Equal(t, "result 1", v)
}

// Coalesce outside Limit: a shared call takes one slot, however many
// callers wait for it.
func TestCoalesce_insideLimitTakesOneSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1})
		u := newUpstream()
		f := resilience.Compose(bulkhead.Coalesce[string](sameKey), bulkhead.Limit[string](b))(u.fn)
		var chans []<-chan result
		for range 10 {
			chans = append(chans, start(t.Context(), f))
		}
		synctest.Wait()
		assert.Equal(t, 1, b.Snapshot().InFlight)
		close(u.open)
		for _, ch := range chans {
			assert.NoError(t, (<-ch).err)
		}
		assert.Zero(t, b.Snapshot().Rejected)
	})
}

// Under concurrent use with few keys and callers that give up at random,
// every caller gets the result or its own context's error, every shared
// call ends, and no goroutine is left (goleak checks it).
func TestCoalesce_concurrent(t *testing.T) {
	var calls atomic.Int64
	f := bulkhead.Coalesce[int](keyFromValue)(func(ctx context.Context) (int, error) {
		calls.Add(1)
		select {
		case <-time.After(time.Duration(rand.IntN(200)) * time.Microsecond):
			return 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	var wg sync.WaitGroup
	var ok, gaveUp atomic.Int64
	for i := range 16 {
		wg.Go(func() {
			for range 300 {
				ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), nameKey{}, fmt.Sprint(i%3)), time.Duration(rand.IntN(300))*time.Microsecond)
				v, err := f(ctx)
				switch {
				case err == nil && v == 1:
					ok.Add(1)
				case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
					gaveUp.Add(1)
				default:
					t.Errorf("got (%d, %v)", v, err)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	t.Logf("%d calls: %d ok, %d gave up; %d upstream calls", 16*300, ok.Load(), gaveUp.Load(), calls.Load())
}

// A panic in a shared call that no caller waits for any more crashes the
// program, as a panic in any goroutine does: it is not hidden. The test
// runs itself in a child process to see it crash.
func TestCoalesce_panicWithNoCallerLeftCrashes(t *testing.T) {
	if os.Getenv("BULKHEAD_TEST_CRASH") == "1" {
		f := bulkhead.Coalesce[int](sameKey)(func(ctx context.Context) (int, error) {
			<-ctx.Done()
			panic("orphaned boom")
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(10 * time.Millisecond); cancel() }()
		_, _ = f(ctx)
		time.Sleep(20 * time.Second) // the crash comes first
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCoalesce_panicWithNoCallerLeftCrashes$", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), "BULKHEAD_TEST_CRASH=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child did not crash: %s", out)
	assert.Contains(t, string(out), "panic: orphaned boom")
}

// A shared call queued in a bulkhead leaves the queue when every caller
// has given up, since its context is then canceled.
func TestCoalesce_abandonedCallLeavesBulkheadQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1})
		require.NoError(t, b.Acquire(t.Context())) // every slot taken
		u := newUpstream()
		f := resilience.Compose(bulkhead.Coalesce[string](sameKey), bulkhead.Limit[string](b))(u.fn)
		ctx, cancel := context.WithCancel(t.Context())
		c1, c2 := start(ctx, f), start(ctx, f)
		synctest.Wait()
		assert.Equal(t, 1, b.Snapshot().Queued, "one shared call queued for both callers")
		cancel()
		synctest.Wait()
		assert.ErrorIs(t, (<-c1).err, context.Canceled)
		assert.ErrorIs(t, (<-c2).err, context.Canceled)
		s := b.Snapshot()
		assert.Equal(t, 0, s.Queued)
		assert.EqualValues(t, 1, s.Canceled)
		b.Release()
		assert.Zero(t, u.calls.Load())
	})
}
