package budget

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/resilience"
)

// Defaults of [ThrottlerConfig], the SRE book's.
const (
	// DefaultK is the default of ThrottlerConfig.K.
	DefaultK = 2
	// DefaultWindow is the default of ThrottlerConfig.Window.
	DefaultWindow = 2 * time.Minute
)

// Limits of [ThrottlerConfig].
const (
	maxK      = 100
	minWindow = time.Second
	maxWindow = time.Hour
)

// ThrottlerConfig configures a [Throttler]. The zero ThrottlerConfig is
// valid and means the SRE book's choices: K = 2 over two minutes.
type ThrottlerConfig struct {
	// K is how many requests the throttler lets through for each one the
	// dependency accepted before it starts to reject: it rejects with
	// probability max(0, (requests − K×accepts) / (requests + 1)). Lower is
	// more aggressive: K = 1.1 rejects about one request for each ten
	// accepted. Default (0): 2. Range: [1, 100].
	K float64

	// Window is how long a request and an accept count. Default (0): 2m.
	// Range: [1s, 1h].
	Window time.Duration
}

// Validate reports the first field of c that is out of range, as a
// [*resilience.ConfigError] naming it; nil if [NewThrottler] accepts c.
func (c ThrottlerConfig) Validate() error {
	_, err := c.withDefaults()
	return err
}

func (c ThrottlerConfig) withDefaults() (ThrottlerConfig, error) {
	switch {
	case c.K == 0:
		c.K = DefaultK
	case !(c.K >= 1 && c.K <= maxK): // NaN too
		return c, configError("ThrottlerConfig", "K", c.K, "in [1, 100] (or 0 for 2)")
	}
	switch {
	case c.Window == 0:
		c.Window = DefaultWindow
	case c.Window < minWindow || c.Window > maxWindow:
		return c, configError("ThrottlerConfig", "Window", c.Window, "between 1s and 1h0m0s (or 0 for 2m)")
	}
	return c, nil
}

// Throttler is client-side adaptive throttling, as in the SRE book
// (chapter 21, "Handling Overload"): over the last Window it counts the
// requests it saw and the accepts (the requests the dependency handled),
// and rejects each new request locally with probability
//
//	max(0, (requests − K×accepts) / (requests + 1))
//
// A request it rejects counts as a request, never as an accept, so the
// more a failing dependency is asked, the more the throttler rejects, and
// the dependency sees about K requests for each one it can handle, however
// hard the callers push. See "Throttling" in the package documentation.
//
// A Throttler throttles in two places, which may share it:
//
//   - as a policy, [Throttle]: a rejected call fails at once with
//     [ErrThrottled], without calling the dependency;
//   - as a [Budget] (retry.Config.Budget, hedge.Config.Budget): a rejected
//     retry or hedge is not made. As a Budget it never rejects a call's
//     first attempt, only extra ones.
//
// Make one with [NewThrottler]; the zero value is a Throttler with the zero
// ThrottlerConfig. It must not be copied after first use. It is safe for
// concurrent use, without a lock or an allocation per call; a decision
// reads the monotonic clock, and recording an outcome reads it once every
// 64 requests, to move the window on (see "Windows and cost" in the
// package documentation).
type Throttler struct {
	k    float64
	rand func() float64 // [0, 1); a seam for tests
	once sync.Once      // runs init, from NewThrottler or on first use of a zero value
	l    ledger
}

// Counters of a Throttler's ledger. Only tAccepts and tFailures are read
// over the window; the others are totals for Snapshot. Requests in the SRE
// sense are tAccepts + tFailures, so that recording one is a single atomic
// add.
const (
	tAccepts   = iota // attempts reported ok
	tFailures         // attempts reported not ok, and rejections
	tCalls            // Stats.Requests
	tRetries          // Stats.Retries
	tDenied           // Stats.Denied
	tSucceeded        // Stats.Succeeded
)

// NewThrottler returns a [Throttler] configured by c, or c's
// [ThrottlerConfig.Validate] error.
func NewThrottler(c ThrottlerConfig) (*Throttler, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	t := new(Throttler)
	t.once.Do(func() { t.init(c) })
	return t, nil
}

// init sets t up for c, which has its defaults filled in.
func (t *Throttler) init(c ThrottlerConfig) {
	t.k = c.K
	t.rand = rand.Float64
	t.l.init(c.Window)
}

// ready initializes a zero Throttler on its first use.
func (t *Throttler) ready() { t.once.Do(t.initZero) }

func (t *Throttler) initZero() {
	c, _ := ThrottlerConfig{}.withDefaults()
	t.init(c)
}

