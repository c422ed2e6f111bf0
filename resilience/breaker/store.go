package breaker

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/internal/window"
)

// DefaultSyncInterval is the default of Settings.SyncInterval.
const DefaultSyncInterval = 500 * time.Millisecond

// finalSyncLimit is the least time Close gives its last Sync.
const finalSyncLimit = time.Second

// minSyncInterval catches a unit mistake such as SyncInterval: 500 (500ns).
const minSyncInterval = 10 * time.Millisecond

// Store shares a breaker's counts and state between the processes of a
// fleet that call the same dependency under the same Settings.Name (see
// "More than one process" in the package documentation). Package
// github.com/steadyhq/steady/contrib/redis implements it on Redis.
//
// A breaker calls its Store only from its own background goroutine, never
// from a call, and never while a call waits: the store is consulted about
// once per Settings.SyncInterval, and at once after a local change of
// state. Every method must be safe for concurrent use, and should give up
// when ctx ends (the breaker gives each call SyncInterval).
//
// The fleet's state is a [FleetState]: closed or open, with a generation
// that grows by one at each change. Half-open is not a fleet state: once
// an open state's OpenFor has passed, every process is half-open, and the
// one that gets the probe lease ([Store.TryProbe]) probes.
type Store interface {
	// Sync adds to the fleet's counts of the closed generation r.Gen what
	// r.Counts hold beyond the counts of r.Instance's last Sync in that
	// generation, if r.Gen is the fleet's current generation and it is
	// closed (otherwise nothing is added, as a local breaker drops the
	// outcomes of calls that ended after a change of state). It returns
	// the fleet's state, with in Counts the fleet's counts over the last
	// r.Window, r's included. Because r.Counts are cumulative, a Sync
	// that is repeated after one that reached the store but whose answer
	// was lost (a timeout) counts nothing twice.
	Sync(ctx context.Context, name string, r SyncRequest) (FleetState, error)

	// Publish changes the fleet's state to the state to, whose Gen must be
	// greater than from, if and only if the fleet's generation is still
	// from (a generation check, done atomically in the store: of two
	// processes that publish from the same generation, one wins). It
	// returns the fleet's state afterwards and whether to was applied. A
	// store with no state for name has generation 0, closed.
	Publish(ctx context.Context, name string, from uint64, to FleetState) (FleetState, bool, error)

	// TryProbe asks for the fleet's probe lease of the open generation
	// gen, for lease: it is granted to one caller only, and only once the
	// open state's OpenFor has passed. It returns the fleet's state and
	// whether the lease was granted.
	TryProbe(ctx context.Context, name string, gen uint64, lease time.Duration) (FleetState, bool, error)
}

// StoreCounts are calls counted by how they ended, as a breaker sends them
// to its [Store] and reads them back for the fleet.
type StoreCounts struct {
	Successes uint64 // successes that were not slow
	Slow      uint64 // slow successes
	Failures  uint64 // failures other than timeouts
	Timeouts  uint64 // timeouts
	Excluded  uint64 // calls in no rate (see Counts.Excluded)
}

// IsZero reports whether c counts nothing.
func (c StoreCounts) IsZero() bool { return c == StoreCounts{} }

// SyncRequest is what a breaker sends to [Store.Sync].
type SyncRequest struct {
	// Gen is the generation of the fleet's closed state the counts were
	// counted in.
	Gen uint64
	// Instance names the breaker that syncs, unique in the fleet (New
	// draws a random one for each breaker).
	Instance string
	// Counts are the calls the instance counted in generation Gen so far:
	// cumulative, not since the last Sync.
	Counts StoreCounts
	// Window is the breaker's Settings.Window: the store keeps the counts
	// of the last Window, in WindowBuckets buckets, and returns their sum.
	Window time.Duration
}

