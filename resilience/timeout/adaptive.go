package timeout

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/internal/attempt"
	"github.com/steadyhq/steady/internal/shard"
	"github.com/steadyhq/steady/resilience"
)

// Adaptive is a timeout that learns its limit from the calls it bounds, so
// that about [AdaptiveConfig.TargetRate] of them time out. Make one with
// [NewAdaptive] per dependency (or per route of one) and use it through
// [WithAdaptive]. See "Adaptive timeouts" in the package documentation for
// the model and why the limit cannot collapse.
//
// An Adaptive is safe for concurrent use. Its zero value is not usable.
type Adaptive struct {
	rate     float64 // TargetRate
	min, max float64 // clamp, in nanoseconds
	up       float64 // factor after a timeout: e^(η(1-r))
	down     float64 // factor after batch calls without one: e^(-η r batch)
	mask     uint64  // batch-1; batch, a power of 2, is calls per downward step
	warmup   uint64  // calls in the warm-up

	// limit is the current limit in nanoseconds, as float64 bits. The
	// control loop multiplies it, so each step is a step of its
	// logarithm; a float keeps steps below a nanosecond.
	limit atomic.Uint64

	// hist holds the warm-up's latencies; nil once the warm-up is over.
	hist atomic.Pointer[histogram]

	// calls counts the calls that taught the limit and are not timeouts,
	// sharded: every call writes it. A shard's count also times the
	// downward steps: one per batch of calls on the shard, so that the
	// shared limit is written once per batch, not on every call.
	calls    shard.Set[atomic.Uint64]
	timeouts atomic.Uint64 // calls that taught the limit and timed out
	streak   atomic.Int64  // timeouts in a row since the last call within the limit
	shift    int64         // a streak this long means the latency shifted up
	skipped  shard.Counter // calls that taught nothing

	cause *expiry // the context cause of this Adaptive's limits
}

// NewAdaptive returns an Adaptive configured by cfg, or cfg's
// [AdaptiveConfig.Validate] error. Its limit is cfg.Max until the warm-up
// ends.
func NewAdaptive(cfg AdaptiveConfig) (*Adaptive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newAdaptive(cfg.withDefaults()), nil
}

func newAdaptive(c AdaptiveConfig) *Adaptive {
	attempt.Enable()
	r, eta := c.TargetRate, c.Step
	// The downward step after a call without a timeout is tiny (η·r,
	// 5e-5 of the log by default); batch such calls, a power of 2 up to
	// 64 and at most 1% of the log per shared write. Up to batch-1 calls
	// per shard wait for their step, so the limit can sit above where the
	// loop puts it by shard.N·(batch-1)·η·r (2.5% by default), less than
	// one upward step.
	batch := uint64(1)
	for batch < 64 && float64(2*batch)*eta*r <= 0.01 {
		batch *= 2
	}
	a := &Adaptive{
		rate:   r,
		min:    float64(c.Min),
		max:    float64(c.Max),
		up:     math.Exp(eta * (1 - r)),
		down:   math.Exp(-eta * r * float64(batch)),
		mask:   batch - 1,
		warmup: uint64(c.Warmup),
		cause:  &expiry{},
	}
	// A streak of n timeouts has probability about r^n under a limit
	// that is right; from the n where that is below one in a billion (5
	// for r = 1%, and never fewer than 4), the latency has shifted.
	a.shift = max(4, int64(math.Ceil(9/math.Log10(1/r))))
	a.limit.Store(math.Float64bits(a.max))
	a.hist.Store(new(histogram))
	return a
}

// Current returns the limit a call starting now gets.
func (a *Adaptive) Current() time.Duration {
	return time.Duration(math.Float64frombits(a.limit.Load()))
}

// AdaptiveSnapshot is what an [Adaptive] has seen, from
// [Adaptive.Snapshot].
type AdaptiveSnapshot struct {
	// Limit is the current limit, as [Adaptive.Current] returns it.
	Limit time.Duration
	// Calls is how many calls taught the limit; Timeouts how many of
	// them timed out. Rate is Timeouts/Calls (0 before the first call):
	// the realised timeout rate since the Adaptive was made, warm-up
	// included.
	Calls, Timeouts uint64
	Rate            float64
	// Skipped is how many calls taught nothing: retried or hedged
	// attempts, calls whose caller's deadline came first or whose caller
	// gave up, and rejections (see "Adaptive timeouts" in the package
	// documentation).
	Skipped uint64
	// WarmingUp is true while calls get Max until the next estimate: at
	// first, and again after timeouts pushed the limit to Max.
	WarmingUp bool
}

