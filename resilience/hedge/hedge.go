package hedge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/internal/attempt"
	"github.com/steadyhq/steady/internal/shard"
	"github.com/steadyhq/steady/resilience"
)

// Hedger holds a hedging configuration, the adaptive delay it learns and
// its counts. Make one with [New] and share it between the pipelines that
// call one dependency; [Hedge] makes the policy. It is safe for concurrent
// use.
type Hedger struct {
	s     settings
	learn *learner // nil with a fixed delay

	calls                                 shard.Counter // every call writes it: sharded
	hedged, hedges, wins, denied, running atomic.Int64
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
// A result that loses (a success after the winner's) is dropped; when it
// holds a resource, such as an open response body, release it with
// [Discard].
//
// Hedge panics with a *resilience.ConfigError if h is nil.
func Hedge[T any](h *Hedger, opts ...Option[T]) resilience.Policy[T] {
	if h == nil {
		panic(&resilience.ConfigError{Pkg: "hedge", Field: "Hedge(h)", Value: nil, Want: "a *Hedger from hedge.New"})
	}
	var o options[T]
	for _, opt := range opts {
		if opt == nil {
			panic(&resilience.ConfigError{Pkg: "hedge", Field: "Hedge(opts)", Value: nil, Want: "options from hedge.Discard"})
		}
		opt(&o)
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
			return run(ctx, h, next, o.discard)
		}
	}
}

// Option configures a [Hedge] policy.
type Option[T any] func(*options[T])

type options[T any] struct {
	discard func(T)
}

// Discard returns an Option that calls release with every successful
// result that lost: an attempt that succeeded after another had won, or
// after the call had returned. Use it when T holds a resource, such as an
// *http.Response whose body must be drained and closed. release runs in
// the goroutine of the call or of the losing hedge, at most once per
// result; it must not block for long.
func Discard[T any](release func(T)) Option[T] {
	return func(o *options[T]) { o.discard = release }
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

	discard func(T)       // releases a losing result; may be nil
	mark    *attempt.Mark // set when a hedge starts; nil without a learner

	mu      sync.Mutex
	over    bool        // the call has returned: hedges' results are discarded
	won     atomic.Bool // an attempt succeeded first; the others lost
	closed  bool        // the first attempt has returned: no more hedges
	fired   bool        // the delay passed while the first attempt ran
	started int         // hedges started
	timer   *time.Timer // the next hedge's timer
	results chan outcome[T]
}

func run[T any](ctx context.Context, h *Hedger, next resilience.Func[T], discard func(T)) (T, error) {
	h.calls.Add(1)
	c := &call[T]{h: h, next: next, delay: h.Delay(), discard: discard}
	actx := ctx
	if attempt.Enabled() {
		// Karn's rule: once a hedge starts, neither attempt teaches an
		// adaptive timeout inside (which of them answered is ambiguous).
		actx, c.mark = attempt.With(ctx)
	}
	c.ctx, c.cancel = context.WithCancel(actx)
	defer c.cancel()
	start := time.Now()
	c.mu.Lock()
	c.timer = time.AfterFunc(c.delay, c.fire)
	c.mu.Unlock()

	v, err := next(c.ctx)
	// A success that comes after a hedge's lost the race: that hedge won
	// (it counted its win with the budget and canceled this attempt), so
	// its result is the call's, and this one is discarded.
	lost := err == nil && !c.won.CompareAndSwap(false, true)

	c.mu.Lock()
	c.closed = true
	c.timer.Stop()
	fired, n, results := c.fired, c.started, c.results
	c.mu.Unlock()
	if !fired && h.learn != nil && ctx.Err() == nil {
		h.learn.finished(time.Since(start))
	}
	if err == nil && !lost || n == 0 {
		c.finish()
		return v, err
	}
	// The first attempt failed (perhaps canceled by a winning hedge), or
	// lost to a hedge's success: the hedges decide.
	for range n {
		select {
		case o := <-results:
			if o.err == nil {
				h.wins.Add(1)
				c.finish()
				if lost && c.discard != nil {
					c.discard(v)
				}
				return o.v, nil
			}
		case <-ctx.Done():
			c.finish()
			return v, err
		}
	}
	c.finish()
	return v, err
}

// finish ends the call: the results of hedges that have not been read are
// discarded, now or when they come.
func (c *call[T]) finish() {
	c.mu.Lock()
	c.over = true
	results := c.results
	c.mu.Unlock()
	if results == nil {
		return
	}
	for {
		select {
		case o := <-results:
			if o.err == nil && c.discard != nil {
				c.discard(o.v)
			}
		default:
			return
		}
	}
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
	if c.mark != nil {
		c.mark.Set()
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
	won := err == nil && c.won.CompareAndSwap(false, true)
	if won {
		c.cancel() // the first attempt, and the other hedges, lost
	}
	if b := h.s.budget; b != nil && (won || err != nil && c.ctx.Err() == nil) {
		// A hedge that won paid off; one that failed on its own says how
		// the dependency is. A hedge that lost (canceled, or answering
		// after another attempt had) is not reported, and so keeps the
		// token it took: a hedge that does not shorten the call is load
		// for nothing, and under overload most hedges lose.
		b.Done(true, won || answered(err))
	}
	c.mu.Lock()
	if !c.over {
		results <- outcome[T]{v, err} // never blocks: one place per hedge
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if err == nil && c.discard != nil {
		c.discard(v) // the call has returned another result
	}
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
		Calls:   int64(h.calls.Load()),
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

// answered reports whether err is the dependency's answer rather than a
// fault a retry could overcome: an error that says it is not retryable and
// is not a policy's refusal.
func answered(err error) bool {
	if resilience.IsRejected(err) {
		return false
	}
	return resilience.Walk(err, func(e error) bool {
		r, ok := e.(resilience.RetryableError)
		return ok && !r.Retryable()
	})
}