// Throttle returns a Policy that asks t before every call: a call that t
// rejects returns [ErrThrottled] at once without calling next; the others
// call next, and t learns from how they end (a success, or an error that
// says it is not retryable, such as an HTTP 404, is an accept; other
// errors are not; the caller's own cancellation or deadline is not
// counted at all). Results and errors come back unchanged.
//
// Put it outside Retry to throttle calls (retries then are not throttled
// unless t is also retry.Config.Budget), or inside Retry to throttle
// every attempt; see "Throttling" in the package documentation.
//
// A nil t panics with a [*resilience.ConfigError], and applying the Policy
// to a nil next panics with [resilience.ErrNilFunc]. A nil context at call
// time returns [resilience.ErrNilContext].
func Throttle[T any](t *Throttler) resilience.Policy[T] {
	if t == nil {
		panic(&resilience.ConfigError{Pkg: "budget", Field: "Throttle(t)", Want: "a Throttler from NewThrottler"})
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (v T, err error) {
			if ctx == nil {
				return v, resilience.ErrNilContext
			}
			if !t.admit() {
				return v, ErrThrottled
			}
			v, err = next(ctx)
			t.observe(ctx, err)
			return v, err
		}
	}
}

// admit counts a call made through Throttle, and decides whether it may go.
func (t *Throttler) admit() bool {
	t.ready()
	t.l.c[tCalls].Add(1)
	if t.reject() {
		t.l.c[tDenied].Add(1)
		return false
	}
	return true
}

// observe records the outcome of a call that Throttle let through.
func (t *Throttler) observe(ctx context.Context, err error) {
	switch resilience.Classify(ctx, err) {
	case resilience.OutcomeSuccess:
		t.Done(false, true)
	case resilience.OutcomeCanceled, resilience.OutcomeDeadline:
		// The caller's: says nothing about the dependency.
	case resilience.OutcomeFailure:
		t.Done(false, answered(err))
	default: // rejected by a policy inside, or timed out
		t.Done(false, false)
	}
}

// answered reports whether err says that it is not retryable (the first
// Retryable method in its chain returns false): the dependency answered,
// as with an HTTP 404.
func answered(err error) bool {
	verdict := false
	resilience.Walk(err, func(e error) bool {
		r, ok := e.(resilience.RetryableError)
		if ok {
			verdict = !r.Retryable()
		}
		return ok
	})
	return verdict
}

// reject draws whether to reject a request now; a rejection counts as a
// request that was not accepted.
func (t *Throttler) reject() bool {
	t.l.tick(clock.Now())
	p := t.rejectRate(t.l.open.Load())
	if p <= 0 || t.rand() >= p {
		return false
	}
	t.l.add(tFailures, 1)
	return true
}

// rejectRate returns the probability of a rejection over the window that
// open opens.
func (t *Throttler) rejectRate(open *opening) float64 {
	req, acc := t.counts(open)
	return max(0, (req-t.k*acc)/(req+1))
}

// counts returns the requests and the accepts in the window that open
// opens.
func (t *Throttler) counts(open *opening) (req, acc float64) {
	acc = float64(t.l.since(open, tAccepts))
	return acc + float64(t.l.since(open, tFailures)), acc
}

// Request counts a call in Snapshot's Requests. The throttler counts
// requests when they end, in Done: a request that a caller abandons (its
// own cancellation or deadline) is not counted.
func (t *Throttler) Request() {
	t.ready()
	t.l.c[tCalls].Add(1)
}

// Retry allows an extra attempt unless the throttler rejects it, with the
// same probability as a call through [Throttle]. A rejected attempt counts
// as a request that was not accepted.
func (t *Throttler) Retry() bool {
	t.ready()
	if t.reject() {
		t.l.c[tDenied].Add(1)
		return false
	}
	t.l.c[tRetries].Add(1)
	return true
}

// Done counts a request, and an accept if ok.
func (t *Throttler) Done(retry, ok bool) {
	t.ready()
	switch {
	case !ok:
		t.l.add(tFailures, 1)
	case retry:
		t.l.add(tAccepts, 1)
		t.l.c[tSucceeded].Add(1)
	default:
		t.l.add(tAccepts, 1)
	}
}

// Snapshot returns the counts since t was made, the current RejectRate,
// and as Headroom how many more requests may fail before t starts to
// reject: K×accepts − requests over the window, or 0.
func (t *Throttler) Snapshot() Stats {
	t.ready()
	t.l.tick(clock.Now())
	open := t.l.open.Load()
	req, acc := t.counts(open)
	return Stats{
		Requests:   int64(t.l.c[tCalls].Load()),
		Retries:    int64(t.l.c[tRetries].Load()),
		Denied:     int64(t.l.c[tDenied].Load()),
		Succeeded:  int64(t.l.c[tSucceeded].Load()),
		Headroom:   math.Floor(max(0, t.k*acc-req)),
		RejectRate: t.rejectRate(open),
	}
}
