package bulkhead_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// Calls beyond MaxConcurrent with no queue are rejected at once, without
// calling next, with an error that says which limit and is a rejection.
func TestLimit_rejectsBeyondMaxConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, bulkhead.Config{Name: "db", MaxConcurrent: 2})
		g := newGate()
		var calls atomic.Int64
		f := bulkhead.Limit[string](b)(func(ctx context.Context) (string, error) {
			calls.Add(1)
			return g.fn("call")(ctx)
		})
		r1, r2 := start(t.Context(), f), start(t.Context(), f)
		synctest.Wait()
		require.EqualValues(t, 2, calls.Load())

		start := time.Now()
		_, err := f(t.Context())
		assert.Zero(t, time.Since(start), "rejected without waiting")
		assert.ErrorIs(t, err, bulkhead.ErrFull)
		assert.True(t, resilience.IsRejected(err))
		assert.Equal(t, resilience.OutcomeRejected, resilience.Classify(t.Context(), err))
		var be *bulkhead.Error
		require.ErrorAs(t, err, &be)
		assert.Equal(t, "db", be.Name)
		assert.Equal(t, 2, be.MaxConcurrent)
		assert.False(t, be.QueueTimedOut)
		assert.EqualValues(t, 2, calls.Load(), "next not called")

		s := b.Snapshot()
		assert.Equal(t, 2, s.InFlight)
		assert.Equal(t, 0, s.Queued)
		assert.EqualValues(t, 2, s.Admitted)
		assert.EqualValues(t, 1, s.Rejected)

		close(g.open)
		assert.NoError(t, (<-r1).err)
		assert.NoError(t, (<-r2).err)
		assert.Equal(t, 0, b.Snapshot().InFlight)
		_, err = f(t.Context())
		assert.NoError(t, err, "a slot is free again")
	})
}

// Up to MaxQueue calls wait for a slot; the next one is rejected at once.
func TestLimit_queueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1, MaxQueue: 2})
		g := newGate()
		f := bulkhead.Limit[string](b)(g.fn("call"))
		running := start(t.Context(), f)
		synctest.Wait()
		q1, q2 := start(t.Context(), f), start(t.Context(), f)
		synctest.Wait()
		s := b.Snapshot()
		assert.Equal(t, 1, s.InFlight)
		assert.Equal(t, 2, s.Queued)

		_, err := f(t.Context())
		var be *bulkhead.Error
		require.ErrorAs(t, err, &be)
		assert.False(t, be.QueueTimedOut)
		assert.Equal(t, 2, be.MaxQueue)
		_, ok := returned(q1)
		assert.False(t, ok, "queued calls still wait")

		close(g.open)
		for _, ch := range []<-chan result{running, q1, q2} {
			assert.NoError(t, (<-ch).err)
		}
		s = b.Snapshot()
		assert.EqualValues(t, 3, s.Admitted)
		assert.EqualValues(t, 1, s.Rejected)
		assert.Zero(t, s.InFlight+s.Queued)
	})
}

// A call queued for QueueTimeout without a slot is rejected then, and the
// queue forgets it.
func TestLimit_queueTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1, QueueTimeout: 50 * time.Millisecond})
		g := newGate()
		f := bulkhead.Limit[string](b)(g.fn("call"))
		running := start(t.Context(), f)
		synctest.Wait()

		begin := time.Now()
		_, err := f(t.Context())
		assert.Equal(t, 50*time.Millisecond, time.Since(begin))
		assert.ErrorIs(t, err, bulkhead.ErrFull)
		assert.True(t, resilience.IsRejected(err))
		assert.False(t, errors.Is(err, context.DeadlineExceeded), "not the caller's deadline")
		var be *bulkhead.Error
		require.ErrorAs(t, err, &be)
		assert.True(t, be.QueueTimedOut)
		s := b.Snapshot()
		assert.Equal(t, 0, s.Queued)
		assert.EqualValues(t, 1, s.Rejected)
		assert.EqualValues(t, 1, s.QueueTimeouts)

		close(g.open)
		assert.NoError(t, (<-running).err)
	})
}

