package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

func TestWithTimeout_slowFnGetsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cause error
		slow := func(ctx context.Context) (string, error) {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return "", ctx.Err()
		}
		start := time.Now()
		v, err := timeout.WithTimeout[string](2 * time.Second)(slow)(t.Context())

		assert.Equal(t, 2*time.Second, time.Since(start), "the call ends at the limit")
		assert.Empty(t, v)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 2*time.Second, te.Duration)
		assert.True(t, te.Deadline.IsZero())
		assert.True(t, te.Timeout())
		assert.Equal(t, context.DeadlineExceeded, errors.Unwrap(err), "Unwrap returns what fn returned")
		assert.True(t, resilience.IsTimeout(err))

		var ne net.Error
		require.ErrorAs(t, err, &ne, "a *timeout.Error is a net.Error")
		assert.True(t, ne.Timeout())

		// Inside fn, the cause is a deadline, and no *Error: a shared
		// *Error could be changed by one caller under another.
		assert.ErrorIs(t, cause, context.DeadlineExceeded)
		assert.True(t, resilience.IsTimeout(cause))
		assert.NotErrorAs(t, cause, new(*timeout.Error))
	})
}

func TestWithTimeout_fastFnGetsResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var deadline time.Time
		fn := func(ctx context.Context) (string, error) {
			deadline, _ = ctx.Deadline()
			return waitFor(time.Second, "ok")(ctx)
		}
		start := time.Now()
		v, err := timeout.WithTimeout[string](2 * time.Second)(fn)(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "ok", v)
		assert.Equal(t, start.Add(2*time.Second), deadline, "fn sees the limit as its deadline")
	})
}

func TestWithTimeout_fnErrorBeforeLimitPassesThrough(t *testing.T) {
	boom := errors.New("boom")
	v, err := timeout.WithTimeout[int](time.Hour)(func(context.Context) (int, error) {
		return 7, boom
	})(t.Context())
	assert.Equal(t, 7, v, "the value returned with an error is kept")
	assert.Same(t, boom, err)
}

func TestWithTimeout_lateSuccessIsKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// fn ignores its context and succeeds after the limit: cooperative
		// mode waits for it and returns its result.
		v, err := timeout.WithTimeout[string](time.Second)(ignoring(3*time.Second, "late", nil))(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "late", v)
	})
}

func TestWithTimeout_otherErrorAfterLimitIsWrapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ioErr := errors.New("read: connection reset")
		fn := func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "partial", ioErr // not ctx.Err(): what real I/O often returns
		}
		v, err := timeout.WithTimeout[string](time.Second)(fn)(t.Context())
		assert.Equal(t, "partial", v)
		require.ErrorIs(t, err, ioErr)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Same(t, ioErr, te.Err)
	})
}

func TestWithTimeout_fnReturningCauseIsNotDoubled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fn := func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", context.Cause(ctx)
		}
		_, err := timeout.WithTimeout[string](time.Second)(fn)(t.Context())
		assert.EqualError(t, err, "timeout after 1s: context deadline exceeded")
	})
}

func TestWithTimeout_parentDeadlineShorterPassesThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := timeout.WithTimeout[string](time.Hour)(waitFor(2*time.Hour, "late"))(parent)

		assert.Equal(t, time.Second, time.Since(start))
		assert.Equal(t, context.DeadlineExceeded, err, "the parent's error, unchanged")
		var te *timeout.Error
		assert.NotErrorAs(t, err, &te)
		assert.Equal(t, resilience.OutcomeDeadline, resilience.Classify(parent, err))
	})
}

func TestWithTimeout_callerCancelPassesThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		_, err := timeout.WithTimeout[string](time.Hour)(waitFor(2*time.Hour, "late"))(parent)

		assert.Same(t, context.Canceled, err)
		var te *timeout.Error
		assert.NotErrorAs(t, err, &te)
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, resilience.OutcomeCanceled, resilience.Classify(parent, err))
	})
}

func TestWithTimeout_passesContextValues(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "v")
	v, err := timeout.WithTimeout[any](time.Hour)(func(ctx context.Context) (any, error) {
		return ctx.Value(key{}), nil
	})(ctx)
	require.NoError(t, err)
	assert.Equal(t, "v", v)
}

func TestWithTimeout_contextCanceledAfterCall(t *testing.T) {
	var inner context.Context
	_, err := timeout.WithTimeout[int](time.Hour)(func(ctx context.Context) (int, error) {
		inner = ctx
		return 0, nil
	})(t.Context())
	require.NoError(t, err)
	assert.ErrorIs(t, inner.Err(), context.Canceled, "the derived context is released when the call returns")
}

