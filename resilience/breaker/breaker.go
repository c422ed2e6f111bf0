package breaker

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/steadyhq/steady/internal/clock"
)

// CircuitBreaker guards one dependency: it counts how calls to it end and,
// when a rule of its [Settings] fires, opens to reject calls at once, until
// a probe after the open timeout shows that the dependency has recovered.
// Put it in a pipeline with [Breaker].
//
// Make one CircuitBreaker per dependency (e.g. per upstream host) with
// [New] and share it: it is safe for concurrent use, and it is not generic,
// so pipelines of any result type can use the same one. The zero value is a
// breaker with the zero Settings (no name; opens after 5 failures in a
// row). A CircuitBreaker must not be copied after first use.
//
// # Cost
//
// A call to a closed breaker costs one atomic load, one monotonic clock
// reading (two with Settings.SlowCallDuration) and a few atomic adds, and
// takes no lock; a call rejected by an open breaker costs two atomic
// operations and reads no clock. Neither allocates. Locks are taken only on
// failures that may trip the breaker, on probes, and on state changes.
//
// # State machine
//
// The transitions between open, half-open and closed are made by a
// [gobreaker.CircuitBreaker] (sony/gobreaker/v2), which counts the probes
// of the half-open state; CircuitBreaker keeps the rolling window and the
// rules in front of it, with a lock-free gate that mirrors its state.
type CircuitBreaker struct {
	// cur is the phase the breaker is in, which tells the gate what to do
	// with a call. Every call loads it once; it is stored only with mu held
	// (in a transition, Isolate or Reset).
	cur atomic.Pointer[phase]

	cfg  config    // written once, before cur is first stored
	once sync.Once // runs init, from New or on first use of a zero value

	// rejected is written by every rejected call: keep it off the cache
	// line that every call reads cur from, and sharded (see counter).
	_        [64]byte
	rejected counter

	hasPending atomic.Bool // len(pending) > 0, read without mu

	mu sync.Mutex // guards the fields below. Lock order: a gobreaker's mutex, then mu.
	// timer lets the first probe through when an open period ends; Reset
	// and Isolate stop it.
	timer       *time.Timer
	transitions Transitions
	pending     []event // state changes not yet logged and passed to OnStateChange
	dispatching bool    // a goroutine is delivering pending events
}

// New returns a closed CircuitBreaker configured by s.
//
// Zero fields of s take the defaults documented on [Settings]. An invalid
// value (a rate outside [0, 1], a negative duration, SlowCallRate without
// SlowCallDuration, ...) returns a [*resilience.ConfigError] that names the
// field; errors.Is(err, resilience.ErrInvalidConfig) is true for it.
func New(s Settings) (*CircuitBreaker, error) {
	c, err := s.validate()
	if err != nil {
		return nil, err
	}
	cb := new(CircuitBreaker)
	cb.once.Do(func() { cb.init(c) })
	return cb, nil
}

func (cb *CircuitBreaker) init(c config) {
	cb.cfg = c
	cb.mu.Lock()
	defer cb.mu.Unlock()
	cb.cur.Store(cb.closedPhase(cb.newMachine()))
}

// phase returns the current phase, initializing a zero CircuitBreaker on
// its first use.
func (cb *CircuitBreaker) phase() *phase {
	if ph := cb.cur.Load(); ph != nil {
		return ph
	}
	cb.once.Do(func() {
		c, _ := Settings{}.validate() // the zero Settings is valid
		cb.init(c)
	})
	return cb.cur.Load()
}

// mode is what the gate does with a call.
type mode uint8

const (
	modeClosed   mode = iota // run fn, count the outcome in win
	modeOpen                 // reject with rejectErr; a timer ends the phase
	modeProbe                // ask gobreaker: half-open probes (or a probe that is due)
	modeIsolated             // reject with rejectErr until Reset
)

// phase is the stretch of time between two state changes. It is immutable
// once stored in cb.cur, except for the atomics in win and probes; a call
// that finds cb.cur changed when it ends knows the state moved on while it
// ran, and does not count its outcome in a window that is no longer used.
type phase struct {
	mode  mode
	state State
	m     *machine

	win    *window // modeClosed: the rolling window
	frozen Counts  // other modes: the window as it was when the breaker left closed

	// rejectErr is returned to every call rejected in this phase, so that
	// rejecting does not allocate.
	rejectErr *OpenError

	probes atomic.Int32 // half-open: probes in flight
}

// machine is one gobreaker state machine. Reset replaces it, so callbacks
// of an old machine check that it is still cb.cur's before they act.
type machine struct {
	gb *gobreaker.CircuitBreaker[struct{}]

	// Guarded by gb's mutex: set in the callbacks it runs with the mutex
	// held, read in its OnStateChange that follows in the same critical
	// section.
	trip    tripInfo // why ReadyToTrip last said yes
	verdict error    // the outcome gobreaker was last told
}