// With QueueTimeout 0 a queued call waits as long as its context allows.
func TestLimit_queueWaitsWithoutTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1})
		g := newGate()
		f := bulkhead.Limit[string](b)(g.fn("call"))
		running := start(t.Context(), f)
		synctest.Wait()
		queued := start(t.Context(), f)
		time.Sleep(time.Hour)
		synctest.Wait()
		_, ok := returned(queued)
		require.False(t, ok, "still queued after an hour")
		close(g.open)
		assert.NoError(t, (<-running).err)
		assert.NoError(t, (<-queued).err)
		assert.EqualValues(t, 2, b.Snapshot().Admitted)
	})
}

// A queued call whose context is canceled leaves the queue at once with
// the context's error; the slot it waited for goes to the next call.
func TestLimit_canceledWhileQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1, MaxQueue: 2, QueueTimeout: time.Minute})
		g := newGate()
		g.entered = make(chan string, 3)
		f := bulkhead.Limit[string](b)(g.fn("call"))
		running := start(t.Context(), f)
		synctest.Wait()
		ctx, cancel := context.WithCancel(t.Context())
		canceled := start(ctx, f)
		synctest.Wait()
		later := start(t.Context(), f)
		synctest.Wait()

		cancel()
		synctest.Wait()
		r, ok := returned(canceled)
		require.True(t, ok, "left the queue at once")
		assert.ErrorIs(t, r.err, context.Canceled)
		assert.False(t, resilience.IsRejected(r.err))
		s := b.Snapshot()
		assert.Equal(t, 1, s.Queued)
		assert.EqualValues(t, 1, s.Canceled)
		assert.Zero(t, s.Rejected)

		close(g.open)
		assert.NoError(t, (<-running).err)
		assert.NoError(t, (<-later).err)
		assert.Len(t, g.entered, 2, "the canceled call never ran")
		s = b.Snapshot()
		assert.EqualValues(t, 2, s.Admitted)
		assert.Zero(t, s.InFlight+s.Queued)
	})
}

// A queued call whose deadline comes before QueueTimeout leaves at its
// deadline with context.DeadlineExceeded, not a rejection.
func TestLimit_deadlineWhileQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1, QueueTimeout: time.Minute})
		g := newGate()
		f := bulkhead.Limit[string](b)(g.fn("call"))
		running := start(t.Context(), f)
		synctest.Wait()

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		begin := time.Now()
		_, err := f(ctx)
		assert.Equal(t, time.Second, time.Since(begin))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, resilience.IsRejected(err))
		assert.EqualValues(t, 1, b.Snapshot().Canceled)

		close(g.open)
		assert.NoError(t, (<-running).err)
	})
}

// A caller whose context has ended is not queued; with a free slot, next
// is called and sees the context.
func TestLimit_doneContext(t *testing.T) {
	b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.NoError(t, b.Acquire(t.Context())) // every slot taken
	_, err := bulkhead.Limit[string](b)(newGate().fn("call"))(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, b.Snapshot().Queued)
	b.Release()

	_, err = bulkhead.Limit[string](b)(newGate().fn("call"))(ctx)
	assert.ErrorIs(t, err, context.Canceled, "next saw the canceled context")
	assert.Equal(t, 0, b.Snapshot().InFlight)
}

// Queued calls get slots in the order they came, and a call that comes
// while others are queued never takes a slot before them, even one freed
// just then.
func TestLimit_fifo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 5
		b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1, MaxQueue: n + 1})
		var order []string
		var mu sync.Mutex
		release := make(chan struct{})
		f := bulkhead.Limit[string](b)(func(ctx context.Context) (string, error) {
			name := ctx.Value(nameKey{}).(string)
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			<-release
			return name, nil
		})
		named := func(name string) context.Context { return context.WithValue(t.Context(), nameKey{}, name) }

		var chans []<-chan result
		chans = append(chans, start(named("first"), f))
		synctest.Wait()
		for i := range n {
			chans = append(chans, start(named(fmt.Sprint("queued", i)), f))
			synctest.Wait() // so that they queue in this order
		}
		release <- struct{}{}                               // first returns, its slot goes to queued0 ...
		chans = append(chans, start(named("latecomer"), f)) // ... not to this one
		for range n {
			synctest.Wait()
			release <- struct{}{}
		}
		synctest.Wait()
		release <- struct{}{}
		for _, ch := range chans {
			assert.NoError(t, (<-ch).err)
		}
		assert.Equal(t, []string{"first", "queued0", "queued1", "queued2", "queued3", "queued4", "latecomer"}, order)
	})
}

type nameKey struct{}