// FleetState is the state of a fleet's breaker as its [Store] keeps it.
type FleetState struct {
	// Gen is the generation: 0 for a fleet with no state yet (closed),
	// and one more at each change.
	Gen uint64
	// State is StateClosed or StateOpen.
	State State
	// OpenFor is, while open, the time left until probes may go out (<= 0
	// when they may); in a Publish, how long to stay open.
	OpenFor time.Duration
	// Counts are, from Sync, the fleet's counts over the window.
	Counts StoreCounts
}

// StoreStats counts how a breaker's [Store] has answered since [New].
type StoreStats struct {
	// Calls counts the calls made to the Store, and Errors those that
	// failed. While the Store fails, the breaker works on its own counts.
	Calls, Errors uint64
	// Healthy is whether the last call succeeded.
	Healthy bool
	// Gen is the fleet's generation the breaker last learned.
	Gen uint64
}

// syncer is the part of a CircuitBreaker that keeps it in step with its
// Store. Its fields other than kick, stop and done are guarded by cb.mu.
type syncer struct {
	store    Store
	interval time.Duration

	kick chan struct{} // a local change to publish (buffered, 1)
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the goroutine has returned
	once sync.Once     // closes stop

	id     string        // SyncRequest.Instance
	gen    uint64        // the fleet generation the breaker follows
	synced *phase        // the phase the fleet knows of (gen is its state)
	base   window.Counts // synced's tally when generation gen began
	lost   bool          // the store lost the fleet's state: publish ours from generation 0

	stats   StoreStats
	failing bool // the last call failed (logged once per outage)
	closed  bool // Close was called
}

// startSync starts the goroutine that syncs cb with its Store. mu is not
// held; cur is set.
func (cb *CircuitBreaker) startSync() {
	s := &syncer{
		store:    cb.cfg.Store,
		interval: cb.cfg.SyncInterval,
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		id:       strconv.FormatUint(rand.Uint64(), 36),
		synced:   cb.cur.Load(),
	}
	s.stats.Healthy = true
	cb.sync = s
	go cb.syncLoop(s)
}

// kickSync asks the sync goroutine for a round now, without waiting: a
// local change of state is to be published, or a probe lease asked for.
func (cb *CircuitBreaker) kickSync() {
	if cb.sync != nil {
		select {
		case cb.sync.kick <- struct{}{}:
		default:
		}
	}
}

// Close stops the goroutine that a breaker with a Settings.Store runs to
// sync with it, after one last Sync that sends the counts not sent yet
// (given SyncInterval, and at least 1s). The breaker keeps working
// afterwards, on its own counts. Close does nothing on a breaker without
// a Store, and nothing the second time; it always returns nil. Close
// every breaker that has a Store when you are done with it, or its
// goroutine leaks.
func (cb *CircuitBreaker) Close() error {
	cb.phase()
	s := cb.sync
	if s == nil {
		return nil
	}
	s.once.Do(func() {
		cb.mu.Lock()
		s.closed = true
		cb.grantProbes(cb.cur.Load()) // no lease will come now
		cb.mu.Unlock()
		close(s.stop)
	})
	<-s.done
	return nil
}

func (cb *CircuitBreaker) syncLoop(s *syncer) {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			cb.syncRound(s, true)
			return
		case <-t.C:
		case <-s.kick:
		}
		// A round may make a change to publish (a trip on the fleet's
		// counts, a fleet that lost its state): do it at once, but give
		// up after a few rounds rather than spin against a busy fleet.
		for range 3 {
			if !cb.syncRound(s, false) {
				break
			}
		}
	}
}

// op is what one sync round asks the store.
type syncOp uint8

const (
	opNone syncOp = iota
	opSync
	opPublish
	opProbe
)

