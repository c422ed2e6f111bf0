package breaker

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/internal/events"
	"github.com/steadyhq/steady/internal/shard"
	"github.com/steadyhq/steady/internal/window"
)

// CircuitBreaker guards one dependency: it counts how calls to it end and,
// when a rule of its [Settings] fires, opens to reject calls at once, until
// probes after the open timeout show that the dependency has recovered (see
// the package documentation). Put it in a pipeline with [Breaker], or drive
// it by hand with [CircuitBreaker.Allow].
//
// Make one per dependency with [New] and share it: it is safe for
// concurrent use and not generic, so pipelines of any result type can use
// the same one. The zero value is a breaker with the zero Settings. A
// CircuitBreaker must not be copied after first use.
type CircuitBreaker struct {
	// cur is the phase the breaker is in. Every call loads it once; it is
	// stored only with mu held.
	cur atomic.Pointer[phase]

	cfg  config    // written once, before cur is first stored
	once sync.Once // runs init, from New or on first use of a zero value

	// rejected is written by every rejected call: keep it off the cache
	// line that every call reads cur from.
	_        [64]byte
	rejected shard.Counter

	waiting atomic.Int64 // calls waiting now (Settings.MaxWaiting)
	waited  atomic.Int64 // calls let through after waiting

	events events.Queue[event] // state changes to log and pass to OnStateChange

	mu sync.Mutex // guards timer and transitions, and serializes changes of cur
	// timer ends the open period; Reset and Isolate stop it.
	timer       *time.Timer
	transitions Transitions

	sync *syncer // with Settings.Store: keeps the breaker in step with it
}

// New returns a closed CircuitBreaker configured by s. Zero fields take the
// defaults documented on [Settings]; an invalid s returns the error of
// [Settings.Validate].
func New(s Settings) (*CircuitBreaker, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	cb := new(CircuitBreaker)
	cb.once.Do(func() { cb.init(s.config()) })
	if s.Store != nil {
		cb.startSync()
	}
	return cb, nil
}

func (cb *CircuitBreaker) init(c config) {
	cb.cfg = c
	cb.mu.Lock()
	defer cb.mu.Unlock()
	ph := cb.closedPhase()
	if c.MaxWaiting > 0 {
		ph.ended = make(chan struct{})
	}
	cb.cur.Store(ph)
}

// phase returns the current phase, initializing a zero CircuitBreaker on
// its first use.
func (cb *CircuitBreaker) phase() *phase {
	if ph := cb.cur.Load(); ph != nil {
		return ph
	}
	cb.once.Do(func() { cb.init(Settings{}.config()) })
	return cb.cur.Load()
}

// mode is what Allow does with a call.
type mode uint8

const (
	modeClosed   mode = iota // let it through, count its outcome in the window
	modeOpen                 // reject it; the timer ends the phase
	modeHalfOpen             // let it through as a probe while a slot is free
	modeIsolated             // reject it until Reset
)

// phase is the stretch of time between two state changes. Its fields are
// immutable once it is stored in cb.cur, except the atomics and successes.
// A call that finds cb.cur changed when it ends knows that the state moved
// on while it ran, and does not count its outcome.
type phase struct {
	mode      mode
	state     State
	rejectErr *OpenError // not closed: returned to every rejected call, so rejecting does not allocate
	frozen    Counts     // not closed: the counts when the breaker left the closed state

	// Closed: the rolling window over tally. Its readings are clock
	// readings minus origin, so that its ticks start with the phase.
	origin time.Duration
	win    *window.Window
	_      [64]byte // tally is written by every call
	tally  tally

	// Half-open.
	probes    atomic.Uint32 // probes admitted, minus those that ended excluded
	lastProbe atomic.Int64  // clock reading when the last probe was admitted
	successes uint32        // probes that succeeded; guarded by cb.mu

	// Waiting (Settings.MaxWaiting > 0).
	ended    chan struct{}                 // closed when the phase ends, to wake the waiters
	ramp     atomic.Int64                  // closed: waiters that asked to go through so far
	rampOK   atomic.Int64                  // closed: successes since the close, which pace the ramp
	progress atomic.Pointer[chan struct{}] // closed when rampOK grows and waiters are pending
	step     time.Duration                 // closed after a probe: one probe's duration (> 0)

	// With a Store. Closed: what the rest of the fleet counted in the
	// window, as of the last sync; nil when unknown. Half-open: leaseWait
	// means the probe slots stay taken until the fleet's probe lease is
	// granted (leased, guarded by cb.mu); the breaker asks for it once a
	// call wants through (demand), so that an idle process does not take
	// the lease and leave the fleet without a probe.
	others    atomic.Pointer[window.Counts]
	leaseWait bool
	leased    bool
	demand    atomic.Bool
	// granted is closed when the lease is granted, to wake the waiters
	// (leaseWait and MaxWaiting > 0; else nil).
	granted chan struct{}
}