func TestWithTimeout_panicPropagates(t *testing.T) {
	var inner context.Context
	call := timeout.WithTimeout[int](time.Hour)(func(ctx context.Context) (int, error) {
		inner = ctx
		panic("boom")
	})
	assert.PanicsWithValue(t, "boom", func() { _, _ = call(t.Context()) })
	assert.ErrorIs(t, inner.Err(), context.Canceled, "the context is released even on panic")
}

func TestWithDeadline_fires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		_, err := timeout.WithDeadline[string](deadline)(waitFor(time.Hour, "late"))(t.Context())

		assert.Equal(t, deadline, time.Now())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, deadline, te.Deadline)
		assert.Zero(t, te.Duration)
	})
}

func TestWithDeadline_sameDeadlineForEveryCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		var got []time.Time
		call := timeout.WithDeadline[int](deadline)(func(ctx context.Context) (int, error) {
			d, _ := ctx.Deadline()
			got = append(got, d)
			return 0, nil
		})
		_, _ = call(t.Context())
		time.Sleep(2 * time.Second)
		_, _ = call(t.Context())
		assert.Equal(t, []time.Time{deadline, deadline}, got)
	})
}

func TestWithDeadline_pastDeadlineDoesNotCallFn(t *testing.T) {
	for _, name := range []string{"cooperative", "abandon"} {
		t.Run(name, func(t *testing.T) {
			var opts []timeout.Option
			if name == "abandon" {
				opts = append(opts, timeout.Abandon())
			}
			var calls atomic.Int64
			deadline := time.Now().Add(-time.Second)
			call := timeout.WithDeadline[string](deadline, opts...)(ignoring(0, "ran", &calls))

			v, err := call(t.Context())
			assert.Empty(t, v)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			var te *timeout.Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, deadline, te.Deadline)
			assert.Zero(t, calls.Load(), "fn must not be called")
		})
	}
}

func TestWithDeadline_parentDeadlineShorterPassesThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := timeout.WithDeadline[string](time.Now().Add(time.Hour))(waitFor(2*time.Hour, "late"))(parent)
		assert.Equal(t, context.DeadlineExceeded, err)
	})
}

func TestNested(t *testing.T) {
	slow := waitFor(time.Hour, "late")

	t.Run("inner shorter", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			call := resilience.Compose(
				timeout.WithTimeout[string](10*time.Second),
				timeout.WithTimeout[string](time.Second),
			)(slow)
			start := time.Now()
			_, err := call(t.Context())
			assert.Equal(t, time.Second, time.Since(start))
			var te *timeout.Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, time.Second, te.Duration, "the inner limit fired")
			assert.Equal(t, context.DeadlineExceeded, te.Err, "the outer passed the inner's *Error through unchanged")
		})
	})

	t.Run("outer shorter", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var innerErr error
			observe := func(next resilience.Func[string]) resilience.Func[string] {
				return func(ctx context.Context) (string, error) {
					v, err := next(ctx)
					innerErr = err
					return v, err
				}
			}
			call := resilience.Compose(
				timeout.WithTimeout[string](time.Second),
				observe,
				timeout.WithTimeout[string](10*time.Second),
			)(slow)
			start := time.Now()
			_, err := call(t.Context())
			assert.Equal(t, time.Second, time.Since(start))

			var te *timeout.Error
			assert.NotErrorAs(t, innerErr, &te, "the inner saw its parent's deadline: not its own limit")
			assert.Equal(t, context.DeadlineExceeded, innerErr)
			require.ErrorAs(t, err, &te)
			assert.Equal(t, time.Second, te.Duration, "the outer reports its own limit")
		})
	})

	t.Run("deadline inside timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			deadline := time.Now().Add(time.Second)
			call := resilience.Compose(
				timeout.WithTimeout[string](time.Minute),
				timeout.WithDeadline[string](deadline),
			)(slow)
			_, err := call(t.Context())
			var te *timeout.Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, deadline, te.Deadline)
		})
	})
}

