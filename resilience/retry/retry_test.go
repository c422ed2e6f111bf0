package retry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
)

var errBoom = errors.New("boom")

// fast is a Config whose delays arm no timer, for tests about counts.
func fast(maxAttempts int) retry.Config {
	return retry.Config{MaxAttempts: maxAttempts, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond, Jitter: true}
}

func TestRetry_attemptCounts(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		failures    int
		wantCalls   int
		wantErr     bool
	}{
		{"succeeds at once", 3, 0, 1, false},
		{"fails once then succeeds", 3, 1, 2, false},
		{"fails twice then succeeds", 3, 2, 3, false},
		{"fails on every attempt", 3, 100, 3, true},
		{"one attempt means no retries", 1, 100, 1, true},
		{"default attempts", 0, 100, 3, true},
		{"many attempts", 10, 9, 10, false},
		{"many attempts, all failing", 10, 100, 10, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fast(tc.maxAttempts)
			f := failing(tc.failures, errBoom)
			v, err := retry.Retry[int](cfg)(f.call)(t.Context())
			assert.Equal(t, tc.wantCalls, f.calls)
			assert.Equal(t, tc.wantCalls, v, "the value of the last attempt comes back")
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			var re *retry.Error
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.wantCalls, re.Attempts)
			assert.Same(t, errBoom, re.Err)
			assert.ErrorIs(t, err, errBoom)
			assert.ErrorIs(t, err, retry.ErrExhausted)
			assert.Zero(t, re.NextDelay)
		})
	}
}

func TestRetry_badInput(t *testing.T) {
	f := failing(0, nil)
	p := retry.Retry[int](fast(3))

	// a nil context is the bad input under test
	_, err := p(f.call)(nil)
	assert.ErrorIs(t, err, resilience.ErrNilContext)
	assert.Zero(t, f.calls)

	assert.PanicsWithValue(t, resilience.ErrNilFunc, func() { p(nil) }, "a nil next panics when the policy is applied")
}

func TestRetry_classification(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCalls int // of 3 attempts, the function failing every time
	}{
		{"plain error", errBoom, 3},
		{"wrapped plain error", fmt.Errorf("get: %w", errBoom), 3},
		{"Permanent", retry.Permanent(errBoom), 1},
		{"Permanent wrapped", fmt.Errorf("get: %w", retry.Permanent(errBoom)), 1},
		{"RetryableError false", retry.RetryableError{Err: errBoom, Retryable: false}, 1},
		{"RetryableError true", retry.RetryableError{Err: errBoom, Retryable: true}, 3},
		{"*RetryableError false", &retry.RetryableError{Err: errBoom, Retryable: false}, 1},
		{"*RetryableError true", &retry.RetryableError{Err: errBoom, Retryable: true}, 3},
		{"RetryableError false wrapped", fmt.Errorf("get: %w", retry.RetryableError{Err: errBoom}), 1},
		{"*RetryableError false in a join", errors.Join(errBoom, &retry.RetryableError{Err: errBoom}), 1},
		{"typed nil *RetryableError", (*retry.RetryableError)(nil), 3},
		{"RetryableError true beats a Retryable() false inside it",
			retry.RetryableError{Err: &statusErr{code: 404}, Retryable: true}, 3},
		{"outermost mark wins: Permanent outside", retry.Permanent(retry.RetryableError{Err: errBoom, Retryable: true}), 1},
		{"outermost mark wins: RetryableError outside", retry.RetryableError{Err: retry.Permanent(errBoom), Retryable: true}, 3},
		{"Retryable() true", &statusErr{code: 503}, 3},
		{"Retryable() false", &statusErr{code: 404}, 1},
		{"Retryable() false wrapped", fmt.Errorf("get: %w", &statusErr{code: 400}), 1},
		{"outermost Retryable() wins", fmt.Errorf("%w", errors.Join(&statusErr{code: 429}, &statusErr{code: 404})), 3},
		{"inner timeout: DeadlineExceeded", fmt.Errorf("attempt: %w", context.DeadlineExceeded), 3},
		{"inner timeout: Timeout() true", fmt.Errorf("read: %w", netTimeout{}), 3},
		{"inner cancellation", fmt.Errorf("attempt: %w", context.Canceled), 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := failing(100, tc.err)
			_, err := retry.Retry[int](fast(3))(f.call)(t.Context())
			assert.Equal(t, tc.wantCalls, f.calls)
			var re *retry.Error
			if tc.wantCalls == 1 {
				assert.False(t, errors.As(err, &re), "a non-retryable error comes back as it is: %v", err)
				return
			}
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.wantCalls, re.Attempts)
			assert.ErrorIs(t, err, retry.ErrExhausted)
		})
	}
}

