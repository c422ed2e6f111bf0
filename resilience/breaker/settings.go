package breaker

import (
	"log/slog"
	"math"
	"time"

	"github.com/steadyhq/steady/internal/window"
	"github.com/steadyhq/steady/resilience"
)

// Defaults used for zero Settings fields.
const (
	// DefaultConsecutiveFailures is the rule used when no rule is set.
	DefaultConsecutiveFailures = 5
	// DefaultMinRequests is the default of Settings.MinRequests.
	DefaultMinRequests = 10
	// DefaultWindow is the default of Settings.Window.
	DefaultWindow = 60 * time.Second
	// DefaultOpenTimeout is the default of Settings.OpenTimeout.
	DefaultOpenTimeout = 30 * time.Second
	// DefaultHalfOpenRequests is the default of Settings.HalfOpenRequests.
	DefaultHalfOpenRequests = 1
)

// WindowBuckets is the number of ticks the rolling window is split into.
const WindowBuckets = window.Buckets

// Lower bounds that catch a unit mistake such as Window: 60 (60ns).
const (
	minWindow      = 10 * time.Millisecond
	minOpenTimeout = time.Millisecond
)

// maxOpenTimeout is the longest Settings.OpenTimeout: 365 days. It keeps
// the open period, OpenTimeout plus up to 10% of jitter, and the time of
// the next probe far from the limits of time.Duration and time.Time (an
// OpenTimeout near math.MaxInt64 would wrap around). A breaker meant to
// stay open indefinitely is [CircuitBreaker.Isolate]'s job.
const maxOpenTimeout = 365 * 24 * time.Hour

// Settings configures a [CircuitBreaker]. ConsecutiveFailures,
// FailureRate, TimeoutRate and SlowCallRate are the rules that open it; any
// one that is set (non-zero) may fire. When none is set, ConsecutiveFailures
// is 5. Setting any rule replaces that default: Settings{FailureRate: 0.5,
// MinRequests: 10} does not open on 10 failures in a row after 14
// successes (10 of 24 calls is below 0.5); set ConsecutiveFailures too to
// keep that rule. See "Rules" and "What counts" in the package
// documentation.
//
// The zero Settings is valid: a breaker named "" that opens after 5
// failures in a row and probes again 30s later. [Settings.Validate] checks
// the ranges given on each field; [New] calls it.
type Settings struct {
	// Name names the breaker in errors, logs and OnStateChange, e.g. the
	// dependency "payments" or an upstream host. Optional.
	Name string

	// ConsecutiveFailures opens the breaker after this many failures
	// (timeouts included) in a row, whatever the window holds. 0: off,
	// unless every rule is 0 (then [DefaultConsecutiveFailures]).
	ConsecutiveFailures uint32

	// FailureRate trips the breaker when (failures + timeouts) / calls in
	// the window reaches it. Range (0, 1]; 0: off.
	FailureRate float64

	// TimeoutRate trips the breaker when timeouts / calls in the window
	// reaches it. Range (0, 1]; 0: off. An error that is not a timeout
	// never counts toward it.
	TimeoutRate float64

	// SlowCallRate trips the breaker when slow calls / calls in the window
	// reaches it. Range (0, 1]; 0: off. Requires SlowCallDuration. While
	// it is set, a slow probe is a failed probe.
	SlowCallRate float64

	// SlowCallDuration is the duration from which a successful call counts
	// as slow. Must be > 0 when SlowCallRate is set; may be set alone, and
	// then slow calls are only counted (see [Counts].SlowCalls). 0: off.
	SlowCallDuration time.Duration

	// MinRequests is the number of calls (successes, failures and
	// timeouts; not excluded calls) the window must hold before a rate
	// rule may trip the breaker. 0: [DefaultMinRequests] (10).
	MinRequests uint32

	// Window is the length of the rolling window that the rate rules and
	// [Counts] look at. 0: [DefaultWindow] (60s); otherwise at least 10ms.
	Window time.Duration

	// OpenTimeout is how long the breaker stays open before it lets probes
	// through, plus a random jitter of up to 10% each time it opens. 0:
	// [DefaultOpenTimeout] (30s); otherwise at least 1ms and at most 365
	// days (8760h); to hold a breaker open for good, use
	// [CircuitBreaker.Isolate].
	OpenTimeout time.Duration

	// HalfOpenRequests is the number of probes let through while
	// half-open, all of which must succeed to close the breaker. 0:
	// [DefaultHalfOpenRequests] (1).
	HalfOpenRequests uint32

	// MaxWaiting is how many calls may wait, while the breaker is open or
	// half-open, for it to let calls through again, instead of being
	// rejected at once: a call made during an outage then succeeds soon
	// after the dependency recovers, while no request reaches the
	// dependency before a probe shows it is back. Each waits no longer
	// than its own context allows; a call whose deadline comes before the
	// next probe is rejected at once, as is every call beyond MaxWaiting.
	// When a probe closes the breaker, the waiters are let through paced
	// by success (each success after the close lets two more go), not all
	// at once. Waiting holds nothing but the caller's goroutine (no
	// connection, no request). 0 (the default): reject at once. It applies
	// to [Breaker] and [CircuitBreaker.Wait], not to Allow, which never
	// blocks. Must be >= 0.
	MaxWaiting int

	// IsFailure decides whether an error counts against the dependency. It
	// is asked only about errors that would otherwise be failures: not
	// timeouts, and not calls whose context the caller canceled. When it
	// returns false the call counts as a success (the dependency answered,
	// e.g. with "404 Not Found"). nil: every such error is a failure. It
	// must be safe for concurrent use and should be fast. A panic in it is
	// recovered and reported (see "Hooks and logging" in the package
	// documentation), and the call counts as a failure; the caller still
	// gets the call's own result.
	IsFailure func(err error) bool

	// OnStateChange, if not nil, is called after each change of state with
	// the breaker's Name and the old and new State, with no lock held, one
	// call at a time and in order (see "Hooks and logging" in the package
	// documentation). The state it reads may already have moved on.
	OnStateChange func(name string, from, to State)

	// Logger receives a record for every state change, Isolate and Reset:
	// Warn when the breaker opens, Info otherwise, with the name, the old
	// and new state, the reason and the counts behind it. nil: nothing is
	// logged, except a panic in OnStateChange (see the package
	// documentation, "Hooks and logging").
	Logger *slog.Logger

	// Store, if not nil, shares the breaker's counts and state with the
	// other processes that use the same Store and Name (see "More than
	// one process" in the package documentation): the rules weigh the
	// fleet's counts, a trip anywhere opens every breaker of the fleet,
	// and one process probes. [New] starts a goroutine that syncs with it
	// every SyncInterval; call [CircuitBreaker.Close] to stop it. nil: the
	// breaker is on its own.
	Store Store

	// SyncInterval is how often a breaker with a Store sends its counts
	// and learns the fleet's state; a trip reaches the fleet within about
	// SyncInterval. 0: [DefaultSyncInterval] (500ms); otherwise at least
	// 10ms. Ignored without a Store.
	SyncInterval time.Duration
}