func (cb *CircuitBreaker) newMachine() *machine {
	m := new(machine)
	m.gb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        cb.cfg.Name,
		MaxRequests: cb.cfg.HalfOpenRequests,
		// gobreaker's open timeout is the lower bound of ours: the gate
		// adds the jitter and keeps calls away from gobreaker until then.
		Timeout:     cb.cfg.OpenTimeout,
		ReadyToTrip: func(gobreaker.Counts) bool { return cb.readyToTrip(m) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			cb.transition(m, fromGobreaker(from), fromGobreaker(to))
		},
		IsExcluded: func(err error) bool {
			m.verdict = err
			return err == verdicts[kindExcluded]
		},
		IsSuccessful: func(err error) bool { return err == nil },
	})
	return m
}

func fromGobreaker(s gobreaker.State) State {
	switch s {
	case gobreaker.StateOpen:
		return StateOpen
	case gobreaker.StateHalfOpen:
		return StateHalfOpen
	default:
		return StateClosed
	}
}

// closedPhase returns a closed phase with an empty window.
func (cb *CircuitBreaker) closedPhase(m *machine) *phase {
	return &phase{mode: modeClosed, state: StateClosed, m: m, win: newWindow(clock.Now(), cb.cfg.Window)}
}

// readyToTrip is gobreaker's ReadyToTrip: it runs, with gobreaker's mutex
// held, when gobreaker is told of a failure in its closed state, and asks
// the rules.
func (cb *CircuitBreaker) readyToTrip(m *machine) bool {
	ph := cb.cur.Load()
	if ph.m != m || ph.mode != modeClosed {
		return false
	}
	t, ok := cb.evaluate(ph.win, clock.Now())
	if ok {
		m.trip = t
	}
	return ok
}

// evaluate reports whether a rule fires on the window w at now, and which.
func (cb *CircuitBreaker) evaluate(w *window, now time.Duration) (tripInfo, bool) {
	c := &cb.cfg
	if n := c.ConsecutiveFailures; n > 0 {
		if got := w.consecutive.Load(); got >= n {
			return tripInfo{rule: ruleConsecutive, observed: float64(got), limit: float64(n), counts: w.sum(now)}, true
		}
	}
	if !c.rateRules {
		return tripInfo{}, false
	}
	counts := w.sum(now)
	if counts.Calls < uint64(c.MinRequests) {
		return tripInfo{}, false
	}
	for _, r := range [...]struct {
		rule        string
		rate, limit float64
	}{
		{ruleTimeoutRate, counts.TimeoutRate, c.TimeoutRate},
		{ruleSlowCallRate, counts.SlowCallRate, c.SlowCallRate},
		{ruleFailureRate, counts.FailureRate, c.FailureRate},
	} {
		if r.limit > 0 && r.rate >= r.limit {
			return tripInfo{rule: r.rule, observed: r.rate, limit: r.limit, counts: counts}, true
		}
	}
	return tripInfo{}, false
}

// trip tells gobreaker of a failure so that it asks ReadyToTrip, which asks
// the rules, and delivers the events of the change that follows.
func (cb *CircuitBreaker) trip(m *machine) {
	_, _ = m.gb.Execute(func() (struct{}, error) {
		// gobreaker admitted this as a request. If the state has moved on
		// (another call tripped the breaker, and it is half-open by now),
		// this is no probe's outcome: have gobreaker ignore it.
		if ph := cb.cur.Load(); ph.m != m || ph.mode != modeClosed {
			return struct{}{}, verdicts[kindExcluded]
		}
		return struct{}{}, verdicts[kindFailure]
	})
	cb.dispatch()
}

// transition is gobreaker's OnStateChange. It runs with gobreaker's mutex
// held, so it only publishes the new phase and queues the event; logging
// and the user's hook run later, from dispatch, with no lock held.
func (cb *CircuitBreaker) transition(m *machine, from, to State) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	old := cb.cur.Load()
	if old.m != m || old.mode == modeIsolated {
		return // an old machine (before Reset), or held open by Isolate
	}
	ph := &phase{state: to, m: m, frozen: old.frozen}
	e := event{from: old.state, to: to}
	switch to {
	case StateOpen:
		period := cb.openPeriod()
		ph.mode = modeOpen
		ph.rejectErr = &OpenError{Name: cb.cfg.Name, State: StateOpen, NextProbe: time.Now().Add(period)}
		if from == StateClosed {
			ph.frozen = m.trip.counts
			e.kind, e.trip = eventTrip, m.trip
			cb.transitions.Trips++
		} else {
			e.kind, e.verdict = eventReopen, m.verdict
			cb.transitions.Reopens++
		}
		e.nextProbe = ph.rejectErr.NextProbe
		cb.stopTimer()
		cb.timer = time.AfterFunc(period, func() { cb.probeDue(ph) })
	case StateHalfOpen:
		ph.mode = modeProbe
		ph.rejectErr = &OpenError{Name: cb.cfg.Name, State: StateHalfOpen}
		e.kind = eventHalfOpen
		cb.transitions.HalfOpens++
	default:
		ph = cb.closedPhase(m)
		e.kind = eventClose
		cb.transitions.Closes++
	}
	e.counts = ph.frozen
	cb.cur.Store(ph)
	cb.enqueue(e)
}

