package redis_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/contrib/redis"
	"github.com/steadyhq/steady/internal/testlog"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

var errDown = errors.New("dependency down")

// fleet makes n breakers named "db" that share s, each with its own
// client and Store, as n processes would, and closes them when the test
// ends.
func fleet(t *testing.T, s *server, n int, set breaker.Settings) []*breaker.CircuitBreaker {
	t.Helper()
	set.Name = "db"
	if set.SyncInterval == 0 {
		set.SyncInterval = 100 * time.Millisecond
	}
	cbs := make([]*breaker.CircuitBreaker, n)
	for i := range cbs {
		st, err := redis.NewStore(s.client(t), redis.Options{Prefix: "test:" + t.Name() + ":"})
		require.NoError(t, err)
		set.Store = st
		cb, err := breaker.New(set)
		require.NoError(t, err)
		t.Cleanup(func() { _ = cb.Close() })
		cbs[i] = cb
	}
	return cbs
}

// call makes one call through cb that ends with err; it reports whether
// cb let it through.
func call(cb *breaker.CircuitBreaker, err error) bool {
	tk, rej := cb.Allow()
	if rej != nil {
		return false
	}
	tk.Done(context.Background(), err)
	return true
}

func states(cbs []*breaker.CircuitBreaker) []breaker.State {
	s := make([]breaker.State, len(cbs))
	for i, cb := range cbs {
		s[i] = cb.State()
	}
	return s
}

func allIn(cbs []*breaker.CircuitBreaker, want breaker.State) func() bool {
	return func() bool {
		for _, cb := range cbs {
			if cb.State() != want {
				return false
			}
		}
		return true
	}
}

func TestFleet_tripsOnTheFleetsCounts(t *testing.T) {
	s := startServer(t)
	// 30 calls needed; each of three processes sees only 12, all failed.
	cbs := fleet(t, s, 3, breaker.Settings{FailureRate: 0.5, MinRequests: 30, OpenTimeout: time.Minute})
	for _, cb := range cbs {
		for range 12 {
			require.True(t, call(cb, errDown))
		}
		assert.Equal(t, breaker.StateClosed, cb.State(), "12 calls are below MinRequests for one process")
	}
	require.Eventually(t, allIn(cbs, breaker.StateOpen), 5*time.Second, 5*time.Millisecond, "states: %v", states(cbs))
	for _, cb := range cbs {
		assert.False(t, call(cb, nil), "an open breaker lets no call through")
	}
}

func TestFleet_rulesWeighTheFleetsCounts(t *testing.T) {
	s := startServer(t)
	cbs := fleet(t, s, 2, breaker.Settings{FailureRate: 0.5, MinRequests: 10, OpenTimeout: time.Minute})
	// The first process has 20 successes; the second's 10 failures are 10
	// of 30 calls across the fleet: below the rate, though 100% locally.
	for range 20 {
		call(cbs[0], nil)
	}
	// Two rounds of the first process (one started after the calls), then
	// two of the second: it knows of the successes.
	waitRounds(t, cbs[0], 2)
	waitRounds(t, cbs[1], 2)
	for range 10 {
		call(cbs[1], errDown)
	}
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, []breaker.State{breaker.StateClosed, breaker.StateClosed}, states(cbs))
}

// waitRounds waits until cb has synced n more times.
func waitRounds(t *testing.T, cb *breaker.CircuitBreaker, n uint64) {
	t.Helper()
	from := cb.StoreStats().Calls
	require.Eventually(t, func() bool { return cb.StoreStats().Calls >= from+n }, 10*time.Second, time.Millisecond)
}

func TestFleet_aTripReachesEveryProcess(t *testing.T) {
	s := startServer(t)
	const interval = 100 * time.Millisecond
	cbs := fleet(t, s, 3, breaker.Settings{ConsecutiveFailures: 3, OpenTimeout: time.Minute, SyncInterval: interval})
	for range 3 {
		call(cbs[0], errDown)
	}
	start := time.Now()
	require.Equal(t, breaker.StateOpen, cbs[0].State())
	require.Eventually(t, allIn(cbs, breaker.StateOpen), 5*time.Second, time.Millisecond, "states: %v", states(cbs))
	t.Logf("every process open %v after the trip (SyncInterval %v)", time.Since(start), interval)
	for _, cb := range cbs[1:] {
		snap := cb.Snapshot()
		assert.Equal(t, uint64(1), snap.Transitions.Trips)
		assert.False(t, snap.NextProbe.IsZero())
	}
}