// config is Settings after validation, with defaults filled in.
type config struct {
	Settings
	rateRules bool // FailureRate, TimeoutRate or SlowCallRate is set

	// mayTrip[k] is whether a call that ends as k counts toward a rule
	// that is set, and so has the rules checked (see Settings, "Rules").
	mayTrip [numKinds]bool
}

// Validate reports the first invalid field of s as a
// [*resilience.ConfigError] that names it, or nil. [New] calls it; call it
// yourself for Settings read at run time (from flags or a file).
func (s Settings) Validate() error {
	bad := func(field string, value any, want string) error {
		return &resilience.ConfigError{Pkg: "breaker", Field: "Settings." + field, Value: value, Want: want}
	}
	const rateWant = "0 (off) or in (0, 1]"
	for _, r := range []struct {
		field string
		v     float64
	}{{"FailureRate", s.FailureRate}, {"TimeoutRate", s.TimeoutRate}, {"SlowCallRate", s.SlowCallRate}} {
		if math.IsNaN(r.v) || r.v < 0 || r.v > 1 {
			return bad(r.field, r.v, rateWant)
		}
	}
	switch {
	case s.MaxWaiting < 0:
		return bad("MaxWaiting", s.MaxWaiting, ">= 0 (0: reject at once)")
	case s.SlowCallDuration < 0:
		return bad("SlowCallDuration", s.SlowCallDuration, "0 (off) or > 0")
	case s.SlowCallRate > 0 && s.SlowCallDuration == 0:
		return bad("SlowCallDuration", s.SlowCallDuration, "> 0 when SlowCallRate is set")
	case s.Window < 0 || (s.Window > 0 && s.Window < minWindow):
		return bad("Window", s.Window, "0 (default 60s) or >= "+minWindow.String())
	case s.OpenTimeout < 0 || (s.OpenTimeout > 0 && s.OpenTimeout < minOpenTimeout):
		return bad("OpenTimeout", s.OpenTimeout, "0 (default 30s) or >= "+minOpenTimeout.String())
	case s.SyncInterval < 0 || (s.SyncInterval > 0 && s.SyncInterval < minSyncInterval):
		return bad("SyncInterval", s.SyncInterval, "0 (default 500ms) or >= "+minSyncInterval.String())
	case s.OpenTimeout > maxOpenTimeout:
		return bad("OpenTimeout", s.OpenTimeout, "<= "+maxOpenTimeout.String()+" (365 days)")
	}
	return nil
}

// config returns s, which must be valid, with the defaults filled in.
func (s Settings) config() config {
	c := config{Settings: s}
	c.rateRules = s.FailureRate > 0 || s.TimeoutRate > 0 || s.SlowCallRate > 0
	if c.ConsecutiveFailures == 0 && !c.rateRules {
		c.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if c.MinRequests == 0 {
		c.MinRequests = DefaultMinRequests
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.OpenTimeout == 0 {
		c.OpenTimeout = DefaultOpenTimeout
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.HalfOpenRequests == 0 {
		c.HalfOpenRequests = DefaultHalfOpenRequests
	}
	failures := c.ConsecutiveFailures > 0 || c.FailureRate > 0 // count failures and timeouts
	c.mayTrip[kindFailure] = failures
	c.mayTrip[kindTimeout] = failures || c.TimeoutRate > 0
	c.mayTrip[kindSlow] = c.SlowCallRate > 0
	return c
}
