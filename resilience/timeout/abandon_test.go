package timeout_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/timeout"
)

// The tests here read the process-wide timeout.Abandoned, so none of them
// (and no test in this package that abandons calls) runs in parallel.

func TestAbandon_returnsAtLimitAndCountsRunningWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := new(gauge)
		var calls atomic.Int64
		call := timeout.WithTimeout[string](time.Second, timeout.Abandon(), timeout.Track(g))(
			ignoring(time.Hour, "late", &calls))

		start := time.Now()
		v, err := call(t.Context())
		assert.Equal(t, time.Second, time.Since(start), "the call returns at the limit, not after fn")
		assert.Empty(t, v)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, time.Second, te.Duration)
		assert.Equal(t, context.DeadlineExceeded, te.Err)
		assert.Equal(t, int64(1), calls.Load())

		assert.Equal(t, int64(1), timeout.Abandoned(), "the abandoned work is counted while it runs")
		assert.Equal(t, int64(1), g.Value())

		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Zero(t, timeout.Abandoned(), "and uncounted when it returns")
		assert.Zero(t, g.Value())
	})
}

func TestAbandon_deadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		deadline := time.Now().Add(time.Second)
		_, err := timeout.WithDeadline[string](deadline, timeout.Abandon())(ignoring(time.Hour, "late", nil))(t.Context())
		assert.Equal(t, deadline, time.Now())
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, deadline, te.Deadline)
		assert.Equal(t, int64(1), timeout.Abandoned())
		time.Sleep(time.Hour) // let the abandoned work end inside the bubble
	})
	assert.Zero(t, timeout.Abandoned())
}

func TestAbandon_fastFnGetsResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := new(gauge)
		start := time.Now()
		v, err := timeout.WithTimeout[string](time.Second, timeout.Abandon(), timeout.Track(g))(
			ignoring(100*time.Millisecond, "ok", nil))(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "ok", v)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		synctest.Wait()
		assert.Zero(t, g.Value())
		assert.Zero(t, timeout.Abandoned())
	})
}

func TestAbandon_fnErrorPassesThrough(t *testing.T) {
	boom := errors.New("boom")
	v, err := timeout.WithTimeout[int](time.Hour, timeout.Abandon())(func(context.Context) (int, error) {
		return 7, boom
	})(t.Context())
	assert.Equal(t, 7, v)
	assert.Same(t, boom, err)
}

func TestAbandon_runsInAnotherGoroutineWithDerivedContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type key struct{}
		ctx := context.WithValue(t.Context(), key{}, "v")
		start := time.Now()
		var inner context.Context
		v, err := timeout.WithTimeout[any](time.Minute, timeout.Abandon())(func(ctx context.Context) (any, error) {
			inner = ctx
			return ctx.Value(key{}), nil
		})(ctx)
		require.NoError(t, err)
		assert.Equal(t, "v", v)
		d, ok := inner.Deadline()
		assert.True(t, ok)
		assert.Equal(t, start.Add(time.Minute), d)
		assert.ErrorIs(t, inner.Err(), context.Canceled, "the context is released when fn returns")
	})
}

func TestAbandon_callerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := new(gauge)
		parent, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)

		start := time.Now()
		_, err := timeout.WithTimeout[string](time.Hour, timeout.Abandon(), timeout.Track(g))(
			ignoring(2*time.Hour, "late", nil))(parent)
		assert.Equal(t, time.Second, time.Since(start), "the call returns when the caller cancels")
		assert.Same(t, context.Canceled, err, "the caller's error, unchanged")
		var te *timeout.Error
		assert.NotErrorAs(t, err, &te)
		assert.Equal(t, int64(1), g.Value())
		assert.Equal(t, int64(1), timeout.Abandoned())

		time.Sleep(2 * time.Hour)
		synctest.Wait()
		assert.Zero(t, g.Value())
		assert.Zero(t, timeout.Abandoned())
	})
}

func TestAbandon_parentDeadlineShorterPassesThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := timeout.WithTimeout[string](time.Hour, timeout.Abandon())(ignoring(2*time.Hour, "late", nil))(parent)
		assert.Equal(t, context.DeadlineExceeded, err)
		var te *timeout.Error
		assert.NotErrorAs(t, err, &te)
		assert.Equal(t, resilience.OutcomeDeadline, resilience.Classify(parent, err))
		time.Sleep(2 * time.Hour)
	})
}

func TestAbandon_fnRespectingContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// When the limit fires, the caller and fn (which returns at once)
		// race; either way the caller gets an *Error and nothing is left
		// counted.
		_, err := timeout.WithTimeout[string](time.Second, timeout.Abandon())(waitFor(time.Hour, "late"))(t.Context())
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, context.DeadlineExceeded, te.Err)
		synctest.Wait()
		assert.Zero(t, timeout.Abandoned())
	})
}

func TestAbandon_panicReraisedInCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type custom struct{ n int }
		call := timeout.WithTimeout[int](time.Second, timeout.Abandon())(func(context.Context) (int, error) {
			time.Sleep(10 * time.Millisecond)
			panic(custom{42})
		})
		assert.PanicsWithValue(t, custom{42}, func() { _, _ = call(t.Context()) },
			"the original value, in the caller's goroutine")
		synctest.Wait()
		assert.Zero(t, timeout.Abandoned())
	})
}

func TestAbandon_goexitEndsCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		call := timeout.WithTimeout[int](time.Second, timeout.Abandon())(func(context.Context) (int, error) {
			runtime.Goexit()
			return 1, nil
		})
		var returned, exited atomic.Bool
		go func() {
			defer exited.Store(true)
			_, _ = call(t.Context())
			returned.Store(true)
		}()
		synctest.Wait()
		assert.True(t, exited.Load())
		assert.False(t, returned.Load(), "runtime.Goexit in fn ends the caller's goroutine, as without the policy")
	})
}

// TestAbandon_panicAfterAbandonmentCrashes checks what Abandon documents:
// a panic in fn after the caller left is re-raised in fn's goroutine and
// crashes the program. It runs that in a child process.
func TestAbandon_panicAfterAbandonmentCrashes(t *testing.T) {
	const env = "STEADY_TIMEOUT_TEST_CRASH"
	if os.Getenv(env) == "1" {
		release := make(chan struct{})
		call := timeout.WithTimeout[int](time.Millisecond, timeout.Abandon())(func(context.Context) (int, error) {
			<-release
			panic("boom after abandonment")
		})
		_, err := call(context.Background())
		if !errors.Is(err, context.DeadlineExceeded) {
			os.Exit(3)
		}
		close(release)
		time.Sleep(time.Minute) // the panic ends the process long before
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAbandon_panicAfterAbandonmentCrashes$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child must crash; output:\n%s", out)
	assert.Equal(t, 2, exit.ExitCode(), "exit code of an unrecovered panic; output:\n%s", out)
	assert.Contains(t, string(out), "panic: boom after abandonment")
}

func TestAbandon_manyAbandonedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := new(gauge)
		release := make(chan struct{})
		call := timeout.WithTimeout[int](time.Second, timeout.Abandon(), timeout.Track(g))(func(context.Context) (int, error) {
			<-release
			return 1, nil
		})
		for range 5 {
			_, err := call(t.Context())
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		assert.Equal(t, int64(5), g.Value())
		assert.Equal(t, int64(5), timeout.Abandoned())
		close(release)
		synctest.Wait()
		assert.Zero(t, g.Value())
		assert.Zero(t, timeout.Abandoned())
	})
}