func TestNilContext_isAnError(t *testing.T) {
	fn := func(context.Context) (int, error) { return 1, nil }
	for _, name := range []string{"cooperative", "abandon"} {
		t.Run(name, func(t *testing.T) {
			var opts []timeout.Option
			if name == "abandon" {
				opts = append(opts, timeout.Abandon())
			}
			policies := map[string]resilience.Policy[int]{
				"WithTimeout":  timeout.WithTimeout[int](time.Second, opts...),
				"WithDeadline": timeout.WithDeadline[int](time.Now().Add(time.Hour), opts...),
			}
			for pname, p := range policies {
				t.Run(pname, func(t *testing.T) {
					// a nil context is the bad input under test
					_, err := p(fn)(nil)
					assert.ErrorIs(t, err, resilience.ErrNilContext)
				})
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	for _, name := range []string{"cooperative", "abandon"} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var opts []timeout.Option
				if name == "abandon" {
					opts = append(opts, timeout.Abandon())
				}
				g := new(gauge)
				if name == "abandon" {
					opts = append(opts, timeout.Track(g))
				}
				// One policy, one Func, many goroutines; calls i%3==0 are
				// too slow and must time out, the others succeed.
				call := timeout.WithTimeout[int](time.Second, opts...)(func(ctx context.Context) (int, error) {
					n := ctx.Value(nKey{}).(int)
					d := 10 * time.Millisecond
					if n%3 == 0 {
						d = time.Hour
					}
					select {
					case <-time.After(d):
						return n, nil
					case <-ctx.Done():
						return 0, ctx.Err()
					}
				})
				var wg sync.WaitGroup
				for w := range 8 {
					wg.Go(func() {
						for i := range 30 {
							n := w*100 + i
							v, err := call(context.WithValue(t.Context(), nKey{}, n))
							if n%3 == 0 {
								assert.ErrorIs(t, err, context.DeadlineExceeded)
								var te *timeout.Error
								assert.ErrorAs(t, err, &te)
							} else if assert.NoError(t, err) {
								assert.Equal(t, n, v)
							}
						}
					})
				}
				wg.Wait()
				synctest.Wait()
				assert.Zero(t, g.Value())
				assert.Zero(t, timeout.Abandoned())
			})
		})
	}
}

type nKey struct{}

func TestError_retryableOnlyForDurations(t *testing.T) {
	deadline := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	assert.True(t, (&timeout.Error{Duration: time.Second}).Retryable(), "WithTimeout: the next attempt gets a fresh duration")
	assert.False(t, (&timeout.Error{Deadline: deadline}).Retryable(), "WithDeadline: a passed deadline stays passed")
	assert.False(t, (&timeout.Error{Deadline: deadline}).Rejected(), "an *Error built by hand is not a rejection")
	assert.True(t, retry.IsRetryable(&timeout.Error{Duration: time.Second, Err: context.DeadlineExceeded}))
	assert.False(t, retry.IsRetryable(fmt.Errorf("fetch: %w", &timeout.Error{Deadline: deadline, Err: context.DeadlineExceeded})))
}

// A WithDeadline limit cannot be met by trying again: retry stops at the
// first *Error instead of sleeping through attempts that are refused.
func TestWithDeadline_notRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		hang := func(ctx context.Context) (string, error) {
			calls.Add(1)
			<-ctx.Done()
			return "", ctx.Err()
		}
		deadline := time.Now().Add(50 * time.Millisecond)
		call := resilience.Compose(
			retry.Retry[string](retry.Config{MaxAttempts: 5}),
			timeout.WithDeadline[string](deadline),
		)(hang)

		start := time.Now()
		_, err := call(t.Context())
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "no sleeping through useless attempts")
		assert.Equal(t, int64(1), calls.Load())

		assert.NotErrorAs(t, err, new(*retry.Error), "not retryable: the *timeout.Error comes back as it is")
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, deadline, te.Deadline)
		assert.False(t, te.Rejected(), "fn was called: the limit fired during the call")
	})
}

// A WithTimeout limit is still retried: the next attempt may be faster.
func TestWithTimeout_retried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		fn := func(ctx context.Context) (string, error) {
			if calls.Add(1) == 1 {
				<-ctx.Done()
				return "", ctx.Err()
			}
			return "ok", nil
		}
		v, err := resilience.Compose(
			retry.Retry[string](retry.Config{MaxAttempts: 5}),
			timeout.WithTimeout[string](50*time.Millisecond),
		)(fn)(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "ok", v)
		assert.Equal(t, int64(2), calls.Load())
	})
}

