package budget

import (
	"errors"

	"github.com/steadyhq/steady/resilience"
)

// Budget decides whether a call may make an extra attempt (a retry, or a
// hedge) and learns from how attempts end. Package retry consults it
// through retry.Config.Budget, package hedge through hedge.Config.Budget;
// one Budget may be shared by any number of pipelines, of any result type.
// See "The protocol" in the package documentation for who calls what.
//
// Every Budget of this package is safe for concurrent use, and its
// methods do not allocate and take no lock (but the windowed ones, once
// per tick, to move the window on; see "Windows and cost" in the package
// documentation). An implementation of your own
// must be safe for concurrent use too, and should be as cheap: Request and
// Done run on every call, successful ones included.
type Budget interface {
	// Request records that a call is about to make its first attempt.
	Request()

	// Retry reports whether the call may make one more attempt, and
	// counts the answer. A caller that gets true makes the attempt (or has
	// the caller's own cancellation to blame if it does not); one that
	// gets false makes none: a retry ends the call with the last
	// attempt's error, a hedge is not started.
	Retry() bool

	// Done reports how an attempt ended: retry is false for a call's first
	// attempt and true for one that Retry allowed; ok is true if the
	// attempt succeeded, or failed with an error that retrying cannot
	// help (the dependency answered, say with a 404), and false if it
	// failed in a way that a retry is meant to overcome, or was refused
	// by a policy inside (an open breaker). An attempt that ended with the
	// caller's own cancellation or deadline, or that a hedge canceled
	// because another attempt won, is not reported.
	Done(retry, ok bool)

	// Snapshot returns what the budget has seen so far and how much
	// room it has now.
	Snapshot() Stats
}

// Stats is what a [Budget] has seen since it was made, and its room now.
// The counts only grow, so they suit monitoring counters
// (steady_budget_retries_total and the like).
type Stats struct {
	// Requests is the number of calls that started: Request calls, and,
	// for a [Throttler], the calls that went through [Throttle].
	Requests int64
	// Retries is the number of extra attempts that Retry allowed.
	Retries int64
	// Denied is the number of extra attempts that Retry refused, and, for
	// a Throttler, of the calls that Throttle rejected.
	Denied int64
	// Succeeded is the number of extra attempts reported to Done with ok
	// true: the retries (or hedges) that paid off.
	Succeeded int64
	// Headroom is how much room the budget has now. For [Ratio] and
	// [Adaptive], the tokens it holds: about how many retries in a row
	// it would allow now (a retry needs a whole token). For a Throttler,
	// how many more attempts may fail before it starts to reject:
	// K×accepts − requests over its window, or 0 once it rejects.
	Headroom float64
	// RejectRate is the probability with which a [Throttler] rejects a
	// call or a retry now; 0 for the other budgets.
	RejectRate float64
}

// ErrExhausted is matched by the error of a call that ended because a
// Budget denied its retry: errors.Is(err, budget.ErrExhausted). Package
// retry returns a *retry.Error that wraps the last attempt's error and
// matches ErrExhausted.
var ErrExhausted = errors.New("budget: retry budget exhausted")

// ErrThrottled is the error of a call that [Throttle] rejected without
// calling the dependency. It is a rejection ([resilience.IsRejected] is
// true: no breaker or monitor holds it against the dependency) that is not
// retryable. Test for it with errors.Is(err, budget.ErrThrottled).
var ErrThrottled error = throttledError("budget: throttled: the dependency has been rejecting requests")

type throttledError string

func (e throttledError) Error() string   { return string(e) }
func (e throttledError) Rejected() bool  { return true }
func (e throttledError) Retryable() bool { return false }

var _ resilience.RejectedError = throttledError("")

// configError returns the *resilience.ConfigError for a field of a config
// type of this package, e.g. "budget: RatioConfig.TTL is 0s, want ...".
func configError(typ, field string, value any, want string) error {
	return &resilience.ConfigError{Pkg: "budget", Field: typ + "." + field, Value: value, Want: want}
}