func TestFleet_oneProcessProbes(t *testing.T) {
	s := startServer(t)
	const openFor = time.Second // also the lease
	cbs := fleet(t, s, 3, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: openFor})
	call(cbs[0], errDown)
	require.Eventually(t, allIn(cbs, breaker.StateOpen), 5*time.Second, time.Millisecond)

	// Every process calls every millisecond once the open period is over;
	// only the one with the fleet's lease gets a probe through. Its probe
	// hangs (no Done yet), and the others keep rejecting.
	var (
		probe breaker.Ticket
		who   = -1
	)
	deadline := time.Now().Add(5 * time.Second)
	for who < 0 && time.Now().Before(deadline) {
		for i, cb := range cbs {
			if tk, err := cb.Allow(); err == nil {
				probe, who = tk, i
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	require.GreaterOrEqual(t, who, 0, "no probe within 5s; states %v", states(cbs))
	// For part of the lease (OpenTimeout), nobody else probes.
	end := time.Now().Add(openFor / 4)
	for time.Now().Before(end) {
		for i, cb := range cbs {
			if tk, err := cb.Allow(); err == nil {
				tk.Done(context.Background(), nil)
				t.Fatalf("process %d probed while %d held the lease", i, who)
			}
		}
		time.Sleep(time.Millisecond)
	}
	// The probe succeeds: the whole fleet closes.
	probe.Done(context.Background(), nil)
	require.Eventually(t, allIn(cbs, breaker.StateClosed), 5*time.Second, time.Millisecond, "states: %v", states(cbs))
}

func TestFleet_aFailedProbeReopensTheFleet(t *testing.T) {
	s := startServer(t)
	cbs := fleet(t, s, 2, breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: 200 * time.Millisecond})
	call(cbs[0], errDown)
	require.Eventually(t, allIn(cbs, breaker.StateOpen), 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		for _, cb := range cbs {
			if call(cb, errDown) {
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		for _, cb := range cbs {
			if cb.Snapshot().Transitions.Reopens == 0 {
				return false
			}
		}
		return true
	}, 5*time.Second, time.Millisecond, "both processes see the reopen")
}

func TestFleet_redisDownThenBack(t *testing.T) {
	s := startServer(t)
	var logs testlog.Buffer
	cbs := fleet(t, s, 2, breaker.Settings{
		ConsecutiveFailures: 3,
		OpenTimeout:         time.Minute,
		Logger:              slog.New(slog.NewTextHandler(&logs, nil)),
	})
	call(cbs[0], nil)
	require.Eventually(t, func() bool { return cbs[0].StoreStats().Calls > 2 }, 5*time.Second, time.Millisecond)

	// Calls run on the second process all along, and each returns its own
	// result while Redis dies and the breakers lose it.
	ok := resilience.Compose(breaker.Breaker[int](cbs[1]))(func(context.Context) (int, error) { return 7, nil })
	var (
		wg   sync.WaitGroup
		done = make(chan struct{})
		runs int
	)
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			v, err := ok(context.Background())
			assert.NoError(t, err)
			assert.Equal(t, 7, v)
			runs++
			time.Sleep(time.Millisecond)
		}
	})
	s.stop()
	require.Eventually(t, func() bool {
		return !cbs[0].StoreStats().Healthy && !cbs[1].StoreStats().Healthy
	}, 5*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	close(done)
	wg.Wait()
	assert.Positive(t, runs)

	// The local rules work.
	fail := resilience.Compose(breaker.Breaker[int](cbs[0]))(func(context.Context) (int, error) { return 0, errDown })
	for range 3 {
		_, err := fail(context.Background())
		require.ErrorIs(t, err, errDown)
	}
	assert.Equal(t, breaker.StateOpen, cbs[0].State(), "the local rule trips with Redis down")
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, breaker.StateClosed, cbs[1].State(), "no store, no news of the trip")
	st := cbs[0].StoreStats()
	assert.Greater(t, st.Errors, uint64(0))
	assert.Contains(t, logs.String(), "store failed")

	// Redis comes back, empty: the trip is published again and reaches
	// the other process.
	s.start()
	require.Eventually(t, allIn(cbs, breaker.StateOpen), 10*time.Second, time.Millisecond, "states: %v", states(cbs))
	require.Eventually(t, func() bool { return cbs[0].StoreStats().Healthy }, 10*time.Second, time.Millisecond)
	assert.Contains(t, logs.String(), "store answers again")
}

func TestFleet_noLostCounts(t *testing.T) {
	s := startServer(t)
	const n, calls = 16, 500
	cbs := fleet(t, s, n, breaker.Settings{FailureRate: 1, MinRequests: 1 << 30, Window: time.Minute, OpenTimeout: time.Minute})
	var wg sync.WaitGroup
	for i, cb := range cbs {
		wg.Go(func() {
			for j := range calls {
				var err error
				if (i+j)%2 == 0 {
					err = errDown
				}
				call(cb, err)
			}
		})
	}
	wg.Wait()
	for _, cb := range cbs {
		require.NoError(t, cb.Close()) // sends what is left
	}
	st := newStore(t, s)
	// newStore's prefix is the test's: the same keys as the fleet's.
	f, err := st.Sync(context.Background(), "db", breaker.SyncRequest{Window: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, uint64(n*calls/2), f.Counts.Failures)
	assert.Equal(t, uint64(n*calls/2), f.Counts.Successes)
}

func TestFleet_closeStopsSyncing(t *testing.T) {
	s := startServer(t)
	cbs := fleet(t, s, 1, breaker.Settings{})
	require.NoError(t, cbs[0].Close())
	require.NoError(t, cbs[0].Close())
	n := cbs[0].StoreStats().Calls
	time.Sleep(150 * time.Millisecond)
	assert.Equal(t, n, cbs[0].StoreStats().Calls)
	assert.True(t, call(cbs[0], nil), "a closed breaker still works, locally")
}
