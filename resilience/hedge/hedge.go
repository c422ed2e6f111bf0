package hedge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// Hedger holds a hedging configuration, the adaptive delay it learns and
// its counts. Make one with [New] and share it between the pipelines that
// call one dependency; [Hedge] makes the policy. It is safe for concurrent
// use.
type Hedger struct {
	s     settings
	learn *learner // nil with a fixed delay

	calls, hedged, hedges, wins, denied, running atomic.Int64
}

// New returns a Hedger for cfg, or a *resilience.ConfigError naming the
// first field out of range.
func New(cfg Config) (*Hedger, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	h := &Hedger{s: s}
	if s.fixed == 0 {
		h.learn = new(learner)
		h.learn.init(s.rate, s.minDelay, s.maxDelay)
	}
	return h, nil
}

// Delay returns the delay before a hedge now: the fixed one, or what the
// adaptive delay has learned so far.
func (h *Hedger) Delay() time.Duration {
	if h.learn == nil {
		return h.s.fixed
	}
	return h.learn.current()
}

// Hedge returns a policy that hedges calls with h: when a call's attempt
// has not finished after h's delay, it starts another one (up to
// MaxHedges, one per delay), and the first attempt to succeed wins. The
// others' contexts are canceled then, and the call returns.
//
// The first attempt runs in the caller's goroutine, as with
// timeout.WithTimeout; each hedge runs in a goroutine of its own. A hedge
// that wins cancels the first attempt's context, and the call returns as
// soon as that attempt returns: fn must honour its context for a hedge to
// shorten the call. Losing hedges are canceled and not waited for;
// [Stats.Running] counts the ones still running, so work that ignores its
// context shows instead of leaking silently.
//
// A call whose attempts all fail returns the first attempt's error, after
// the hedges already started have failed too (or at once, if the caller's
// context has ended). An attempt that fails does not start a hedge: that is
// a retry's job (put Retry outside Hedge). No hedge starts once the
// caller's context has ended, and none after the call has returned.
//
// Hedge panics with a *resilience.ConfigError if h is nil.
func Hedge[T any](h *Hedger) resilience.Policy[T] {
	if h == nil {
		panic(&resilience.ConfigError{Pkg: "hedge", Field: "Hedge(h)", Value: nil, Want: "a *Hedger from hedge.New"})
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (T, error) {
			if ctx == nil {
				var zero T
				return zero, resilience.ErrNilContext
			}
			return run(ctx, h, next)
		}
	}
}

// outcome is how one hedge ended.
type outcome[T any] struct {
	v   T
	err error
}

// call is the state of one hedged call, shared by the caller and the
// goroutines of its hedges.
type call[T any] struct {
	h      *Hedger
	next   resilience.Func[T]
	ctx    context.Context // the attempts' context
	cancel context.CancelFunc
	delay  time.Duration

	mu      sync.Mutex
	closed  bool        // the first attempt has returned: no more hedges
	fired   bool        // the delay passed while the first attempt ran
	started int         // hedges started
	timer   *time.Timer // the next hedge's timer
	results chan outcome[T]
}

func run[T any](ctx context.Context, h *Hedger, next resilience.Func[T]) (T, error) {
	h.calls.Add(1)
	c := &call[T]{h: h, next: next, delay: h.Delay()}
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer c.cancel()
	start := time.Now()
	c.mu.Lock()
	c.timer = time.AfterFunc(c.delay, c.fire)
	c.mu.Unlock()

	v, err := next(c.ctx)

	c.mu.Lock()
	c.closed = true
	c.timer.Stop()
	fired, n, results := c.fired, c.started, c.results
	c.mu.Unlock()
	if !fired && h.learn != nil && ctx.Err() == nil {
		h.learn.finished(time.Since(start))
	}
	if err == nil || n == 0 {
		return v, err
	}
	// The first attempt failed (perhaps canceled by a winning hedge): the
	// hedges decide.
	for range n {
		select {
		case o := <-results:
			if o.err == nil {
				h.wins.Add(1)
				return o.v, nil
			}
		case <-ctx.Done():
			return v, err
		}
	}
	return v, err
}

// fire runs when an attempt has been running for the delay: it starts a
// hedge, in the timer's goroutine, unless the call is over, the caller gave
// up or the budget refuses.
func (c *call[T]) fire() {
	h := c.h
	c.mu.Lock()
	if c.closed || c.ctx.Err() != nil {
		c.mu.Unlock()
		return
	}
	if !c.fired {
		c.fired = true
		if h.learn != nil {
			h.learn.late(c.delay)
		}
	}
	if b := h.s.budget; b != nil && !b.Retry() {
		h.denied.Add(1)
		c.mu.Unlock()
		return
	}
	if c.started == 0 {
		h.hedged.Add(1)
		c.results = make(chan outcome[T], h.s.maxHedges)
	}
	c.started++
	if c.started < h.s.maxHedges {
		c.timer = time.AfterFunc(c.delay, c.fire)
	}
	results := c.results
	c.mu.Unlock()

	h.hedges.Add(1)
	h.running.Add(1)
	v, err := c.next(c.ctx)
	h.running.Add(-1)
	if err == nil {
		c.cancel() // the first attempt, and the other hedges, lost
	}
	results <- outcome[T]{v, err} // never blocks: one place per hedge
}

// Stats is what a Hedger has done since it was made.
type Stats struct {
	Calls   int64         // calls made through it
	Hedged  int64         // calls that started at least one hedge
	Hedges  int64         // hedges started
	Wins    int64         // hedges that won their call
	Denied  int64         // hedges the budget refused
	Running int64         // hedges still running (losers that have not yet returned)
	Delay   time.Duration // the delay now
	Rate    float64       // Hedged / Calls: the realised hedge rate
}

// Snapshot returns the counts so far and the delay now.
func (h *Hedger) Snapshot() Stats {
	s := Stats{
		Calls:   h.calls.Load(),
		Hedged:  h.hedged.Load(),
		Hedges:  h.hedges.Load(),
		Wins:    h.wins.Load(),
		Denied:  h.denied.Load(),
		Running: h.running.Load(),
		Delay:   h.Delay(),
	}
	if s.Calls > 0 {
		s.Rate = float64(s.Hedged) / float64(s.Calls)
	}
	return s
}