// counts returns the counts of the closed phase ph over the window that
// ends at the clock reading now.
func (ph *phase) counts(now time.Duration) Counts {
	return makeCounts(ph.win.Sum(now-ph.origin, ph.tally.load()), ph.tally.consecutive.Load())
}

// ruleCounts returns the counts the rules look at: ph's, plus what the
// rest of the fleet counted as of the last sync with the Store.
func (ph *phase) ruleCounts(now time.Duration) Counts {
	n := ph.win.Sum(now-ph.origin, ph.tally.load())
	if o := ph.others.Load(); o != nil {
		for i := range n {
			n[i] += o[i]
		}
	}
	return makeCounts(n, ph.tally.consecutive.Load())
}

// countsOf returns the counts that Snapshot shows for ph.
func countsOf(ph *phase) Counts {
	if ph.mode == modeClosed {
		return ph.counts(clock.Now())
	}
	return ph.frozen
}

func (cb *CircuitBreaker) closedPhase() *phase {
	return &phase{mode: modeClosed, state: StateClosed, origin: clock.Now(), win: window.New(cb.cfg.Window)}
}

// record counts the outcome k of a call admitted in phase ph that ended at
// the clock reading now, and changes state if it must. pv is the value of
// the call's panic, if it panicked.
func (cb *CircuitBreaker) record(ph *phase, now time.Duration, k kind, pv any) {
	if cb.cur.Load() != ph {
		return // the state changed while the call ran
	}
	if ph.mode == modeHalfOpen {
		cb.probeDone(ph, k, pv)
		return
	}
	// Advance before counting, so that the call falls in its own tick.
	if rel := now - ph.origin; ph.win.Due(rel) {
		ph.win.Advance(rel, ph.tally.load())
	}
	ph.tally.add(k)
	if ph.step > 0 && (k == kindSuccess || k == kindSlow) && ph.ramp.Load() > 2*(1+ph.rampOK.Load()) {
		ph.rampSucceeded() // waiters are held after a probe closed the breaker: let more through
	}
	if cb.cfg.mayTrip[k] {
		if t, ok := cb.cfg.evaluate(ph, now); ok {
			cb.trip(ph, t)
		}
	}
}

// trip opens the breaker on t, unless the closed phase ph has already
// ended (another call tripped it, or Isolate or Reset came first).
func (cb *CircuitBreaker) trip(ph *phase, t tripInfo) {
	cb.mu.Lock()
	if cb.cur.Load() == ph {
		cb.transitions.Trips++
		cb.open(t.counts, "circuit breaker opened", t.String())
	}
	cb.mu.Unlock()
	cb.drain()
}

// probeDone counts the outcome of a probe of the half-open phase ph: a
// failure opens the breaker again, the last success needed closes it, and
// an excluded probe frees its slot.
func (cb *CircuitBreaker) probeDone(ph *phase, k kind, pv any) {
	cb.mu.Lock()
	if cb.cur.Load() == ph {
		switch {
		case k == kindExcluded:
			ph.probes.Add(^uint32(0))
		case k == kindSuccess || k == kindSlow && cb.cfg.SlowCallRate == 0:
			if ph.successes++; ph.successes == cb.cfg.HalfOpenRequests {
				n := strconv.FormatUint(uint64(ph.successes), 10)
				cb.transitions.Closes++
				closed := cb.closedPhase()
				closed.step = clock.Now() - time.Duration(ph.lastProbe.Load())
				cb.change(closed, event{msg: "circuit breaker closed", reason: n + " of " + n + " probes succeeded"})
			}
		default:
			cb.transitions.Reopens++
			cb.open(ph.frozen, "circuit breaker reopened", probeFailure(k, pv))
		}
	}
	cb.mu.Unlock()
	cb.drain()
}

