package breaker

import (
	"time"
)

// Counts are the calls counted in a breaker's rolling window (see
// Settings.Window), by how they ended, with the rates the rules compare.
// The categories do not overlap, except that SlowCalls are also Successes.
type Counts struct {
	// Calls is Successes + Failures + Timeouts: the calls the rate rules
	// and MinRequests look at.
	Calls uint64
	// Successes counts calls that succeeded, slow ones included, and
	// errors for which Settings.IsFailure returned false.
	Successes uint64
	// SlowCalls counts successes that took Settings.SlowCallDuration or
	// longer (always 0 when SlowCallDuration is 0).
	SlowCalls uint64
	// Failures counts calls that failed other than by a timeout, panics
	// included.
	Failures uint64
	// Timeouts counts calls that ended in a timeout while the caller's
	// context was live.
	Timeouts uint64
	// Excluded counts calls that the caller canceled or whose caller's
	// deadline passed, and calls that a policy inside the breaker refused
	// without calling the dependency (see [resilience.IsRejected]); they
	// are in no rate.
	Excluded uint64
	// ConsecutiveFailures is the number of failures and timeouts in a row
	// since the last success, regardless of the window.
	ConsecutiveFailures uint32

	// FailureRate is (Failures + Timeouts) / Calls, 0 when Calls is 0.
	FailureRate float64
	// TimeoutRate is Timeouts / Calls, 0 when Calls is 0.
	TimeoutRate float64
	// SlowCallRate is SlowCalls / Calls, 0 when Calls is 0.
	SlowCallRate float64
}

// Transitions counts a breaker's changes of state since [New], by kind.
type Transitions struct {
	// Trips counts closed → open: a rule fired.
	Trips uint64
	// HalfOpens counts open → half-open: the open timeout passed.
	HalfOpens uint64
	// Closes counts half-open → closed: every probe succeeded.
	Closes uint64
	// Reopens counts half-open → open: a probe failed.
	Reopens uint64
	// Isolations counts calls of [CircuitBreaker.Isolate] that isolated
	// the breaker (not those made while it already was).
	Isolations uint64
	// Resets counts calls of [CircuitBreaker.Reset].
	Resets uint64
}

// Snapshot is a consistent-enough view of a [CircuitBreaker] at one moment,
// for reports, dashboards and logs; see [CircuitBreaker.Snapshot].
type Snapshot struct {
	// Name is the breaker's Settings.Name.
	Name string
	// State is the current state.
	State State
	// Isolated is true while the breaker is held open by Isolate.
	Isolated bool

	// Counts are the calls in the rolling window while the breaker is
	// closed. While it is open, half-open or isolated they are the counts
	// as they were when it last left the closed state (the counts that
	// tripped it), so a report shows why it is open.
	Counts Counts

	// Rejected counts the calls rejected without calling fn since [New]
	// (Reset does not clear it): while open, while isolated, and while
	// half-open with every probe slot taken.
	Rejected uint64
	// Transitions counts the changes of state since New.
	Transitions Transitions

	// Waiting is the number of calls waiting now for the breaker to let
	// them through (Settings.MaxWaiting), and Waited the number let
	// through after waiting since New. A waiting call that gives up is
	// counted in Rejected.
	Waiting int64
	Waited  int64

	// NextProbe is when an open breaker lets the next probe through; zero
	// when the breaker is not open or is isolated.
	NextProbe time.Time
}
