package retry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/retry"
)

// ledger is a Budget that records what Retry tells it, and allows the
// first `allow` retries. It checks the protocol Retry follows; the budgets
// themselves are tested in package budget.
type ledger struct {
	mu    sync.Mutex
	allow int
	log   []string
}

func (l *ledger) add(s string) { l.mu.Lock(); l.log = append(l.log, s); l.mu.Unlock() }
func (l *ledger) Request()     { l.add("request") }
func (l *ledger) Retry() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.allow == 0 {
		l.log = append(l.log, "retry? no")
		return false
	}
	l.allow--
	l.log = append(l.log, "retry? yes")
	return true
}
func (l *ledger) Done(retry, ok bool)    { l.add(fmt.Sprintf("done(retry=%v, ok=%v)", retry, ok)) }
func (l *ledger) Snapshot() budget.Stats { return budget.Stats{} }
func (l *ledger) String() string         { return strings.Join(l.log, ", ") }

func TestRetry_budgetProtocol(t *testing.T) {
	errNotFound := &statusErr{code: 404}
	errUnavailable := &statusErr{code: 503}
	tests := []struct {
		name  string
		cfg   retry.Config
		allow int
		fn    *flaky
		want  string
	}{
		{"success at once", retry.Config{}, 5, failing(0, nil),
			"request, done(retry=false, ok=true)"},
		{"success on the second attempt", retry.Config{}, 5, failing(1, errUnavailable),
			"request, done(retry=false, ok=false), retry? yes, done(retry=true, ok=true)"},
		{"attempts run out: the last is not asked about", retry.Config{MaxAttempts: 2}, 5, failing(9, errUnavailable),
			"request, done(retry=false, ok=false), retry? yes, done(retry=true, ok=false)"},
		{"a not-retryable error is an answer, and not asked about", retry.Config{}, 5, failing(1, errNotFound),
			"request, done(retry=false, ok=true)"},
		{"a Permanent error is an answer", retry.Config{}, 5, failing(1, retry.Permanent(errors.New("bad input"))),
			"request, done(retry=false, ok=true)"},
		{"a rejection inside is not ok", retry.Config{}, 5, failing(1, resilience.ErrNilFunc),
			"request, done(retry=false, ok=false)"},
		{"ShouldRetry decides what is retryable", retry.Config{ShouldRetry: func(error) bool { return false }}, 5, failing(1, errUnavailable),
			"request, done(retry=false, ok=true)"},
		{"denied", retry.Config{}, 1, failing(9, errUnavailable),
			"request, done(retry=false, ok=false), retry? yes, done(retry=true, ok=false), retry? no"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := &ledger{allow: tc.allow}
				tc.cfg.Budget = l
				_, _ = retry.Retry[int](tc.cfg)(tc.fn.call)(t.Context())
				assert.Equal(t, tc.want, l.String())
			})
		})
	}
}

func TestRetry_deniedRetryEndsTheCallWithTheLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errUnavailable := &statusErr{code: 503}
		var waited []time.Duration
		cfg := retry.Config{
			MaxAttempts: 4,
			Budget:      &ledger{allow: 1},
			OnRetry:     func(_ int, _ error, d time.Duration) { waited = append(waited, d) },
		}
		f := failing(9, errUnavailable)
		start := time.Now()
		v, err := retry.Retry[int](cfg)(f.call)(t.Context())

		assert.Equal(t, 2, f.calls)
		assert.Equal(t, 2, v, "the last attempt's value comes back")
		assert.Len(t, waited, 1, "no OnRetry, and no wait, for a denied retry")
		assert.Equal(t, waited[0], time.Since(start))

		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 2, re.Attempts)
		assert.Zero(t, re.NextDelay)
		assert.Same(t, errUnavailable, re.Err)
		assert.ErrorIs(t, err, budget.ErrExhausted)
		assert.NotErrorIs(t, err, retry.ErrExhausted, "the attempts did not run out")
		assert.ErrorIs(t, err, errUnavailable)
		assert.False(t, resilience.IsRejected(err), "the dependency was called")
		assert.EqualError(t, err, "retry: gave up after 2 attempts, retry budget exhausted: status 503")
	})
}

func TestRetry_firstRetryDenied(t *testing.T) {
	b, err := budget.NewAdaptive(budget.AdaptiveConfig{Capacity: 1})
	require.NoError(t, err)
	require.True(t, b.Retry())
	f := failing(9, errBoom)
	_, err = retry.Retry[int](retry.Config{Budget: b})(f.call)(t.Context())
	assert.Equal(t, 1, f.calls)
	assert.EqualError(t, err, "retry: gave up after 1 attempt, retry budget exhausted: "+errBoom.Error())
}

// A retry that the deadline rules out is not asked of the budget, so it
// takes nothing from it; nor is the caller's cancellation reported.
func TestRetry_budgetNotAskedPastTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &ledger{allow: 5}
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		cfg := retry.Config{BaseDelay: 100 * time.Millisecond, Budget: l}
		_, err := retry.Retry[int](cfg)(failing(9, errBoom).call)(ctx)
		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.NotZero(t, re.NextDelay)
		assert.Equal(t, "request, done(retry=false, ok=false), retry? yes, done(retry=true, ok=false)", l.String())
	})
	synctest.Test(t, func(t *testing.T) {
		l := &ledger{allow: 5}
		ctx, cancel := context.WithCancel(t.Context())
		f := func(context.Context) (int, error) { cancel(); return 0, context.Canceled }
		_, err := retry.Retry[int](retry.Config{Budget: l})(f)(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, "request", l.String(), "the caller's cancellation is not reported")
	})
}

func TestRetry_budgetSharedByPoliciesOfAnyType(t *testing.T) {
	b, err := budget.NewAdaptive(budget.AdaptiveConfig{Capacity: 2})
	require.NoError(t, err)
	cfg := retry.Config{BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond, MaxAttempts: 10, Budget: b}
	ints := retry.Retry[int](cfg)(func(context.Context) (int, error) { return 0, errBoom })
	strs := retry.Retry[string](cfg)(func(context.Context) (string, error) { return "", errBoom })
	_, err1 := ints(t.Context())
	_, err2 := strs(t.Context())
	assert.ErrorIs(t, err1, budget.ErrExhausted)
	assert.ErrorIs(t, err2, budget.ErrExhausted)
	s := b.Snapshot()
	assert.Equal(t, int64(2), s.Requests)
	assert.Equal(t, int64(2), s.Retries)
	assert.Equal(t, int64(2), s.Denied)
}
