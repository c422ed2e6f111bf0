package breaker_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/internal/testlog"
	"github.com/steadyhq/steady/resilience/breaker"
)

// memStore is a breaker.Store in memory with the semantics the Store
// documentation asks for, so that the breaker's side of the protocol can
// be tested inside a synctest bubble. contrib/redis tests the breaker with
// the real thing.
type memStore struct {
	mu      sync.Mutex
	gen     uint64
	state   breaker.State
	until   time.Time
	counts  map[uint64]breaker.StoreCounts // by generation (no window: tests stay inside one)
	last    map[string]breaker.StoreCounts // by generation and instance: the counts of its last Sync
	leases  map[uint64]bool
	down    bool
	calls   int
	publish int
}

var errStoreDown = errors.New("store down")

func newMemStore() *memStore {
	return &memStore{counts: map[uint64]breaker.StoreCounts{}, last: map[string]breaker.StoreCounts{}, leases: map[uint64]bool{}}
}

func (m *memStore) fleet() breaker.FleetState {
	f := breaker.FleetState{Gen: m.gen, State: m.state}
	if m.state == breaker.StateOpen {
		f.OpenFor = time.Until(m.until)
	}
	return f
}

func (m *memStore) Sync(_ context.Context, _ string, r breaker.SyncRequest) (breaker.FleetState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.down {
		return breaker.FleetState{}, errStoreDown
	}
	f := m.fleet()
	if m.state == breaker.StateClosed {
		if r.Gen == m.gen && r.Instance != "" {
			key := strconv.FormatUint(r.Gen, 10) + "/" + r.Instance
			last, c := m.last[key], m.counts[m.gen]
			c.Successes += r.Counts.Successes - last.Successes
			c.Slow += r.Counts.Slow - last.Slow
			c.Failures += r.Counts.Failures - last.Failures
			c.Timeouts += r.Counts.Timeouts - last.Timeouts
			c.Excluded += r.Counts.Excluded - last.Excluded
			m.counts[m.gen], m.last[key] = c, r.Counts
		}
		f.Counts = m.counts[m.gen]
	}
	return f, nil
}

func (m *memStore) Publish(_ context.Context, _ string, from uint64, to breaker.FleetState) (breaker.FleetState, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.down {
		return breaker.FleetState{}, false, errStoreDown
	}
	if m.gen != from || to.Gen <= from {
		return m.fleet(), false, nil
	}
	m.publish++
	m.gen, m.state, m.until = to.Gen, to.State, time.Now().Add(to.OpenFor)
	return m.fleet(), true, nil
}

func (m *memStore) TryProbe(_ context.Context, _ string, gen uint64, _ time.Duration) (breaker.FleetState, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.down {
		return breaker.FleetState{}, false, errStoreDown
	}
	if gen != m.gen || m.state != breaker.StateOpen || time.Now().Before(m.until) || m.leases[gen] {
		return m.fleet(), false, nil
	}
	m.leases[gen] = true
	return m.fleet(), true, nil
}

func (m *memStore) setDown(down bool) {
	m.mu.Lock()
	m.down = down
	m.mu.Unlock()
}

func (m *memStore) callCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// fleetOf returns n breakers sharing m, which the test closes.
func fleetOf(t *testing.T, m *memStore, n int, s breaker.Settings) []*breaker.CircuitBreaker {
	t.Helper()
	s.Store = m
	if s.SyncInterval == 0 {
		s.SyncInterval = 100 * time.Millisecond
	}
	cbs := make([]*breaker.CircuitBreaker, n)
	for i := range cbs {
		cbs[i] = newBreaker(t, s)
		t.Cleanup(func() { _ = cbs[i].Close() })
	}
	return cbs
}

func do(cb *breaker.CircuitBreaker, err error) bool {
	tk, rej := cb.Allow()
	if rej != nil {
		return false
	}
	tk.Done(context.Background(), err)
	return true
}

func TestStore_tripReachesTheFleetWithinSyncInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		cbs := fleetOf(t, m, 3, breaker.Settings{ConsecutiveFailures: 2, OpenTimeout: time.Minute})
		time.Sleep(250 * time.Millisecond) // mid-interval
		do(cbs[0], errDown)
		do(cbs[0], errDown)
		require.Equal(t, breaker.StateOpen, cbs[0].State())
		synctest.Wait()
		assert.Equal(t, uint64(1), m.gen, "the trip is published at once")
		time.Sleep(100 * time.Millisecond) // one SyncInterval
		synctest.Wait()
		for i, cb := range cbs {
			assert.Equal(t, breaker.StateOpen, cb.State(), "breaker %d", i)
		}
		assert.Equal(t, 1, m.publish, "the others take the fleet's state; they publish nothing")
		// They probe when the fleet does, not a minute after they learned.
		nextProbe := cbs[0].Snapshot().NextProbe
		for _, cb := range cbs[1:] {
			assert.WithinDuration(t, nextProbe, cb.Snapshot().NextProbe, 150*time.Millisecond)
		}
	})
}

func TestStore_theFleetsCountsTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		cbs := fleetOf(t, m, 4, breaker.Settings{FailureRate: 0.5, MinRequests: 20, OpenTimeout: time.Minute})
		for _, cb := range cbs {
			for range 6 { // 24 failures in all, 6 each: below MinRequests locally
				do(cb, errDown)
			}
		}
		time.Sleep(250 * time.Millisecond)
		synctest.Wait()
		for i, cb := range cbs {
			assert.Equal(t, breaker.StateOpen, cb.State(), "breaker %d", i)
		}
		assert.Equal(t, uint64(24), m.counts[0].Failures, "no count lost")
	})
}

func TestStore_oneProbeThenTheFleetCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		cbs := fleetOf(t, m, 3, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		do(cbs[0], errDown)
		time.Sleep(2 * time.Second) // past the open period and its jitter
		synctest.Wait()
		var probes []breaker.Ticket
		for range 10 {
			for _, cb := range cbs {
				if tk, err := cb.Allow(); err == nil {
					probes = append(probes, tk)
				}
			}
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
		require.Len(t, probes, 1, "one probe for the fleet")
		probes[0].Done(context.Background(), nil)
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		for i, cb := range cbs {
			assert.Equal(t, breaker.StateClosed, cb.State(), "breaker %d", i)
		}
	})
}

func TestStore_anIdleProcessLeavesTheProbeToABusyOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		cbs := fleetOf(t, m, 2, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		do(cbs[0], errDown)
		time.Sleep(3 * time.Second) // both half-open, and several rounds later
		synctest.Wait()
		require.Equal(t, breaker.StateHalfOpen, cbs[0].State())
		assert.Empty(t, m.leases, "nobody called: nobody took the lease")

		// Calls come to the second process only: its first is rejected
		// and asks for the lease at once, unless the lease was granted
		// while it came (the sync goroutine and the call race: either
		// order is right); a later one probes.
		if !do(cbs[1], nil) {
			synctest.Wait()
			assert.True(t, do(cbs[1], nil), "the busy process probes")
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		for i, cb := range cbs {
			assert.Equal(t, breaker.StateClosed, cb.State(), "breaker %d", i)
		}
	})
}

func TestStore_downMeansLocal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		var logs testlog.Buffer
		cbs := fleetOf(t, m, 2, breaker.Settings{
			FailureRate: 0.5, MinRequests: 10, OpenTimeout: time.Second,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		// The second breaker's successes hold the first's failures below
		// the rate, while the store answers.
		for range 30 {
			do(cbs[1], nil)
		}
		time.Sleep(250 * time.Millisecond) // two rounds: sent, then learned
		synctest.Wait()
		for range 10 {
			do(cbs[0], errDown)
		}
		assert.Equal(t, breaker.StateClosed, cbs[0].State(), "10 failures of 40 fleet calls")

		m.setDown(true)
		time.Sleep(100 * time.Millisecond) // one interval
		synctest.Wait()
		do(cbs[0], errDown)
		assert.Equal(t, breaker.StateOpen, cbs[0].State(), "on its own counts: 11 of 11 failed")
		st := cbs[0].StoreStats()
		assert.False(t, st.Healthy)
		assert.Positive(t, st.Errors)
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 2, strings.Count(logs.String(), "store failed"), "logged once per breaker and outage:\n%s", logs.String())

		// Probes go out without the store's lease, and close the breaker.
		time.Sleep(time.Second)
		synctest.Wait()
		require.True(t, do(cbs[0], nil), "a local probe: %v", cbs[0].State())
		assert.Equal(t, breaker.StateClosed, cbs[0].State())

		m.setDown(false)
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		assert.True(t, cbs[0].StoreStats().Healthy)
		assert.Contains(t, logs.String(), "store answers again")
	})
}

func TestStore_closeSendsWhatIsLeftAndStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		cb := fleetOf(t, m, 1, breaker.Settings{SyncInterval: time.Hour})[0]
		for range 5 {
			do(cb, nil)
		}
		require.NoError(t, cb.Close())
		assert.Equal(t, uint64(5), m.counts[0].Successes)
		n := m.callCount()
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		assert.Equal(t, n, m.callCount(), "no sync after Close")
		assert.True(t, do(cb, nil))
		require.NoError(t, cb.Close())
	})
}

func TestStore_closeWithoutStore(t *testing.T) {
	cb := newBreaker(t, breaker.Settings{})
	assert.NoError(t, cb.Close())
	assert.Equal(t, breaker.StoreStats{}, cb.StoreStats())
	var zero breaker.CircuitBreaker
	assert.NoError(t, zero.Close())
}

func TestStore_commandsDoNotGrowWithCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		cb := fleetOf(t, m, 1, breaker.Settings{SyncInterval: time.Second})[0]
		for range 10 {
			for range 1000 {
				do(cb, nil)
			}
			time.Sleep(time.Second)
		}
		synctest.Wait()
		assert.LessOrEqual(t, m.callCount(), 11, "one store call per SyncInterval for 10,000 calls")
		assert.Equal(t, uint64(10000), m.counts[0].Successes)
	})
}

// TestStore_aWaiterProbesWhenTheLeaseComes: with MaxWaiting, a call that
// waits on a half-open breaker while the fleet's probe lease is asked for
// goes through as the probe once the lease is granted, with no other call
// arriving to wake it.
func TestStore_aWaiterProbesWhenTheLeaseComes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		cbs := fleetOf(t, m, 1, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second, MaxWaiting: 10})
		cb := cbs[0]
		do(cb, errDown)
		time.Sleep(2 * time.Second) // half-open, waiting for the lease
		synctest.Wait()
		require.Equal(t, breaker.StateHalfOpen, cb.State())

		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		tk, err := cb.Wait(ctx)
		require.NoError(t, err, "the waiter went through")
		assert.Less(t, time.Since(start), time.Second, "within a sync round or so of asking for the lease")
		tk.Done(t.Context(), nil)
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, breaker.StateClosed, cb.State(), "the waiter's probe closed it")
	})
}