func TestRetry_permanentComesBackUnmarked(t *testing.T) {
	f := failing(1, retry.Permanent(errBoom))
	_, err := retry.Retry[int](fast(3))(f.call)(t.Context())
	assert.Same(t, errBoom, err, "the original error, without the mark")
}

func TestRetry_notRetryableAfterRetriesComesBackAsIs(t *testing.T) {
	notFound := &statusErr{code: 404}
	calls := 0
	_, err := retry.Retry[int](fast(3))(func(context.Context) (int, error) {
		calls++
		if calls == 1 {
			return 0, &statusErr{code: 503}
		}
		return 0, notFound
	})(t.Context())
	assert.Equal(t, 2, calls)
	assert.Same(t, notFound, err, "only giving up on a retryable error makes a *retry.Error")
}

func TestRetry_ShouldRetry(t *testing.T) {
	var asked []error
	notFound := &statusErr{code: 404}
	cfg := fast(3)
	cfg.ShouldRetry = func(err error) bool {
		asked = append(asked, err)
		return errors.Is(err, notFound) // the opposite of the default
	}

	t.Run("replaces the default", func(t *testing.T) {
		asked = nil
		f := failing(100, notFound)
		_, err := retry.Retry[int](cfg)(f.call)(t.Context())
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.Equal(t, 3, f.calls)
		assert.Equal(t, []error{notFound, notFound, notFound}, asked)

		asked = nil
		f = failing(100, errBoom)
		_, err = retry.Retry[int](cfg)(f.call)(t.Context())
		assert.NotErrorIs(t, err, retry.ErrExhausted)
		assert.Equal(t, 1, f.calls)
		assert.Equal(t, []error{errBoom}, asked)
	})
	t.Run("not asked about marks", func(t *testing.T) {
		asked = nil
		f := failing(100, retry.Permanent(notFound))
		_, _ = retry.Retry[int](cfg)(f.call)(t.Context())
		assert.Equal(t, 1, f.calls)

		f = failing(100, retry.RetryableError{Err: errBoom, Retryable: true})
		_, _ = retry.Retry[int](cfg)(f.call)(t.Context())
		assert.Equal(t, 3, f.calls)
		assert.Empty(t, asked)
	})
	t.Run("not asked about the caller's cancellation", func(t *testing.T) {
		asked = nil
		ctx, cancel := context.WithCancel(t.Context())
		_, err := retry.Retry[int](cfg)(func(ctx context.Context) (int, error) {
			cancel()
			return 0, notFound
		})(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, asked)
	})
	t.Run("can extend the default with IsRetryable", func(t *testing.T) {
		cfg := fast(3)
		cfg.ShouldRetry = func(err error) bool { return !errors.Is(err, errBoom) && retry.IsRetryable(err) }
		for _, tc := range []struct {
			err  error
			want int
		}{{errBoom, 1}, {notFound, 1}, {&statusErr{code: 502}, 3}} {
			f := failing(100, tc.err)
			_, _ = retry.Retry[int](cfg)(f.call)(t.Context())
			assert.Equal(t, tc.want, f.calls, tc.err)
		}
	})
}

func TestRetry_callerCancelDuringAttempt(t *testing.T) {
	tests := []struct {
		name    string
		attempt func(ctx context.Context) error // after the caller canceled
		wantMsg string                          // "" = the attempt's error itself
	}{
		{"attempt returns ctx.Err()", func(ctx context.Context) error { return ctx.Err() }, ""},
		{"attempt wraps ctx.Err()", func(ctx context.Context) error { return fmt.Errorf("get: %w", ctx.Err()) }, ""},
		{"attempt returns another error", func(context.Context) error { return errBoom },
			"retry: context canceled after 2 attempts: boom"},
		{"attempt returns a retryable mark", func(context.Context) error {
			return retry.RetryableError{Err: errBoom, Retryable: true}
		}, "retry: context canceled after 2 attempts: boom"},
		{"attempt returns a permanent error", func(context.Context) error { return retry.Permanent(errBoom) },
			"retry: context canceled after 2 attempts: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var calls int
			var last error
			_, err := retry.Retry[int](fast(5))(func(ctx context.Context) (int, error) {
				calls++
				if calls == 2 {
					cancel()
					last = tc.attempt(ctx)
					return 0, last
				}
				return 0, errBoom
			})(ctx)
			assert.Equal(t, 2, calls, "the caller's cancellation is never retried")
			require.ErrorIs(t, err, context.Canceled)
			if !errors.Is(last, context.Canceled) {
				assert.ErrorIs(t, err, errBoom, "the last error stays reachable")
			}
			var re *retry.Error
			assert.False(t, errors.As(err, &re), "the caller's cancellation is not a give-up")
			if tc.wantMsg == "" {
				assert.Same(t, last, err)
			} else {
				assert.EqualError(t, err, tc.wantMsg)
			}
		})
	}
}

