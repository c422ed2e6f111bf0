package redis_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/contrib/redis"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

func newStore(t *testing.T, s *server) *redis.Store {
	t.Helper()
	st, err := redis.NewStore(s.client(t), redis.Options{Prefix: "test:" + t.Name() + ":"})
	require.NoError(t, err)
	return st
}

func TestNewStore_badInput(t *testing.T) {
	_, err := redis.NewStore(nil, redis.Options{})
	require.ErrorIs(t, err, resilience.ErrInvalidConfig)
	assert.ErrorContains(t, err, "NewStore(client)")

	s := startServerOrSkip(t)
	_, err = redis.NewStore(s.client(t), redis.Options{StateTTL: time.Millisecond})
	require.ErrorIs(t, err, resilience.ErrInvalidConfig)
	assert.ErrorContains(t, err, "Options.StateTTL")
}

// startServerOrSkip is startServer, for tests that need Redis only for a
// part.
func startServerOrSkip(t *testing.T) *server { return startServer(t) }

func TestStore_syncAddsAndSumsTheWindow(t *testing.T) {
	st := newStore(t, startServer(t))
	ctx := context.Background()
	first := breaker.StoreCounts{Successes: 3, Slow: 1, Failures: 2, Timeouts: 1, Excluded: 4}
	f, err := st.Sync(ctx, "db", breaker.SyncRequest{Instance: "a", Window: time.Minute, Counts: first})
	require.NoError(t, err)
	assert.Equal(t, breaker.FleetState{State: breaker.StateClosed, Counts: first}, f)

	// a's counts so far, then b's: 5 failures more from a, 1 from b.
	_, err = st.Sync(ctx, "db", breaker.SyncRequest{Instance: "a", Window: time.Minute, Counts: breaker.StoreCounts{Successes: 3, Slow: 1, Failures: 7, Timeouts: 1, Excluded: 4}})
	require.NoError(t, err)
	f, err = st.Sync(ctx, "db", breaker.SyncRequest{Instance: "b", Window: time.Minute, Counts: breaker.StoreCounts{Failures: 1}})
	require.NoError(t, err)
	assert.Equal(t, uint64(8), f.Counts.Failures)
	assert.Equal(t, uint64(3), f.Counts.Successes)

	// Another name shares nothing.
	f, err = st.Sync(ctx, "other", breaker.SyncRequest{Window: time.Minute})
	require.NoError(t, err)
	assert.True(t, f.Counts.IsZero())
}

func TestStore_aRepeatedSyncCountsNothingTwice(t *testing.T) {
	st := newStore(t, startServer(t))
	ctx := context.Background()
	req := breaker.SyncRequest{Instance: "a", Window: time.Minute, Counts: breaker.StoreCounts{Failures: 5}}
	for range 3 { // as after timeouts whose Syncs did reach Redis
		_, err := st.Sync(ctx, "db", req)
		require.NoError(t, err)
	}
	f, err := st.Sync(ctx, "db", breaker.SyncRequest{Instance: "b", Window: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, uint64(5), f.Counts.Failures)
}

func TestStore_syncDropsCountsOfAnOldGeneration(t *testing.T) {
	st := newStore(t, startServer(t))
	ctx := context.Background()
	_, ok, err := st.Publish(ctx, "db", 0, breaker.FleetState{Gen: 1, State: breaker.StateClosed})
	require.NoError(t, err)
	require.True(t, ok)
	f, err := st.Sync(ctx, "db", breaker.SyncRequest{Gen: 0, Instance: "a", Window: time.Minute, Counts: breaker.StoreCounts{Failures: 9}})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), f.Gen)
	assert.True(t, f.Counts.IsZero(), "counts of generation 0 counted in generation 1: %+v", f.Counts)
}

func TestStore_publishChecksTheGeneration(t *testing.T) {
	st := newStore(t, startServer(t))
	ctx := context.Background()
	open := breaker.FleetState{Gen: 1, State: breaker.StateOpen, OpenFor: time.Minute}

	// Eight processes publish a trip from generation 0 at once: one wins.
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won int
	)
	for range 8 {
		wg.Go(func() {
			f, ok, err := st.Publish(ctx, "db", 0, open)
			assert.NoError(t, err)
			assert.Equal(t, uint64(1), f.Gen)
			assert.Equal(t, breaker.StateOpen, f.State)
			mu.Lock()
			if ok {
				won++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, 1, won)

	f, err := st.Sync(ctx, "db", breaker.SyncRequest{Gen: 1, Instance: "a", Window: time.Minute, Counts: breaker.StoreCounts{Failures: 1}})
	require.NoError(t, err)
	assert.Equal(t, breaker.StateOpen, f.State)
	assert.InDelta(t, time.Minute, f.OpenFor, float64(5*time.Second))
	assert.True(t, f.Counts.IsZero(), "an open fleet counts nothing")

	_, ok, err := st.Publish(ctx, "db", 0, breaker.FleetState{Gen: 1, State: breaker.StateClosed})
	require.NoError(t, err)
	assert.False(t, ok, "a stale generation must not win")
	_, ok, err = st.Publish(ctx, "db", 1, breaker.FleetState{Gen: 1, State: breaker.StateClosed})
	require.NoError(t, err)
	assert.False(t, ok, "the generation must grow")
	_, _, err = st.Publish(ctx, "db", 1, breaker.FleetState{Gen: 2, State: breaker.StateHalfOpen})
	assert.Error(t, err)
}

func TestStore_oneProbeLeasePerGeneration(t *testing.T) {
	st := newStore(t, startServer(t))
	ctx := context.Background()
	_, ok, err := st.Publish(ctx, "db", 0, breaker.FleetState{Gen: 1, State: breaker.StateOpen, OpenFor: 50 * time.Millisecond})
	require.NoError(t, err)
	require.True(t, ok)

	_, ok, err = st.TryProbe(ctx, "db", 1, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "no lease while the open period runs")

	require.Eventually(t, func() bool {
		f, err := st.Sync(ctx, "db", breaker.SyncRequest{Gen: 1, Window: time.Minute})
		return err == nil && f.OpenFor <= 0
	}, 5*time.Second, 10*time.Millisecond)

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted int
	)
	for range 8 {
		wg.Go(func() {
			_, ok, err := st.TryProbe(ctx, "db", 1, time.Minute)
			assert.NoError(t, err)
			mu.Lock()
			if ok {
				granted++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, 1, granted)

	// The next generation has a lease of its own.
	_, ok, err = st.Publish(ctx, "db", 1, breaker.FleetState{Gen: 2, State: breaker.StateOpen, OpenFor: time.Millisecond})
	require.NoError(t, err)
	require.True(t, ok)
	require.Eventually(t, func() bool {
		_, ok, err := st.TryProbe(ctx, "db", 2, time.Minute)
		return err == nil && ok
	}, 5*time.Second, 5*time.Millisecond)
}

func TestStore_errorsWhenRedisIsDown(t *testing.T) {
	s := startServer(t)
	st := newStore(t, s)
	s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := st.Sync(ctx, "db", breaker.SyncRequest{Window: time.Minute})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redis: Sync")
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "a refused connection fails at once: %v", err)
}