// expireProbes runs when a call finds every probe slot of the half-open
// phase ph taken. If no probe was let through for OpenTimeout, the probes
// out are taken as lost (a Ticket whose Done never came) and failed: the
// breaker reopens, so that a probe goes out again after the open period.
// It reports whether the call should ask again, because ph has ended or a
// slot was freed.
func (cb *CircuitBreaker) expireProbes(ph *phase) bool {
	now := clock.Now()
	if now-time.Duration(ph.lastProbe.Load()) < cb.cfg.OpenTimeout {
		return false
	}
	cb.mu.Lock()
	again := true
	switch {
	case cb.cur.Load() != ph || ph.probes.Load() < cb.cfg.HalfOpenRequests:
	case ph.leaseWait && !ph.leased:
		// Another process of the fleet holds the probe lease; if it never
		// reports, the lease expires after OpenTimeout and the store
		// grants it again.
		again = false
	case now-time.Duration(ph.lastProbe.Load()) < cb.cfg.OpenTimeout:
		again = false // a slot was freed and taken again meanwhile
	default:
		cb.transitions.Reopens++
		cb.open(ph.frozen, "circuit breaker reopened", "probe did not report within OpenTimeout")
	}
	cb.mu.Unlock()
	cb.drain()
	return again
}

// probeFailure says why a probe failed.
func probeFailure(k kind, pv any) string {
	switch {
	case pv != nil:
		return "probe panicked: " + fmt.Sprint(pv)
	case k == kindTimeout:
		return "probe timed out"
	case k == kindSlow:
		return "probe was slow"
	default:
		return "probe failed"
	}
}

// open moves the breaker to a new open phase, whose timer lets probes
// through when the open period ends. mu must be held.
func (cb *CircuitBreaker) open(frozen Counts, msg, reason string) {
	cb.openFor(cb.openPeriod(), frozen, msg, reason)
}

// openFor is open for the given period. mu must be held.
func (cb *CircuitBreaker) openFor(period time.Duration, frozen Counts, msg, reason string) {
	ph := &phase{
		mode:      modeOpen,
		state:     StateOpen,
		frozen:    frozen,
		rejectErr: &OpenError{Name: cb.cfg.Name, State: StateOpen, NextProbe: time.Now().Add(period)},
	}
	cb.stopTimer()
	cb.timer = time.AfterFunc(period, func() { cb.halfOpen(ph) })
	cb.change(ph, event{msg: msg, reason: reason, counts: frozen, nextProbe: ph.rejectErr.NextProbe})
}

// openPeriod returns how long to stay open this time: OpenTimeout plus a
// jitter in (0, OpenTimeout/10).
func (cb *CircuitBreaker) openPeriod() time.Duration {
	ot := cb.cfg.OpenTimeout
	return ot + 1 + rand.N(ot/10-1)
}

// halfOpen runs when the open period of the phase open ends, in the timer's
// goroutine, so that the change is published, logged and passed to the
// hook when it happens rather than on the next call.
func (cb *CircuitBreaker) halfOpen(open *phase) {
	cb.mu.Lock()
	if cb.cur.Load() == open { // else Reset or Isolate came first
		cb.timer = nil
		cb.transitions.HalfOpens++
		ph := &phase{
			mode:      modeHalfOpen,
			state:     StateHalfOpen,
			frozen:    open.frozen,
			rejectErr: &OpenError{Name: cb.cfg.Name, State: StateHalfOpen},
		}
		if cb.sync != nil && !cb.sync.closed && !cb.sync.failing {
			// No probe until the fleet's lease is ours (see syncRound). A
			// holder that never reports loses it after OpenTimeout.
			ph.leaseWait = true
			if cb.cfg.MaxWaiting > 0 {
				ph.granted = make(chan struct{})
			}
			ph.probes.Store(cb.cfg.HalfOpenRequests)
			ph.lastProbe.Store(int64(clock.Now()))
		}
		cb.change(ph, event{msg: "circuit breaker half-open", reason: "open timeout passed", counts: open.frozen})
	}
	cb.mu.Unlock()
	cb.drain()
}