func TestRetry_callerCancelDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(time.Second, cancel)

		cfg := retry.Config{MaxAttempts: 3, BaseDelay: time.Hour, MaxDelay: time.Hour}
		f := failing(100, errBoom)
		start := time.Now()
		v, err := retry.Retry[int](cfg)(f.call)(ctx)

		assert.Equal(t, time.Second, time.Since(start), "returns when canceled, not after the 1h delay")
		assert.Equal(t, 1, f.calls)
		assert.Equal(t, 1, v)
		require.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errBoom)
	})
}

func TestRetry_callerDeadlineDuringAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var calls int
		_, err := retry.Retry[int](fast(5))(func(ctx context.Context) (int, error) {
			calls++
			<-ctx.Done()
			return 0, ctx.Err()
		})(ctx)
		assert.Equal(t, 1, calls, "the caller's deadline is never retried")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		var re *retry.Error
		assert.False(t, errors.As(err, &re))
	})
}

func TestRetry_neverSleepsPastTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()

		var retries []time.Duration
		cfg := retry.Config{
			MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: time.Minute, Multiplier: 10,
			OnRetry: func(_ int, _ error, d time.Duration) { retries = append(retries, d) },
		}
		f := failing(100, errBoom)
		start := time.Now()
		v, err := retry.Retry[int](cfg)(f.call)(ctx)

		// Attempt 2 fails at 1s; the next delay, 10s, would end at 11s,
		// past the 10s deadline: Retry stops there and then.
		assert.Equal(t, time.Second, time.Since(start), "no sleep that cannot end in time")
		assert.Equal(t, 2, f.calls, "no attempt that has no time left")
		assert.Equal(t, 2, v)
		assert.Equal(t, []time.Duration{time.Second}, retries, "OnRetry only before real waits")
		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 2, re.Attempts)
		assert.Equal(t, 10*time.Second, re.NextDelay)
		assert.ErrorIs(t, err, errBoom)
		assert.NotErrorIs(t, err, retry.ErrExhausted)
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "the deadline has not passed yet")
		assert.NoError(t, ctx.Err())
	})
}

// A delay that ends exactly at the deadline is of no use either: the
// context is done by the time the next attempt could start.
func TestRetry_delayReachingTheDeadlineStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		cfg := retry.Config{MaxAttempts: 5, BaseDelay: time.Second}
		f := failing(100, errBoom)
		_, err := retry.Retry[int](cfg)(f.call)(ctx)
		// Waits 1s; then 2s would reach 3s exactly.
		assert.Equal(t, 2, f.calls)
		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 2*time.Second, re.NextDelay)
	})
}

// lateContext is a context whose deadline has passed but whose Done channel
// has not been closed yet, as happens for a moment with any context: the
// timer that closes it has not run.
type lateContext struct{ context.Context }

func (lateContext) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestRetry_deadlinePassedBeforeContextNoticed(t *testing.T) {
	f := failing(100, errBoom)
	_, err := retry.Retry[int](fast(3))(f.call)(lateContext{t.Context()})
	assert.Equal(t, 1, f.calls)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the caller's deadline, reported as such")
	assert.ErrorIs(t, err, errBoom)
	var re *retry.Error
	assert.False(t, errors.As(err, &re))
}