// syncRound makes one call to the store and applies its answer. It
// reports whether another round should follow at once. final is the last
// round, from Close: it only flushes counts.
func (cb *CircuitBreaker) syncRound(s *syncer, final bool) (again bool) {
	cb.mu.Lock()
	ph := cb.cur.Load()
	var (
		op   syncOp
		req  SyncRequest
		to   FleetState
		from = s.gen
	)
	switch {
	case ph.mode == modeIsolated:
		// Isolation is this process's own business.
	case ph.mode == modeHalfOpen && ph.leaseWait && !ph.leased:
		op = opProbe
		if !ph.demand.Load() {
			op = opSync // no call wants through here: leave the lease to one that does
			req = SyncRequest{Gen: s.gen, Window: cb.cfg.Window}
		}
	case ph != s.synced && (ph.mode == modeOpen || ph.mode == modeClosed):
		op = opPublish
		if s.lost {
			// Past generations' keys may outlive the state: keep counting
			// up from ours, not from 0.
			from = 0
		}
		to = FleetState{Gen: s.gen + 1, State: StateClosed}
		if ph.mode == modeOpen {
			to.State = StateOpen
			to.OpenFor = max(time.Until(ph.rejectErr.NextProbe), time.Millisecond)
		}
	case ph.mode == modeClosed:
		op = opSync
		req = SyncRequest{Gen: s.gen, Instance: s.id, Counts: storeCounts(ph.tally.load().Sub(s.base)), Window: cb.cfg.Window}
	default:
		op = opSync
		req = SyncRequest{Gen: s.gen, Window: cb.cfg.Window}
	}
	if final && op != opSync {
		op = opNone
	}
	cb.mu.Unlock()
	if op == opNone {
		return false
	}

	limit := s.interval
	if final {
		limit = max(limit, finalSyncLimit) // the last chance for these counts
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	var (
		f       FleetState
		granted bool
		err     error
	)
	switch op {
	case opSync:
		f, err = s.store.Sync(ctx, cb.cfg.Name, req)
	case opPublish:
		f, granted, err = s.store.Publish(ctx, cb.cfg.Name, from, to)
	case opProbe:
		f, granted, err = s.store.TryProbe(ctx, cb.cfg.Name, s.gen, cb.cfg.OpenTimeout)
	}
	cancel()

	cb.mu.Lock()
	s.stats.Calls++
	if err != nil {
		s.stats.Errors++
		s.stats.Healthy = false
		logIt := !s.failing
		s.failing = true
		if ph.mode == modeClosed {
			ph.others.Store(nil) // on our own counts until the store is back
		}
		if op == opProbe && cb.cur.Load() == ph {
			cb.grantProbes(ph) // no lease to be had: probe locally
		}
		cb.mu.Unlock()
		if logIt {
			cb.logStore(slog.LevelWarn, "breaker: store failed, working on local counts", err)
		}
		return false
	}
	s.stats.Healthy = true
	recovered := s.failing
	s.failing = false
	if op == opPublish && granted {
		// Recorded even if the state has changed since: the next round
		// publishes the new state from this generation.
		s.lost = false
		// A closed phase's counts so far belong to the new generation:
		// the next Sync sends them all.
		s.gen, s.synced, s.base = to.Gen, ph, window.Counts{}
		s.stats.Gen = s.gen
	}
	if cb.cur.Load() != ph {
		// The state changed while the store answered: the next round
		// deals with the new phase.
		cb.mu.Unlock()
		if recovered {
			cb.logStore(slog.LevelInfo, "breaker: store answers again", nil)
		}
		return true
	}
	var trip *tripInfo
	switch {
	case f.Gen == 0 && s.gen > 0 && ph.mode != modeHalfOpen:
		// The store lost the fleet's state (a restart without
		// persistence, or the state expired): publish ours again.
		s.lost, s.synced = true, nil
		again = true
	case op == opPublish && granted:
		// Recorded above.
	case op == opProbe && granted:
		cb.grantProbes(ph)
	default:
		if op == opPublish {
			s.lost = false // another process published first
		}
		sameGen := f.Gen == s.gen
		cb.adopt(s, ph, f)
		if op == opSync && ph.mode == modeClosed && cb.cur.Load() == ph && sameGen {
			if t, ok := cb.fleetTrip(ph, f.Counts); ok {
				trip = &t
			}
		}
	}
	s.stats.Gen = s.gen
	cb.mu.Unlock()
	cb.drain()
	if recovered {
		cb.logStore(slog.LevelInfo, "breaker: store answers again", nil)
	}
	if trip != nil && !final {
		cb.trip(ph, *trip)
		return true
	}
	return again
}

// adopt brings the breaker, whose phase ph the fleet knows of or which is
// half-open, in line with the fleet's state f. mu is held.
func (cb *CircuitBreaker) adopt(s *syncer, ph *phase, f FleetState) {
	newGen := f.Gen != s.gen
	s.gen = f.Gen
	switch {
	case f.State == StateClosed && ph.mode != modeClosed:
		cb.transitions.Closes++
		cb.change(cb.closedPhase(), event{msg: "circuit breaker closed", reason: "closed by the fleet", counts: ph.frozen})
	case f.State == StateOpen && (ph.mode == modeClosed || ph.mode == modeHalfOpen && newGen):
		counts := countsOf(ph)
		if ph.mode == modeClosed {
			cb.transitions.Trips++
		} else {
			cb.transitions.Reopens++
		}
		cb.openFor(max(f.OpenFor, time.Millisecond), counts, "circuit breaker opened", "opened by the fleet")
	case f.State == StateOpen && ph.mode == modeOpen && newGen:
		// Probe when the fleet does.
		cb.stopTimer()
		open := ph
		cb.timer = time.AfterFunc(max(f.OpenFor, time.Millisecond), func() { cb.halfOpen(open) })
	case ph.mode == modeClosed && newGen:
		s.base = ph.tally.load() // the counts so far belong to an older generation
		ph.others.Store(nil)
	}
	if cur := cb.cur.Load(); cur != ph || ph.mode != modeHalfOpen {
		s.synced = cur
		if cur != ph && cur.mode == modeClosed {
			s.base = window.Counts{}
		}
	}
}

// fleetTrip stores what the rest of the fleet counted in the closed phase
// ph, given the fleet's counts (ours included), so that the rules weigh
// the fleet's counts, and checks the rules on them. mu is held.
func (cb *CircuitBreaker) fleetTrip(ph *phase, fleet StoreCounts) (tripInfo, bool) {
	now := clock.Now()
	local := ph.win.Sum(now-ph.origin, ph.tally.load())
	others := windowCounts(fleet).Sub(local)
	ph.others.Store(&others)
	return cb.cfg.evaluate(ph, now)
}

// grantProbes opens the probe slots of the half-open phase ph, which
// waited for the fleet's lease. mu is held.
func (cb *CircuitBreaker) grantProbes(ph *phase) {
	if ph.mode == modeHalfOpen && ph.leaseWait && !ph.leased {
		ph.leased = true
		ph.probes.Add(^(cb.cfg.HalfOpenRequests - 1))
		if ph.granted != nil {
			close(ph.granted) // the waiters may probe now
		}
	}
}

// logStore logs a store failure or recovery, with no lock held.
func (cb *CircuitBreaker) logStore(level slog.Level, msg string, err error) {
	l := cb.cfg.Logger
	if l == nil {
		return
	}
	attrs := []slog.Attr{slog.String("breaker", cb.cfg.Name)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.LogAttrs(context.Background(), level, msg, attrs...)
}

// StoreStats returns how the breaker's Settings.Store has answered; the
// zero StoreStats without a Store.
func (cb *CircuitBreaker) StoreStats() StoreStats {
	cb.phase()
	if cb.sync == nil {
		return StoreStats{}
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return cb.sync.stats
}

func storeCounts(c window.Counts) StoreCounts {
	return StoreCounts{
		Successes: c[kindSuccess],
		Slow:      c[kindSlow],
		Failures:  c[kindFailure],
		Timeouts:  c[kindTimeout],
		Excluded:  c[kindExcluded],
	}
}

func windowCounts(s StoreCounts) window.Counts {
	var c window.Counts
	c[kindSuccess], c[kindSlow], c[kindFailure], c[kindTimeout], c[kindExcluded] = s.Successes, s.Slow, s.Failures, s.Timeouts, s.Excluded
	return c
}
