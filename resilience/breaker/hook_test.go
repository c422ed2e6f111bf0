package breaker_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/internal/testlog"
	"github.com/steadyhq/steady/resilience/breaker"
)

// captureDefault points slog.Default at a buffer for the rest of the test.
func captureDefault(t *testing.T) *testlog.Buffer {
	t.Helper()
	old := slog.Default()
	buf := new(testlog.Buffer)
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

// The open → half-open change is made by the open timer's goroutine, where
// nothing could recover a panic: the hook's panic is recovered and
// reported, and the breaker goes on.
func TestOnStateChange_panicInTimerGoroutineIsRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf testlog.Buffer
		cb := newBreaker(t, breaker.Settings{
			ConsecutiveFailures: 1, OpenTimeout: time.Second,
			Logger: slog.New(slog.NewTextHandler(&buf, nil)),
			OnStateChange: func(_ string, _, to breaker.State) {
				if to == breaker.StateHalfOpen {
					panic("hook bug")
				}
			},
		})
		c := newCaller(cb)
		_ = c.do(opFail)
		require.Equal(t, breaker.StateOpen, cb.State())

		time.Sleep(1100 * time.Millisecond) // the timer fires; the hook panics in it
		synctest.Wait()
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		assert.Contains(t, buf.String(), `level=ERROR msg="steady: hook panicked" hook="breaker: OnStateChange" panic="hook bug"`)

		require.NoError(t, c.do(opOK), "the probe runs")
		assert.Equal(t, breaker.StateClosed, cb.State())
	})
}

// A panicking hook does not lose the events queued behind it: they are
// still logged and passed to the hook.
func TestOnStateChange_panicDoesNotDropLaterEvents(t *testing.T) {
	var buf testlog.Buffer
	var tr transitions
	var cb *breaker.CircuitBreaker
	cb = newBreaker(t, breaker.Settings{
		ConsecutiveFailures: 1,
		Logger:              slog.New(slog.NewTextHandler(&buf, nil)),
		OnStateChange: func(name string, from, to breaker.State) {
			tr.hook(name, from, to)
			if to == breaker.StateOpen {
				cb.Isolate() // queued behind this call, delivered after it
				cb.Reset()
				panic("hook bug")
			}
		},
	})
	_ = newCaller(cb).do(opFail)

	assert.Equal(t, []string{"closed->open", "open->closed"}, tr.list(), "Isolate's open->open is logged, not passed on")
	assert.Equal(t, breaker.StateClosed, cb.State())
	var msgs []string
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		_, msg, _ := strings.Cut(line, "msg=")
		msg, _, _ = strings.Cut(msg, " breaker=")
		msg, _, _ = strings.Cut(msg, " hook=")
		msgs = append(msgs, msg)
	}
	assert.Equal(t, []string{
		`"circuit breaker opened"`,
		`"steady: hook panicked"`,
		`"circuit breaker isolated"`,
		`"circuit breaker reset"`,
	}, msgs)
}

// A hook's panic never changes the result of the call (or the Isolate,
// Reset) whose change it was told of.
func TestOnStateChange_panicDoesNotChangeTheCallsResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb := newBreaker(t, breaker.Settings{
			ConsecutiveFailures: 1, OpenTimeout: time.Second,
			OnStateChange: func(string, breaker.State, breaker.State) { panic("hook bug") },
		})
		fail := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 0, errDown })
		ok := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 42, nil })

		_, err := fail(t.Context()) // trips
		require.ErrorIs(t, err, errDown)
		require.Equal(t, breaker.StateOpen, cb.State())
		time.Sleep(1100 * time.Millisecond)
		synctest.Wait()
		v, err := ok(t.Context()) // the probe that closes it
		require.NoError(t, err)
		assert.Equal(t, 42, v)
		assert.Equal(t, breaker.StateClosed, cb.State())
		assert.NotPanics(t, cb.Isolate)
		assert.NotPanics(t, cb.Reset)
		assert.Equal(t, breaker.Transitions{Trips: 1, HalfOpens: 1, Closes: 1, Isolations: 1, Resets: 1}, cb.Snapshot().Transitions)
	})
}

// panicHandler is a slog.Handler that panics on every record.
type panicHandler struct{ slog.Handler }

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("logger bug") }

// A Logger that panics is a hook like any other: recovered, reported to
// slog.Default (reporting to it would panic again), and OnStateChange still
// gets the change.
func TestLogger_panicIsRecovered(t *testing.T) {
	def := captureDefault(t)
	var tr transitions
	cb := newBreaker(t, breaker.Settings{
		ConsecutiveFailures: 1, OpenTimeout: time.Hour,
		Logger: slog.New(panicHandler{}), OnStateChange: tr.hook,
	})
	_, err := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 0, errDown })(t.Context())
	require.ErrorIs(t, err, errDown)
	cb.Reset()
	assert.Equal(t, []string{"closed->open", "open->closed"}, tr.list())
	assert.Contains(t, def.String(), `level=ERROR msg="steady: hook panicked" hook="breaker: Logger" panic="logger bug"`)
}