func TestRetry_delaysGrowAndAreCapped(t *testing.T) {
	base, maxDelay := 100*time.Millisecond, time.Second
	// Un-jittered delays before retries 1..7.
	want := []time.Duration{
		100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond,
		time.Second, time.Second, time.Second, time.Second,
	}
	t.Run("without jitter", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := failing(100, errBoom)
			cfg := retry.Config{MaxAttempts: 8, BaseDelay: base, MaxDelay: maxDelay, Multiplier: 3}
			_, err := retry.Retry[int](cfg)(f.call)(context.Background())
			require.ErrorIs(t, err, retry.ErrExhausted)
			assert.Equal(t, want, f.gaps())
		})
	})
	t.Run("with jitter", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			distinct := map[time.Duration]bool{}
			for range 20 {
				f := failing(100, errBoom)
				cfg := retry.Config{MaxAttempts: 8, BaseDelay: base, MaxDelay: maxDelay, Multiplier: 3, Jitter: true}
				_, err := retry.Retry[int](cfg)(f.call)(context.Background())
				require.ErrorIs(t, err, retry.ErrExhausted)
				gaps := f.gaps()
				require.Len(t, gaps, len(want))
				for i, d := range gaps {
					assert.GreaterOrEqual(t, d, want[i]/2, "retry %d", i+1)
					assert.LessOrEqual(t, d, min(want[i]*3/2, maxDelay), "retry %d", i+1)
					distinct[d] = true
				}
			}
			assert.Greater(t, len(distinct), 10, "jitter varies the delays")
		})
	})
}

func TestRetry_RetryAfter(t *testing.T) {
	tests := []struct {
		name          string
		after         time.Duration
		maxRetryAfter time.Duration
		want          time.Duration
	}{
		{"honoured", 5 * time.Second, 0, 5 * time.Second},
		{"shorter than the backoff", time.Millisecond, 0, time.Millisecond},
		{"capped by MaxRetryAfter", time.Hour, 10 * time.Second, 10 * time.Second},
		{"capped by MaxDelay by default", time.Hour, 0, time.Minute},
		{"MaxRetryAfter may exceed MaxDelay", time.Hour, 2 * time.Minute, 2 * time.Minute},
		{"zero: the computed delay", 0, 0, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := retry.Config{BaseDelay: 2 * time.Second, MaxDelay: time.Minute, MaxRetryAfter: tc.maxRetryAfter}
				var told []time.Duration
				cfg.OnRetry = func(_ int, _ error, d time.Duration) { told = append(told, d) }
				f := failing(1, fmt.Errorf("get: %w", &statusErr{code: 503, after: tc.after}))
				_, err := retry.Retry[int](cfg)(f.call)(context.Background())
				require.NoError(t, err)
				assert.Equal(t, []time.Duration{tc.want}, f.gaps())
				assert.Equal(t, []time.Duration{tc.want}, told)
			})
		})
	}
}

// A Retry-After that would pass the deadline stops at once, like any delay.
func TestRetry_RetryAfterPastTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		f := failing(1, &statusErr{code: 429, after: 20 * time.Second})
		_, err := retry.Retry[int](retry.Config{MaxRetryAfter: time.Minute})(f.call)(ctx)
		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 20*time.Second, re.NextDelay)
		assert.Equal(t, 1, f.calls)
	})
}

func TestRetry_OnRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type call struct {
			attempt int
			err     error
			delay   time.Duration
			at      time.Duration
		}
		var calls []call
		start := time.Now()
		errs := []error{errors.New("first"), errors.New("second"), errors.New("third")}
		cfg := retry.Config{
			MaxAttempts: 5, BaseDelay: time.Second,
			OnRetry: func(attempt int, err error, delay time.Duration) {
				calls = append(calls, call{attempt, err, delay, time.Since(start)})
			},
		}
		f := &flaky{errs: errs}
		v, err := retry.Retry[int](cfg)(f.call)(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 4, v)
		assert.Equal(t, []call{
			{1, errs[0], time.Second, 0},
			{2, errs[1], 2 * time.Second, time.Second},
			{3, errs[2], 4 * time.Second, 3 * time.Second},
		}, calls, "called before each wait, in order, with the delay waited")
		assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, f.gaps())

		// Not called when Retry gives up instead of waiting.
		calls = nil
		f = failing(100, errBoom)
		cfg.MaxAttempts = 2
		_, err = retry.Retry[int](cfg)(f.call)(context.Background())
		require.ErrorIs(t, err, retry.ErrExhausted)
		assert.Len(t, calls, 1)
	})
}

// Sub-microsecond delays arm no timer, but a canceled context still stops
// the retries between attempts.
func TestRetry_cancelBetweenAttemptsWithoutDelay(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cfg := fast(5)
	cfg.OnRetry = func(int, error, time.Duration) { cancel() }
	f := failing(100, errBoom)
	_, err := retry.Retry[int](cfg)(f.call)(ctx)
	assert.Equal(t, 1, f.calls)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, errBoom)
}

