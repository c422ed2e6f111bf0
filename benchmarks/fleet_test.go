package benchmarks_test

// The fleet benchmarks (issue 12): 16 instances of one breaker, each with
// its own Redis client as separate processes would have, on one real
// redis-server (redisserver_test.go; skipped without it). They measure
// what issue 12 and ADVANCED.md §5.2 target, as custom metrics:
//
//   - BenchmarkFleetThroughput: 16 instances call a 1ms operation in a
//     loop for fleetRun; calls/s across the fleet for a local breaker
//     (no store), steady's breaker on contrib/redis, and gobreaker's
//     DistributedCircuitBreaker on gobreakerredis_test.go's store.
//     cmds/call is the commands the instances' clients sent over the run
//     (counted by a go-redis hook, Close's last flush included) per call;
//     redis-ops/call is Redis's total_commands_processed per call, which
//     also counts the commands that scripts run inside Redis; lost-% the
//     calls that ran but are missing from the fleet's counts in Redis.
//   - BenchmarkFleetTripPropagation: one instance trips; the time until
//     each of the 15 others is open, p50/p99/max per instance and p99 of
//     the time until the last one is.
//
//	go test -run '^$' -bench Fleet -benchtime 5x -count 1 .

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	steadyredis "github.com/steadyhq/steady/contrib/redis"
	steadybreaker "github.com/steadyhq/steady/resilience/breaker"
)

const (
	fleetSize = 16
	fleetCall = time.Millisecond // each call's duration: about 1,000 calls/s per instance
	fleetRun  = 2 * time.Second  // how long each iteration runs the fleet
)

// fleetImpl is one implementation of a 16-instance fleet.
type fleetImpl struct {
	calls   []func(ctx context.Context, fn func() error) error // one per instance
	close   func()                                             // stops the instances (steady: flushes counts)
	counted func() uint64                                      // calls the shared store counted; nil: no store
}