// Without a Logger the breaker logs nothing, but a panicking hook is a bug
// and is still reported, to slog.Default.
func TestLogging_nilLoggerLogsNothingButHookPanics(t *testing.T) {
	def := captureDefault(t)
	cb, err := breaker.New(breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour})
	require.NoError(t, err)
	_ = newCaller(cb).do(opFail)
	require.Equal(t, breaker.StateOpen, cb.State())
	cb.Isolate()
	cb.Reset()
	assert.Empty(t, def.String())

	cb, err = breaker.New(breaker.Settings{
		ConsecutiveFailures: 1, OpenTimeout: time.Hour,
		OnStateChange: func(string, breaker.State, breaker.State) { panic("hook bug") },
	})
	require.NoError(t, err)
	_ = newCaller(cb).do(opFail)
	cb.Reset()
	assert.Contains(t, def.String(), `level=ERROR msg="steady: hook panicked" hook="breaker: OnStateChange" panic="hook bug"`)
	assert.NotContains(t, def.String(), "circuit breaker")
}

// IsFailure is a user hook too: its panic is recovered and reported, the
// call counts as a failure, and the caller gets the call's own result.
func TestIsFailure_panicCountsAsAFailureAndKeepsTheResult(t *testing.T) {
	var buf testlog.Buffer
	cb := newBreaker(t, breaker.Settings{
		ConsecutiveFailures: 100,
		Logger:              slog.New(slog.NewTextHandler(&buf, nil)),
		IsFailure:           func(error) bool { panic("IsFailure bug") },
	})
	call := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 42, errNotFound })
	var v int
	var err error
	require.NotPanics(t, func() { v, err = call(t.Context()) })
	assert.Equal(t, 42, v)
	assert.Same(t, errNotFound, err)

	tk, err := cb.Allow()
	require.NoError(t, err)
	require.NotPanics(t, func() { tk.Done(t.Context(), errNotFound) })

	assert.Equal(t, breaker.Counts{Calls: 2, Failures: 2, ConsecutiveFailures: 2, FailureRate: 1}, cb.Snapshot().Counts)
	assert.Contains(t, buf.String(), `level=ERROR msg="steady: hook panicked" hook="breaker: IsFailure" panic="IsFailure bug"`)
}

// A probe whose IsFailure panics is a failed probe: the breaker reopens,
// and probes again after the open timeout, instead of keeping the slot.
func TestIsFailure_panicOnAProbeReopensTheBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := true
		cb := newBreaker(t, breaker.Settings{
			ConsecutiveFailures: 1, OpenTimeout: time.Second,
			IsFailure: func(err error) bool {
				if boom {
					panic("IsFailure bug")
				}
				return isFailure(err)
			},
		})
		c := newCaller(cb)
		require.ErrorIs(t, c.do(opFail), errDown)
		require.Equal(t, breaker.StateOpen, cb.State())
		time.Sleep(1100 * time.Millisecond)
		require.Equal(t, breaker.StateHalfOpen, cb.State())

		var err error
		require.NotPanics(t, func() { err = c.do(opNotFound) }, "the probe")
		require.ErrorIs(t, err, errNotFound)
		require.Equal(t, breaker.StateOpen, cb.State(), "a probe whose IsFailure panicked failed")

		boom = false
		time.Sleep(1100 * time.Millisecond)
		require.ErrorIs(t, c.do(opNotFound), errNotFound, "the next probe gets through")
		assert.Equal(t, breaker.StateClosed, cb.State())
		assert.Equal(t, breaker.Transitions{Trips: 1, HalfOpens: 2, Reopens: 1, Closes: 1}, cb.Snapshot().Transitions)
	})
}

// The open timer's goroutine runs the open → half-open change: a hook that
// panics there, reported to a Logger that panics too, is reported to
// slog.Default instead, and the process and the later events go on.
func TestOnStateChange_panicInTimerGoroutineWithAPanickingLogger(t *testing.T) {
	def := captureDefault(t)
	synctest.Test(t, func(t *testing.T) {
		var tr transitions
		cb := newBreaker(t, breaker.Settings{
			ConsecutiveFailures: 1, OpenTimeout: time.Second,
			Logger: slog.New(panicHandler{}),
			OnStateChange: func(name string, from, to breaker.State) {
				tr.hook(name, from, to)
				if to == breaker.StateHalfOpen {
					panic("hook bug")
				}
			},
		})
		c := newCaller(cb)
		require.ErrorIs(t, c.do(opFail), errDown)
		time.Sleep(1100 * time.Millisecond) // the timer fires; hook and Logger panic in it
		synctest.Wait()
		require.Equal(t, breaker.StateHalfOpen, cb.State())
		require.NoError(t, c.do(opOK), "the probe runs")
		assert.Equal(t, breaker.StateClosed, cb.State())
		assert.Equal(t, []string{"closed->open", "open->half-open", "half-open->closed"}, tr.list())
	})
	assert.Contains(t, def.String(), `level=ERROR msg="steady: hook panicked" hook="breaker: OnStateChange" panic="hook bug"`)
}
