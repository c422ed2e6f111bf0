package breaker

import "strconv"

// State is the state of a [CircuitBreaker]: closed (calls pass), open (calls
// are rejected) or half-open (a few probe calls pass to test the
// dependency). The zero value is StateClosed.
type State int

const (
	// StateClosed: calls pass through and their outcomes are counted.
	StateClosed State = iota
	// StateOpen: calls are rejected with an error that wraps [ErrOpen],
	// without calling fn, until the open timeout has passed (or, after
	// [CircuitBreaker.Isolate], until [CircuitBreaker.Reset]).
	StateOpen
	// StateHalfOpen: up to Settings.HalfOpenRequests probe calls pass; when
	// they all succeed the breaker closes, and when one fails it opens again.
	StateHalfOpen
)

var stateNames = [...]string{"closed", "open", "half-open"}

// String returns "closed", "open" or "half-open" (and "state(N)" for a value
// that is none of these).
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}