// openPeriod returns how long to stay open this time: OpenTimeout plus a
// jitter in (0, OpenTimeout/10). It is strictly longer than gobreaker's
// Timeout, so gobreaker is ready for half-open when the timer fires.
func (cb *CircuitBreaker) openPeriod() time.Duration {
	ot := cb.cfg.OpenTimeout
	return ot + 1 + rand.N(ot/10-1)
}

// probeDue runs when the open period of ph ends. It makes gobreaker move to
// half-open now, so the change is published, logged and passed to the hook
// when it happens rather than on the next call.
func (cb *CircuitBreaker) probeDue(ph *phase) {
	if cb.cur.Load() != ph {
		return // Reset or Isolate came first
	}
	ph.m.gb.State() // calls transition (open → half-open)
	cb.mu.Lock()
	if cb.cur.Load() == ph {
		// gobreaker's clock says it is not yet time. Send calls to it; it
		// moves to half-open on the first one after its Timeout.
		//
		// With gobreaker v2.4.0 this cannot happen: it sets its expiry to
		// Timeout (= OpenTimeout) after a time.Now() read before it calls
		// transition, which starts this timer for a period strictly
		// longer, and State compares with time.Now() again, monotonic
		// readings both. It is kept as a safety net, should a later
		// gobreaker round or read its clock differently: without it the
		// breaker would stay open until Reset.
		cb.cur.Store(&phase{mode: modeProbe, state: StateOpen, m: ph.m, frozen: ph.frozen, rejectErr: ph.rejectErr})
	}
	cb.mu.Unlock()
	cb.dispatch()
}

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

// State returns the current state. It is one atomic load. The open state
// turns half-open by itself when the open timeout has passed.
func (cb *CircuitBreaker) State() State {
	return cb.phase().state
}

// Isolate opens the breaker and holds it open until [CircuitBreaker.Reset]:
// every call is rejected with an [*OpenError] whose Isolated field is true
// (errors.Is(err, [ErrOpen]) holds), and no probe is let through. It is for
// operators taking a dependency out of service. Isolating an isolated
// breaker does nothing.
//
// Calls already running when Isolate is called finish normally, but their
// outcomes no longer change the state.
func (cb *CircuitBreaker) Isolate() {
	cb.phase()
	cb.mu.Lock()
	old := cb.cur.Load()
	if old.mode == modeIsolated {
		cb.mu.Unlock()
		return
	}
	cb.stopTimer()
	ph := &phase{
		mode:      modeIsolated,
		state:     StateOpen,
		m:         old.m,
		frozen:    cb.countsOf(old),
		rejectErr: &OpenError{Name: cb.cfg.Name, State: StateOpen, Isolated: true},
	}
	cb.transitions.Isolations++
	cb.cur.Store(ph)
	cb.enqueue(event{kind: eventIsolate, from: old.state, to: StateOpen, counts: ph.frozen})
	cb.mu.Unlock()
	cb.dispatch()
}

// Reset closes the breaker with empty counts, whatever its state: it ends
// an isolation, cuts an open period short and abandons a half-open test.
// Outcomes of calls that started before Reset are not counted. The
// lifetime counts of [Snapshot] (Rejected, Transitions) are kept.
func (cb *CircuitBreaker) Reset() {
	cb.phase()
	cb.mu.Lock()
	old := cb.cur.Load()
	cb.stopTimer()
	ph := cb.closedPhase(cb.newMachine())
	cb.transitions.Resets++
	cb.cur.Store(ph)
	cb.enqueue(event{kind: eventReset, from: old.state, to: StateClosed, counts: cb.countsOf(old)})
	cb.mu.Unlock()
	cb.dispatch()
}

// countsOf returns the counts that Snapshot shows for ph.
func (cb *CircuitBreaker) countsOf(ph *phase) Counts {
	if ph.mode == modeClosed {
		return ph.win.sum(clock.Now())
	}
	return ph.frozen
}

// Snapshot returns the breaker's state, the counts of its rolling window,
// its rejected calls and its state changes. It reads atomics and takes a
// lock briefly, never one that a call holds for long, so it is cheap enough
// for a dashboard to poll, and it may be called from OnStateChange.
func (cb *CircuitBreaker) Snapshot() Snapshot {
	ph := cb.phase()
	s := Snapshot{
		Name:     cb.cfg.Name,
		State:    ph.state,
		Isolated: ph.mode == modeIsolated,
		Counts:   cb.countsOf(ph),
		Rejected: cb.rejected.Load(),
	}
	if ph.mode == modeOpen || (ph.mode == modeProbe && ph.state == StateOpen) {
		s.NextProbe = ph.rejectErr.NextProbe
	}
	cb.mu.Lock()
	s.Transitions = cb.transitions
	cb.mu.Unlock()
	return s
}