// A panic in next gives its slot back and goes up the caller's stack with
// its own value.
func TestLimit_panicReleasesSlot(t *testing.T) {
	b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1})
	f := bulkhead.Limit[int](b)(func(context.Context) (int, error) { panic("boom") })
	assert.PanicsWithValue(t, "boom", func() { _, _ = f(t.Context()) })
	assert.Equal(t, 0, b.Snapshot().InFlight)
	require.NoError(t, b.Acquire(t.Context()))
	b.Release()
}

// next's result and error come back unchanged.
func TestLimit_passesResultThrough(t *testing.T) {
	b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1})
	v, err := bulkhead.Limit[int](b)(func(context.Context) (int, error) { return 7, errDown })(t.Context())
	assert.Equal(t, 7, v)
	assert.Same(t, errDown, err)
}

// One bulkhead shared by pipelines of different result types shares its
// slots between them.
func TestLimit_sharedAcrossTypes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1})
		g := newGate()
		s := start(t.Context(), bulkhead.Limit[string](b)(g.fn("s")))
		synctest.Wait()
		_, err := bulkhead.Limit[int](b)(func(context.Context) (int, error) { return 1, nil })(t.Context())
		assert.ErrorIs(t, err, bulkhead.ErrFull)
		close(g.open)
		assert.NoError(t, (<-s).err)
	})
}

func TestRelease_withoutAcquirePanics(t *testing.T) {
	b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 2})
	assert.PanicsWithValue(t, "bulkhead: Release without a slot held", b.Release)
	require.NoError(t, b.Acquire(t.Context()))
	b.Release()
	assert.Panics(t, b.Release)
	//lint:ignore SA1012 a nil context is what is tested
	assert.ErrorIs(t, b.Acquire(nil), resilience.ErrNilContext) //nolint:staticcheck
}

// Under concurrent use, with calls that queue, time out, are canceled and
// panic, never more than MaxConcurrent calls run at once, every call is
// counted once, and every slot comes back.
func TestLimit_concurrent(t *testing.T) {
	const (
		maxConcurrent = 3
		goroutines    = 16
		callsEach     = 300
	)
	b := newBulkhead(t, bulkhead.Config{MaxConcurrent: maxConcurrent, MaxQueue: 8, QueueTimeout: 200 * time.Microsecond})
	var running, most, ran atomic.Int64
	f := bulkhead.Limit[int](b)(func(ctx context.Context) (int, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		ran.Add(1)
		runtime.Gosched()
		if ctx.Value(nameKey{}) == "panic" {
			panic("boom")
		}
		return 1, nil
	})
	var ok, rejected, canceled atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range callsEach {
				ctx, cancel := context.WithCancel(context.Background())
				switch rand.IntN(8) {
				case 0:
					cancel()
				case 1:
					go cancel()
				case 2:
					ctx = context.WithValue(ctx, nameKey{}, "panic")
				}
				func() {
					defer func() { _ = recover() }()
					_, err := f(ctx)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, bulkhead.ErrFull):
						rejected.Add(1)
					case errors.Is(err, context.Canceled):
						canceled.Add(1)
					default:
						t.Errorf("unexpected error %v", err)
					}
				}()
				cancel()
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, most.Load(), int64(maxConcurrent))
	s := b.Snapshot()
	assert.Zero(t, s.InFlight, "every slot came back")
	assert.Zero(t, s.Queued)
	assert.Equal(t, uint64(ran.Load()), s.Admitted, "every admitted call ran next")
	assert.EqualValues(t, rejected.Load(), s.Rejected)
	assert.LessOrEqual(t, s.Canceled, uint64(canceled.Load()))
	t.Logf("%+v; ok %d, rejected %d, canceled %d", s, ok.Load(), rejected.Load(), canceled.Load())
}

// The one test of the rejection messages.
func TestError_message(t *testing.T) {
	e := bulkhead.Error{Name: "payments", MaxConcurrent: 10, MaxQueue: 20, QueueTimeout: 50 * time.Millisecond}
	assert.EqualError(t, &e, `bulkhead "payments": full (MaxConcurrent 10 in flight, MaxQueue 20 queued)`)
	e.QueueTimedOut = true
	assert.EqualError(t, &e, `bulkhead "payments": no slot within QueueTimeout 50ms (MaxConcurrent 10 in flight)`)
	e = bulkhead.Error{MaxConcurrent: 1}
	assert.EqualError(t, &e, `bulkhead: full (MaxConcurrent 1 in flight, no queue)`)
}