func BenchmarkFleetThroughput(b *testing.B) {
	r := startRedis(b)
	admin := r.admin(b)
	impls := []struct {
		name  string
		build func(b *testing.B) fleetImpl
	}{
		{"local", func(b *testing.B) fleetImpl { return localFleet(b) }},
		{"steady", func(b *testing.B) fleetImpl { return steadyFleet(b, r) }},
		{"gobreaker", func(b *testing.B) fleetImpl { return gobreakerFleet(b, r) }},
	}
	for _, im := range impls {
		b.Run("impl="+im.name, func(b *testing.B) {
			var calls, lost, cmds, ops, failed float64
			var elapsed time.Duration
			for range b.N {
				r.flush(b, admin)
				f := im.build(b)
				before, sent := r.commands(b, admin), r.sent.Load()
				var ran, errs atomic.Int64
				op := func() error { time.Sleep(fleetCall); ran.Add(1); return nil }
				start := time.Now()
				stop := start.Add(fleetRun)
				var wg sync.WaitGroup
				for _, call := range f.calls {
					wg.Go(func() {
						for time.Now().Before(stop) {
							if call(context.Background(), op) != nil {
								errs.Add(1)
							}
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(start)
				f.close()
				after := r.commands(b, admin)
				n := float64(ran.Load())
				calls += n
				failed += float64(errs.Load())
				ops += float64(after - before - 1)
				cmds += float64(r.sent.Load() - sent)
				if f.counted != nil {
					lost += n - float64(f.counted())
				}
			}
			b.ReportMetric(calls/elapsed.Seconds(), "calls/s")
			b.ReportMetric(calls/elapsed.Seconds()/fleetSize, "calls/s/instance")
			b.ReportMetric(cmds/calls, "cmds/call")
			b.ReportMetric(ops/calls, "redis-ops/call")
			b.ReportMetric(100*lost/calls, "lost-%")
			b.ReportMetric(failed/float64(b.N), "errors/run")
		})
	}
}

func localFleet(b *testing.B) fleetImpl {
	f := fleetImpl{close: func() {}}
	for range fleetSize {
		cb, err := steadybreaker.New(steadybreaker.Settings{Name: "fleet", FailureRate: 0.5, MinRequests: 100})
		if err != nil {
			b.Fatal(err)
		}
		f.calls = append(f.calls, steadyFleetCall(cb))
	}
	return f
}

func steadyFleetCall(cb *steadybreaker.CircuitBreaker) func(context.Context, func() error) error {
	return func(ctx context.Context, fn func() error) error {
		t, err := cb.Allow()
		if err != nil {
			return err
		}
		err = fn()
		t.Done(ctx, err)
		return err
	}
}

func steadyFleet(b *testing.B, r *redisServer) fleetImpl {
	var cbs []*steadybreaker.CircuitBreaker
	f := fleetImpl{}
	for range fleetSize {
		st, err := steadyredis.NewStore(r.client(b), steadyredis.Options{})
		if err != nil {
			b.Fatal(err)
		}
		cb, err := steadybreaker.New(steadybreaker.Settings{
			Name: "fleet", FailureRate: 0.5, MinRequests: 100,
			Window: time.Hour, // every call of the run stays in the window, to count them all
			Store:  st,        // SyncInterval: the default, 500ms
		})
		if err != nil {
			b.Fatal(err)
		}
		cbs = append(cbs, cb)
		f.calls = append(f.calls, steadyFleetCall(cb))
	}
	f.close = func() {
		for _, cb := range cbs {
			_ = cb.Close()
		}
	}
	f.counted = func() uint64 {
		st, _ := steadyredis.NewStore(r.client(b), steadyredis.Options{})
		fs, err := st.Sync(context.Background(), "fleet", steadybreaker.SyncRequest{Window: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		return fs.Counts.Successes + fs.Counts.Slow + fs.Counts.Failures + fs.Counts.Timeouts
	}
	return f
}

func gobreakerFleet(b *testing.B, r *redisServer) fleetImpl {
	f := fleetImpl{close: func() {}}
	for range fleetSize {
		cb, err := gobreaker.NewDistributedCircuitBreaker[int](newGobreakerRedisStore(r.client(b)), gobreaker.Settings{Name: "fleet"})
		if err != nil {
			b.Fatal(err)
		}
		f.calls = append(f.calls, func(_ context.Context, fn func() error) error {
			_, err := cb.Execute(func() (int, error) { return 0, fn() })
			return err
		})
	}
	c := r.client(b)
	f.counted = func() uint64 {
		data, err := c.Get(context.Background(), "gobreaker:state:fleet").Bytes()
		if err != nil {
			b.Fatal(err)
		}
		var s gobreaker.SharedState
		if err := json.Unmarshal(data, &s); err != nil {
			b.Fatal(err)
		}
		return uint64(s.Counts.Requests)
	}
	return f
}

func BenchmarkFleetTripPropagation(b *testing.B) {
	r := startRedis(b)
	admin := r.admin(b)
	for _, interval := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond} {
		b.Run("interval="+interval.String(), func(b *testing.B) {
			r.flush(b, admin)
			type round struct {
				start  time.Time
				mu     sync.Mutex
				opened map[int]time.Duration
				done   chan struct{}
			}
			var cur atomic.Pointer[round]
			cbs := make([]*steadybreaker.CircuitBreaker, fleetSize)
			for i := range cbs {
				st, err := steadyredis.NewStore(r.client(b), steadyredis.Options{})
				if err != nil {
					b.Fatal(err)
				}
				cbs[i], err = steadybreaker.New(steadybreaker.Settings{
					Name: "trip", ConsecutiveFailures: 1, OpenTimeout: time.Hour,
					Store: st, SyncInterval: interval,
					OnStateChange: func(_ string, _, to steadybreaker.State) {
						rd := cur.Load()
						if i == 0 || to != steadybreaker.StateOpen || rd == nil {
							return
						}
						rd.mu.Lock()
						defer rd.mu.Unlock()
						if _, ok := rd.opened[i]; !ok {
							rd.opened[i] = time.Since(rd.start)
							if len(rd.opened) == fleetSize-1 {
								close(rd.done)
							}
						}
					},
				})
				if err != nil {
					b.Fatal(err)
				}
				defer cbs[i].Close()
			}
			var each, all []time.Duration
			for range b.N {
				cbs[0].Reset() // closes the fleet
				waitFleet(b, cbs, steadybreaker.StateClosed)
				time.Sleep(rand.N(interval)) // trip at any point of the sync cycle
				rd := &round{opened: map[int]time.Duration{}, done: make(chan struct{})}
				cur.Store(rd)
				rd.start = time.Now()
				if t, err := cbs[0].Allow(); err == nil {
					t.Done(context.Background(), errTransient)
				}
				select {
				case <-rd.done:
				case <-time.After(10 * time.Second):
					b.Fatalf("the trip did not reach every instance in 10s")
				}
				cur.Store(nil)
				last := time.Duration(0)
				for _, d := range rd.opened {
					each = append(each, d)
					last = max(last, d)
				}
				all = append(all, last)
			}
			b.ReportMetric(ms(pct(each, 0.5)), "p50-ms")
			b.ReportMetric(ms(pct(each, 0.99)), "p99-ms")
			b.ReportMetric(ms(pct(each, 1)), "max-ms")
			b.ReportMetric(ms(pct(all, 0.99)), "p99-all-ms")
			b.ReportMetric(ms(pct(all, 0.99))/ms(interval+100*time.Millisecond), "p99-all/(interval+100ms)")
		})
	}
}

// waitFleet waits until every breaker of cbs is in state want.
func waitFleet(b *testing.B, cbs []*steadybreaker.CircuitBreaker, want steadybreaker.State) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok := true
		for _, cb := range cbs {
			ok = ok && cb.State() == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the fleet did not get %v in 10s", want)
		}
		time.Sleep(time.Millisecond)
	}
}

// pct returns the q-quantile of ds (nearest rank).
func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