// Snapshot returns what a has seen. The counts are read one after another
// while calls go on, so under load they are consistent only roughly.
func (a *Adaptive) Snapshot() AdaptiveSnapshot {
	var calls uint64
	for i := range shard.N {
		calls += a.calls.At(i).Load()
	}
	s := AdaptiveSnapshot{
		Limit:     a.Current(),
		Timeouts:  a.timeouts.Load(),
		Skipped:   a.skipped.Load(),
		WarmingUp: a.hist.Load() != nil,
	}
	s.Calls = calls + s.Timeouts
	if s.Calls > 0 {
		s.Rate = float64(s.Timeouts) / float64(s.Calls)
	}
	return s
}

// scale multiplies the limit by f, within [min, max], and returns the new
// limit.
func (a *Adaptive) scale(f float64) float64 {
	for {
		old := a.limit.Load()
		v := min(a.max, max(a.min, math.Float64frombits(old)*f))
		if a.limit.CompareAndSwap(old, math.Float64bits(v)) {
			return v
		}
	}
}

// timedOut teaches a that a call exceeded its limit.
func (a *Adaptive) timedOut() {
	a.timeouts.Add(1)
	if h := a.hist.Load(); h != nil {
		// Every limit during the warm-up is Max, so a timeout there is
		// a latency of at least Max: the histogram's top bucket.
		h.addOver()
		a.warmedBy(h)
		return
	}
	if a.streak.Add(1) >= a.shift {
		// Timeouts in a row, which a right limit almost never sees: the
		// dependency got slower than the limit. Climbing from here by a
		// step per timeout would fail the calls meanwhile (and, with a
		// breaker, could open it and starve the loop of calls). Go to
		// Max and estimate afresh from the next Warmup calls.
		a.limit.Store(math.Float64bits(a.max))
		a.streak.Store(0)
		a.hist.CompareAndSwap(nil, new(histogram))
		return
	}
	if a.scale(a.up) == a.max {
		// Timeouts pushed the limit to Max: the dependency got slower
		// than anything the loop knew. Estimate afresh, as in the
		// warm-up, so that when it recovers the limit comes down after
		// Warmup calls rather than in steps of r at a time. (Should
		// another call start the warm-up first, this one is a no-op.)
		a.hist.CompareAndSwap(nil, new(histogram))
	}
}

// completed teaches a that a call ended within its limit, after took.
func (a *Adaptive) completed(took time.Duration) {
	if a.streak.Load() != 0 { // read first: most calls write nothing shared
		a.streak.Store(0)
	}
	c := a.calls.Get()
	step := c.Add(1)&a.mask == 0
	a.calls.Put(c)
	if h := a.hist.Load(); h != nil {
		h.add(took)
		a.warmedBy(h)
		return
	}
	if step {
		a.scale(a.down)
	}
}

// warmedBy ends the warm-up once h holds enough calls: the limit starts at
// the histogram's (1-r) quantile, then the control loop takes over. A
// warm-up whose quantile is Max or more is followed by another.
func (a *Adaptive) warmedBy(h *histogram) {
	if h.total.Load() < a.warmup {
		return
	}
	if !a.hist.CompareAndSwap(h, nil) {
		return // another call ended it
	}
	q := h.quantile(1-a.rate, a.max)
	if q >= a.max {
		// More than r of the calls took Max or longer: nothing below Max
		// would do. Keep Max and estimate again from the next calls,
		// which may see the dependency recovered.
		a.hist.CompareAndSwap(nil, new(histogram))
		return
	}
	a.limit.Store(math.Float64bits(max(a.min, q)))
}

// WithAdaptive returns a Policy that gives each call the limit of a
// ([Adaptive.Current] when the call starts) and teaches a from the call's
// outcome. Like [WithTimeout], fn runs in the caller's goroutine under a
// context that expires at the limit or at the caller's deadline,
// whichever is sooner; when fn fails after the limit, the call returns an
// [*Error] whose Duration is the limit it had, and errors.Is(err,
// [context.DeadlineExceeded]) holds. A nil a panics with a
// [*resilience.ConfigError] when the policy is made.
func WithAdaptive[T any](a *Adaptive) resilience.Policy[T] {
	if a == nil {
		panic(&resilience.ConfigError{Pkg: "timeout", Field: "WithAdaptive(a)", Want: "an *Adaptive from NewAdaptive"})
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
			d := a.Current()
			v, o, err := runLimited(ctx, d, a.cause, a.hist.Load() != nil, next)
			a.learn(ctx, o)
			return v, err
		}
	}
}

