package breaker_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/breaker"
)

// repeat returns n copies of o.
func repeat(o op, n int) []op {
	ops := make([]op, n)
	for i := range ops {
		ops[i] = o
	}
	return ops
}

func seq(parts ...[]op) []op {
	var ops []op
	for _, p := range parts {
		ops = append(ops, p...)
	}
	return ops
}

func TestRules(t *testing.T) {
	tests := []struct {
		name     string
		settings breaker.Settings
		ops      []op
		// opensAt is the index of the op after which the breaker must be
		// open (it is closed before); -1: it must stay closed throughout.
		opensAt int
	}{
		// No rule set: ConsecutiveFailures defaults to 5.
		{"default: 5 failures in a row", breaker.Settings{}, repeat(opFail, 5), 4},
		{"default: 4 failures do not trip", breaker.Settings{}, repeat(opFail, 4), -1},

		{"ConsecutiveFailures trips at N", breaker.Settings{ConsecutiveFailures: 3}, repeat(opFail, 3), 2},
		{"ConsecutiveFailures: a success restarts the count", breaker.Settings{ConsecutiveFailures: 3},
			[]op{opFail, opFail, opOK, opFail, opFail}, -1},
		{"ConsecutiveFailures counts timeouts", breaker.Settings{ConsecutiveFailures: 3},
			[]op{opTimeout, opFail, opTimeout}, 2},
		{"ConsecutiveFailures: excluded calls neither count nor restart", breaker.Settings{ConsecutiveFailures: 3},
			[]op{opFail, opCanceled, opFail, opDeadline, opCanceled, opFail}, 5},
		{"ConsecutiveFailures: IsFailure false is a success", breaker.Settings{ConsecutiveFailures: 2, IsFailure: isFailure},
			[]op{opFail, opNotFound, opFail, opNotFound}, -1},
		{"ConsecutiveFailures: a slow success restarts the count", breaker.Settings{ConsecutiveFailures: 2, SlowCallDuration: time.Second},
			[]op{opFail, opSlow, opFail}, -1},
		{"ConsecutiveFailures: ignores MinRequests", breaker.Settings{ConsecutiveFailures: 1, MinRequests: 100},
			[]op{opFail}, 0},

		{"FailureRate trips when the rate reaches it", breaker.Settings{FailureRate: 0.5, MinRequests: 4},
			[]op{opOK, opFail, opOK, opFail}, 3},
		{"FailureRate: not below MinRequests", breaker.Settings{FailureRate: 0.5, MinRequests: 4},
			[]op{opFail, opFail, opFail}, -1},
		{"FailureRate: first failure at MinRequests trips", breaker.Settings{FailureRate: 0.5, MinRequests: 4},
			[]op{opOK, opFail, opFail, opOK, opFail}, 4},
		{"FailureRate: below the rate stays closed", breaker.Settings{FailureRate: 0.5, MinRequests: 4},
			seq(repeat(opOK, 6), repeat(opFail, 5)), -1},
		{"FailureRate counts timeouts", breaker.Settings{FailureRate: 0.5, MinRequests: 2},
			[]op{opOK, opTimeout}, 1},
		{"FailureRate: excluded calls are not calls", breaker.Settings{FailureRate: 0.5, MinRequests: 4},
			[]op{opOK, opCanceled, opFail, opDeadline, opCanceled, opFail}, -1},
		{"FailureRate: IsFailure false is a success", breaker.Settings{FailureRate: 0.5, MinRequests: 2, IsFailure: isFailure},
			repeat(opNotFound, 4), -1},
		{"FailureRate 1 needs every call to fail", breaker.Settings{FailureRate: 1, MinRequests: 3},
			seq([]op{opOK}, repeat(opFail, 5)), -1},
		{"FailureRate: default MinRequests is 10", breaker.Settings{FailureRate: 0.1},
			repeat(opFail, 10), 9},

		{"TimeoutRate trips on timeouts", breaker.Settings{TimeoutRate: 0.5, MinRequests: 4},
			[]op{opOK, opTimeout, opOK, opTimeout}, 3},
		{"TimeoutRate: other errors never trip it", breaker.Settings{TimeoutRate: 0.1, MinRequests: 2},
			repeat(opFail, 20), -1},
		{"TimeoutRate: other errors dilute the rate", breaker.Settings{TimeoutRate: 0.6, MinRequests: 4},
			[]op{opFail, opTimeout, opFail, opTimeout, opFail}, -1},
		{"TimeoutRate: caller deadlines are not timeouts", breaker.Settings{TimeoutRate: 0.5, MinRequests: 1},
			repeat(opDeadline, 5), -1},
		{"TimeoutRate: not below MinRequests", breaker.Settings{TimeoutRate: 0.5, MinRequests: 5},
			repeat(opTimeout, 4), -1},
		{"TimeoutRate: checked on a timeout, not on a failure that makes MinRequests", breaker.Settings{TimeoutRate: 0.5, MinRequests: 4},
			[]op{opTimeout, opTimeout, opTimeout, opFail, opTimeout}, 4},

		{"SlowCallRate trips on slow successes", breaker.Settings{SlowCallRate: 0.5, SlowCallDuration: time.Second, MinRequests: 2},
			[]op{opOK, opSlow}, 1},
		{"SlowCallRate: fast calls stay closed", breaker.Settings{SlowCallRate: 0.5, SlowCallDuration: time.Second, MinRequests: 2},
			repeat(opOK, 5), -1},
		{"SlowCallRate: at SlowCallDuration is slow", breaker.Settings{SlowCallRate: 1, SlowCallDuration: slowFor, MinRequests: 1},
			[]op{opSlow}, 0},
		{"SlowCallRate: just under SlowCallDuration is not slow", breaker.Settings{SlowCallRate: 1, SlowCallDuration: slowFor + 1, MinRequests: 1},
			[]op{opSlow}, -1},
		{"SlowCallDuration alone only counts", breaker.Settings{SlowCallDuration: time.Second, ConsecutiveFailures: 10},
			repeat(opSlow, 3), -1},

		{"several rules: the first to fire trips", breaker.Settings{ConsecutiveFailures: 3, TimeoutRate: 0.5, MinRequests: 2},
			[]op{opOK, opTimeout}, 1},
		{"several rules: another one fires", breaker.Settings{ConsecutiveFailures: 3, TimeoutRate: 0.9, MinRequests: 2},
			[]op{opOK, opFail, opFail, opFail}, 3},
		{"rate rules only: no default ConsecutiveFailures", breaker.Settings{TimeoutRate: 0.5, MinRequests: 100},
			repeat(opFail, 20), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cb := newBreaker(t, tc.settings)
				c := newCaller(cb)
				for i, o := range tc.ops {
					require.Equal(t, breaker.StateClosed, cb.State(), "before op %d (%v)", i, o)
					_ = c.do(o)
					if i == tc.opensAt {
						require.Equal(t, breaker.StateOpen, cb.State(), "after op %d (%v)", i, o)
						break
					}
				}
				if tc.opensAt < 0 {
					assert.Equal(t, breaker.StateClosed, cb.State())
				}
				cb.Reset() // stops the open timer
			})
		})
	}
}

func TestCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{
			ConsecutiveFailures: 100, SlowCallDuration: time.Second, IsFailure: isFailure,
		})
		c := newCaller(cb)
		for _, o := range []op{opOK, opOK, opSlow, opNotFound, opFail, opTimeout, opTimeout, opCanceled, opDeadline, opFail} {
			_ = c.do(o)
		}
		got := cb.Snapshot().Counts
		assert.Equal(t, breaker.Counts{
			Calls:               8,
			Successes:           4, // 2 ok, 1 slow, 1 not found
			SlowCalls:           1,
			Failures:            2,
			Timeouts:            2,
			Excluded:            2,
			ConsecutiveFailures: 4, // excluded calls do not break the streak
			FailureRate:         0.5,
			TimeoutRate:         0.25,
			SlowCallRate:        0.125,
		}, got)
	})
}

// Setting a rule replaces the default ConsecutiveFailures: with only
// FailureRate 0.5 and MinRequests 10, 10 failures in a row after 14
// successes (10 of 24 calls) do not open the breaker; the 14th failure (14
// of 28) does. Setting ConsecutiveFailures as well keeps both rules.
func TestSettings_aRuleReplacesTheDefaultConsecutiveFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{FailureRate: 0.5, MinRequests: 10})
		c := newCaller(cb)
		for _, o := range seq(repeat(opOK, 14), repeat(opFail, 10)) {
			_ = c.do(o)
		}
		assert.Equal(t, breaker.StateClosed, cb.State(), "10 failures in a row")
		assert.Equal(t, uint32(10), cb.Snapshot().Counts.ConsecutiveFailures)
		for range 3 {
			_ = c.do(opFail)
		}
		assert.Equal(t, breaker.StateClosed, cb.State(), "13 of 27 calls failed")
		_ = c.do(opFail)
		assert.Equal(t, breaker.StateOpen, cb.State(), "14 of 28 calls failed")
		cb.Reset()

		both := newBreaker(t, breaker.Settings{FailureRate: 0.5, MinRequests: 10, ConsecutiveFailures: breaker.DefaultConsecutiveFailures})
		c = newCaller(both)
		for _, o := range seq(repeat(opOK, 14), repeat(opFail, 5)) {
			_ = c.do(o)
		}
		assert.Equal(t, breaker.StateOpen, both.State(), "5 failures in a row, with ConsecutiveFailures set")
		both.Reset()
	})
}