// A call refused because the policy's own limit had already passed is
// marked Rejected, so that a breaker or monitor outside does not hold it
// against the dependency; a limit that fires during fn is a timeout.
func TestWithDeadline_pastDeadlineIsRejected(t *testing.T) {
	for _, mode := range []string{"cooperative", "abandon"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var opts []timeout.Option
				if mode == "abandon" {
					opts = append(opts, timeout.Abandon())
				}
				var calls atomic.Int64
				deadline := time.Now().Add(time.Second)
				call := timeout.WithDeadline[string](deadline, opts...)(func(ctx context.Context) (string, error) {
					calls.Add(1)
					<-ctx.Done()
					return "", ctx.Err()
				})

				// Before the deadline: fn is called and the limit fires.
				_, err := call(t.Context())
				var te *timeout.Error
				require.ErrorAs(t, err, &te)
				assert.False(t, te.Rejected())
				assert.Equal(t, resilience.OutcomeTimeout, resilience.Classify(t.Context(), err))
				assert.Equal(t, int64(1), calls.Load())

				// After it: refused, fn not called.
				_, err = call(t.Context())
				require.ErrorAs(t, err, &te)
				assert.True(t, te.Rejected())
				assert.False(t, te.Retryable())
				assert.Equal(t, deadline, te.Deadline)
				assert.Equal(t, context.DeadlineExceeded, te.Err)
				assert.True(t, resilience.IsRejected(err))
				assert.True(t, resilience.IsTimeout(err), "still a timeout for code that only asks that")
				assert.Equal(t, resilience.OutcomeRejected, resilience.Classify(t.Context(), err))
				assert.Equal(t, int64(1), calls.Load(), "fn must not be called")

				var te2 *timeout.Error
				_, err = call(t.Context())
				require.ErrorAs(t, err, &te2)
				assert.NotSame(t, te, te2, "each call gets its own *Error")
			})
		})
	}
}

// A WithTimeout so short that it expired before fn could be called refuses
// the call too. The real clock is used: in a synctest bubble time stands
// still until every goroutine blocks, so a 1ns limit never expires first.
func TestWithTimeout_expiredBeforeFnIsRejected(t *testing.T) {
	for _, mode := range []string{"cooperative", "abandon"} {
		t.Run(mode, func(t *testing.T) {
			var opts []timeout.Option
			if mode == "abandon" {
				opts = append(opts, timeout.Abandon())
			}
			var calls atomic.Int64
			call := timeout.WithTimeout[string](time.Nanosecond, opts...)(func(ctx context.Context) (string, error) {
				calls.Add(1)
				return "", errors.New("should not matter")
			})
			// Reading the clock twice takes more than 1ns, so the limit
			// has passed by the time the policy looks; a coarse clock
			// may need a few tries.
			const tries = 10000
			var te *timeout.Error
			i := 0
			for ; i < tries; i++ {
				_, err := call(t.Context())
				if errors.As(err, &te) && te.Rejected() {
					break
				}
			}
			require.Less(t, i, tries, "no call was refused")
			assert.Equal(t, time.Nanosecond, te.Duration)
			assert.True(t, te.Retryable(), "a WithTimeout limit stays retryable")
			assert.Equal(t, context.DeadlineExceeded, te.Err)
			assert.LessOrEqual(t, calls.Load(), int64(i), "the refused call did not call fn")
		})
	}
}

// fn is never started on a context that is already done: the caller's
// error is returned unchanged, and fn is not called, in both modes and
// whether or not the policy's own limit has passed too.
func TestPolicies_deadCallerContextDoesNotCallFn(t *testing.T) {
	canceled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	expired := func() context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Minute))
		cancel() // done already; cancel does not change its error
		return ctx
	}
	parents := map[string]func() context.Context{"canceled": canceled, "deadline passed": expired}
	policies := map[string]func(...timeout.Option) resilience.Policy[string]{
		"WithTimeout": func(o ...timeout.Option) resilience.Policy[string] {
			return timeout.WithTimeout[string](time.Hour, o...)
		},
		"WithDeadline": func(o ...timeout.Option) resilience.Policy[string] {
			return timeout.WithDeadline[string](time.Now().Add(time.Hour), o...)
		},
		"WithDeadline, past too": func(o ...timeout.Option) resilience.Policy[string] {
			return timeout.WithDeadline[string](time.Now().Add(-time.Second), o...)
		},
	}
	for _, mode := range []string{"cooperative", "abandon"} {
		for pname, policy := range policies {
			for cname, parent := range parents {
				t.Run(mode+"/"+pname+"/"+cname, func(t *testing.T) {
					// In a bubble, so that synctest.Wait lets a goroutine
					// that abandon mode may have started run to its end.
					synctest.Test(t, func(t *testing.T) {
						var opts []timeout.Option
						if mode == "abandon" {
							opts = append(opts, timeout.Abandon())
						}
						var calls atomic.Int64
						ctx := parent()
						require.Error(t, ctx.Err())
						v, err := policy(opts...)(ignoring(0, "ran", &calls))(ctx)
						synctest.Wait()
						assert.Empty(t, v)
						assert.Equal(t, ctx.Err(), err, "the caller's error, unchanged")
						var te *timeout.Error
						assert.NotErrorAs(t, err, &te)
						assert.Zero(t, calls.Load(), "fn must not be called on a dead context")
						assert.Zero(t, timeout.Abandoned())
					})
				})
			}
		}
	}
}