// change makes ph the current phase and queues e, the event that says so.
// mu must be held, so that events are queued in the order of the changes.
func (cb *CircuitBreaker) change(ph *phase, e event) {
	old := cb.cur.Load()
	e.from, e.to = old.state, ph.state
	if cb.cfg.MaxWaiting > 0 {
		ph.ended = make(chan struct{})
	}
	cb.cur.Store(ph)
	if old.ended != nil {
		close(old.ended)
	}
	cb.events.Push(e)
	cb.kickSync()
}

// drain logs the queued events and passes them to OnStateChange, with no
// lock held. Call it after every change, once mu is released.
func (cb *CircuitBreaker) drain() { cb.events.Drain(cb.deliver) }

// stopTimer stops the open period's timer. mu must be held.
func (cb *CircuitBreaker) stopTimer() {
	if cb.timer != nil {
		cb.timer.Stop()
		cb.timer = nil
	}
}

// Name returns Settings.Name.
func (cb *CircuitBreaker) Name() string {
	cb.phase()
	return cb.cfg.Name
}

// State returns the current state. It is one atomic load.
func (cb *CircuitBreaker) State() State {
	return cb.phase().state
}

// Isolate opens the breaker and holds it open until [CircuitBreaker.Reset],
// for operators taking a dependency out of service: every call is rejected
// with an [*OpenError] whose Isolated field is true, and no probe is let
// through. Calls already running finish, but their outcomes are not
// counted. Isolating an isolated breaker does nothing.
func (cb *CircuitBreaker) Isolate() {
	cb.phase()
	cb.mu.Lock()
	if old := cb.cur.Load(); old.mode != modeIsolated {
		cb.stopTimer()
		frozen := countsOf(old)
		cb.transitions.Isolations++
		cb.change(&phase{
			mode:      modeIsolated,
			state:     StateOpen,
			frozen:    frozen,
			rejectErr: &OpenError{Name: cb.cfg.Name, State: StateOpen, Isolated: true},
		}, event{msg: "circuit breaker isolated", reason: "Isolate called", counts: frozen})
	}
	cb.mu.Unlock()
	cb.drain()
}

// Reset closes the breaker with empty counts, whatever its state: it ends
// an isolation, cuts an open period short and abandons a half-open test.
// Outcomes of calls that started before Reset are not counted. Rejected and
// Transitions of [Snapshot] are kept.
func (cb *CircuitBreaker) Reset() {
	cb.phase()
	cb.mu.Lock()
	cb.stopTimer()
	cb.transitions.Resets++
	cb.change(cb.closedPhase(), event{msg: "circuit breaker reset", reason: "Reset called", counts: countsOf(cb.cur.Load())})
	cb.mu.Unlock()
	cb.drain()
}

// Snapshot returns the breaker's state, the counts of its rolling window,
// its rejected calls and its state changes. It takes locks only briefly,
// never one held while user code runs, so a dashboard may poll it and
// OnStateChange may call it.
func (cb *CircuitBreaker) Snapshot() Snapshot {
	ph := cb.phase()
	s := Snapshot{
		Name:     cb.cfg.Name,
		State:    ph.state,
		Isolated: ph.mode == modeIsolated,
		Counts:   countsOf(ph),
		Rejected: cb.rejected.Load(),
	}
	if ph.mode == modeOpen {
		s.NextProbe = ph.rejectErr.NextProbe
	}
	s.Waiting = cb.waiting.Load()
	s.Waited = cb.waited.Load()
	cb.mu.Lock()
	s.Transitions = cb.transitions
	cb.mu.Unlock()
	return s
}