func TestRetry_concurrentUse(t *testing.T) {
	// One Func shared by many goroutines; each call fails twice, then
	// succeeds. The per-call counter travels in the context.
	type key struct{}
	var total atomic.Int64
	call := retry.Retry[int](fast(3))(func(ctx context.Context) (int, error) {
		total.Add(1)
		n := ctx.Value(key{}).(*int)
		*n++
		if *n < 3 {
			return 0, errBoom
		}
		return *n, nil
	})
	var wg sync.WaitGroup
	const goroutines, calls = 8, 200
	for range goroutines {
		wg.Go(func() {
			for range calls {
				n := 0
				v, err := call(context.WithValue(context.Background(), key{}, &n))
				if err != nil || v != 3 {
					t.Errorf("got %d, %v; want 3, nil", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(goroutines*calls*3), total.Load())
}

// Concurrent calls that wait on timers, under synctest: each call has its
// own timer and backoff.
func TestRetry_concurrentWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		call := retry.Retry[int](retry.Config{MaxAttempts: 4, BaseDelay: time.Second, Jitter: true})
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				f := failing(3, errBoom)
				v, err := call(f.call)(context.Background())
				assert.NoError(t, err)
				assert.Equal(t, 4, v)
			})
		}
		wg.Wait()
	})
}

// A panic in the function passes through, with its value, from the attempt
// that raised it. (No timer can be left armed by it: an attempt runs only
// after the wait before it has ended.)
func TestRetry_panicPassesThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		call := retry.Retry[int](retry.Config{BaseDelay: time.Second})(func(context.Context) (int, error) {
			calls++
			if calls == 2 {
				panic("kaboom")
			}
			return 0, errBoom
		})
		start := time.Now()
		assert.PanicsWithValue(t, "kaboom", func() { _, _ = call(context.Background()) })
		assert.Equal(t, 2, calls, "the second attempt panicked; no third was made")
		assert.Equal(t, time.Second, time.Since(start), "after the one wait between them")
	})
}

// BaseDelay 0 is the 100ms default, not "no delay"; a nanosecond BaseDelay
// and MaxDelay, as the package doc recommends for immediate retries, arm
// no timer at all: in a bubble, not even a nanosecond of fake time passes.
func TestConfig_nanosecondDelaysRetryAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := failing(4, errBoom)
		start := time.Now()
		_, err := retry.Retry[int](retry.Config{MaxAttempts: 5, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond})(f.call)(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 5, f.calls)
		assert.Zero(t, time.Since(start), "no timer was armed")

		f = failing(2, errBoom)
		start = time.Now()
		_, err = retry.Retry[int](retry.Config{MaxAttempts: 3})(f.call)(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 300*time.Millisecond, time.Since(start), "BaseDelay 0: 100ms, then 200ms")
	})
}

// Retry composes with other policies like any Policy.
func TestRetry_composes(t *testing.T) {
	var outer int
	count := func(next resilience.Func[int]) resilience.Func[int] {
		return func(ctx context.Context) (int, error) { outer++; return next(ctx) }
	}
	f := failing(2, errBoom)
	v, err := resilience.Do(t.Context(), f.call, count, retry.Retry[int](fast(3)))
	require.NoError(t, err)
	assert.Equal(t, 3, v)
	assert.Equal(t, 1, outer, "the outer policy sees one logical call")
	assert.Equal(t, 3, f.calls)
}

func TestRetry_panickingOnRetryDoesNotChangeTheResult(t *testing.T) {
	var logged bytes.Buffer
	cfg := fast(3)
	cfg.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	hooks := 0
	cfg.OnRetry = func(int, error, time.Duration) { hooks++; panic("careless hook") }
	f := failing(2, errBoom)
	v, err := retry.Retry[int](cfg)(f.call)(t.Context())
	require.NoError(t, err, "the third attempt succeeds, as without the hook")
	assert.Equal(t, 3, f.calls)
	assert.Equal(t, 2, hooks, "the hook is still called before every wait")
	assert.Equal(t, 3, v)
	assert.Contains(t, logged.String(), "careless hook")
	assert.Contains(t, logged.String(), "retry: OnRetry")
}

func TestRetry_panickingShouldRetryEndsTheCallWithTheAttemptsError(t *testing.T) {
	var logged bytes.Buffer
	cfg := fast(3)
	cfg.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	cfg.ShouldRetry = func(error) bool { panic("careless classifier") }
	f := failing(2, errBoom)
	_, err := retry.Retry[int](cfg)(f.call)(t.Context())
	assert.Same(t, errBoom, err, "the attempt's own error, as for one that is not retried")
	assert.Equal(t, 1, f.calls)
	assert.Contains(t, logged.String(), "retry: ShouldRetry")
	assert.Contains(t, logged.String(), "careless classifier", "reported to Config.Logger")
}