// outcome is what one call under a learned limit tells its learner.
type outcome struct {
	teach    bool          // the call says something about the limit
	timedOut bool          // it exceeded the limit (a censored latency)
	timed    bool          // took was measured (the call began in a warm-up)
	limit    time.Duration // the limit the call had
	took     time.Duration // its latency, when timed
}

// runLimited runs next under a limit of d whose contexts end with cause,
// and returns its result and what it tells a learner. It reads the clock
// only when timing, for a learner that needs the latency.
func runLimited[T any](ctx context.Context, d time.Duration, cause *expiry, timing bool, next resilience.Func[T]) (T, outcome, error) {
	tctx, cancel := context.WithTimeoutCause(ctx, d, cause)
	// Deferred so that a panicking next does not leave the timer armed.
	defer cancel()
	if tctx.Err() != nil {
		var zero T
		if context.Cause(tctx) == error(cause) {
			// A limit of a microsecond or so can pass before fn starts:
			// a rejection, and a timeout for the learner.
			return zero, outcome{teach: true, timedOut: true, timed: timing, limit: d}, &Error{Duration: d, Err: context.DeadlineExceeded, rejected: true}
		}
		// The caller's context is done: its error, unchanged.
		if err := ctx.Err(); err != nil {
			return zero, outcome{}, err
		}
		return zero, outcome{}, tctx.Err()
	}
	var start time.Time
	if timing {
		start = time.Now()
	}
	v, err := next(tctx)
	o, err := settle(ctx, tctx, d, cause, timing, start, err)
	return v, o, err
}

// settle returns what a call under a limit of d that ended with err, on
// tctx (derived from ctx with cause), tells a learner, and err, wrapped
// in an [*Error] when the limit fired. start is when it began, if timing.
func settle(ctx, tctx context.Context, d time.Duration, cause *expiry, timing bool, start time.Time, err error) (outcome, error) {
	o := outcome{timed: timing, limit: d}
	if timing {
		o.took = time.Since(start)
	}
	if tctx.Err() == nil {
		// Within the limit. A rejection (fn refused to run) says nothing
		// about latency.
		o.teach = err == nil || !resilience.IsRejected(err)
	} else if context.Cause(tctx) == error(cause) {
		o.teach, o.timedOut = true, true
		if err != nil {
			if err == error(cause) {
				err = context.DeadlineExceeded
			}
			err = &Error{Duration: d, Err: err}
		}
	}
	// Otherwise the caller's context ended first: nothing to learn.
	if o.teach {
		// Only a call whose limit was its own deadline teaches: one that
		// the caller's earlier deadline bounded could not have timed out.
		if pd, ok := ctx.Deadline(); ok {
			if td, _ := tctx.Deadline(); td.Equal(pd) {
				o.teach = false
			}
		}
	}
	return o, err
}

// Start is [WithAdaptive] applied by hand, for work whose context must
// outlive the function that starts it, such as an HTTP response body read
// after RoundTrip has returned. It returns a context that expires at a's
// current limit, or at ctx's deadline if that is sooner, and end, to call
// once when the work is over with its error (nil for a success). end
// teaches a from the outcome, releases the context, and returns err,
// wrapped in an [*Error] naming the limit when the limit fired. Calls of
// end after the first only return their err as the first would wrap it,
// and teach nothing.
func (a *Adaptive) Start(ctx context.Context) (context.Context, func(err error) error) {
	d := a.Current()
	tctx, cancel := context.WithTimeoutCause(ctx, d, a.cause)
	timing := a.hist.Load() != nil
	var start time.Time
	if timing {
		start = time.Now()
	}
	var once atomic.Bool
	return tctx, func(err error) error {
		o, err := settle(ctx, tctx, d, a.cause, timing, start, err)
		if once.CompareAndSwap(false, true) {
			a.learn(tctx, o)
			cancel()
		}
		return err
	}
}

// learn teaches a from one call's outcome, unless the call must not teach
// (Karn's rule: a retried or hedged attempt).
func (a *Adaptive) learn(ctx context.Context, o outcome) {
	if !o.teach || attempt.Excluded(ctx) {
		a.skipped.Add(1)
		return
	}
	if a.hist.Load() != nil && (!o.timed || o.timedOut && float64(o.limit) < a.max) {
		// A warm-up began while the call ran: its latency was not
		// measured, or it timed out at a limit below Max, and the
		// warm-up's histogram needs latencies seen under Max.
		a.skipped.Add(1)
		return
	}
	a.observe(o.timedOut, o.took)
}

// observe teaches a one call that taught: whether it exceeded a's limit,
// and its latency (needed only during a warm-up).
func (a *Adaptive) observe(timedOut bool, took time.Duration) {
	if timedOut {
		a.timedOut()
	} else {
		a.completed(took)
	}
}
