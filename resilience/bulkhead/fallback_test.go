package bulkhead_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/timeout"
)

// fallbackRecorder is a fallback function that records the errors it saw
// and answers "cached".
type fallbackRecorder struct{ seen []error }

func (r *fallbackRecorder) fn(_ context.Context, err error) (string, error) {
	r.seen = append(r.seen, err)
	return "cached", nil
}

// fn sees next's error itself, and its answer is the call's.
func TestFallback_seesOriginalError(t *testing.T) {
	var rec fallbackRecorder
	wrapped := &wrapError{errDown}
	f := bulkhead.Fallback(rec.fn)(func(context.Context) (string, error) { return "partial", wrapped })
	v, err := f(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "cached", v)
	require.Len(t, rec.seen, 1)
	assert.Same(t, error(wrapped), rec.seen[0], "the very error next returned")
}

type wrapError struct{ err error }

func (e *wrapError) Error() string { return "wrapped: " + e.err.Error() }
func (e *wrapError) Unwrap() error { return e.err }

// fn's error is the call's error, and may wrap next's.
func TestFallback_errorOfFallback(t *testing.T) {
	f := bulkhead.Fallback(func(_ context.Context, err error) (int, error) {
		return -1, errors.Join(errors.New("no cache either"), err)
	})(func(context.Context) (int, error) { return 0, errDown })
	v, err := f(t.Context())
	assert.Equal(t, -1, v)
	assert.ErrorIs(t, err, errDown)
	assert.ErrorContains(t, err, "no cache either")
}

// A success is not passed to fn.
func TestFallback_notOnSuccess(t *testing.T) {
	var rec fallbackRecorder
	v, err := bulkhead.Fallback(rec.fn)(func(context.Context) (string, error) { return "fresh", nil })(t.Context())
	assert.NoError(t, err)
	assert.Equal(t, "fresh", v)
	assert.Empty(t, rec.seen)
}

// Rejections get the fallback: a full bulkhead, an open breaker.
func TestFallback_onRejections(t *testing.T) {
	b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, b.Acquire(t.Context())) // the only slot is taken
	defer b.Release()
	cb, err := breaker.New(breaker.Settings{ConsecutiveFailures: 1})
	require.NoError(t, err)
	defer cb.Reset()
	tk, err := cb.Allow()
	require.NoError(t, err)
	tk.Done(t.Context(), errDown) // opens it

	var rec fallbackRecorder
	fb := bulkhead.Fallback(rec.fn)
	ok := func(context.Context) (string, error) { return "fresh", nil }
	v, err := resilience.Compose(fb, bulkhead.Limit[string](b))(ok)(t.Context())
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
	v, err = resilience.Compose(fb, breaker.Breaker[string](cb))(ok)(t.Context())
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)

	require.Len(t, rec.seen, 2)
	assert.ErrorIs(t, rec.seen[0], bulkhead.ErrFull)
	assert.ErrorIs(t, rec.seen[1], breaker.ErrOpen)
}

// A timeout inside Fallback (the caller's context still live) gets the
// fallback; that is how to answer slow calls.
func TestFallback_onTimeoutInside(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec fallbackRecorder
		slow := func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() }
		f := resilience.Compose(bulkhead.Fallback(rec.fn), timeout.WithTimeout[string](100*time.Millisecond))(slow)
		v, err := f(t.Context())
		assert.NoError(t, err)
		assert.Equal(t, "cached", v)
		require.Len(t, rec.seen, 1)
		var te *timeout.Error
		assert.ErrorAs(t, rec.seen[0], &te)
	})
}

// The caller's own cancellation or deadline is not passed to fn: the
// caller gets its error unchanged.
func TestFallback_notForTheCallersOwnEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec fallbackRecorder
		f := bulkhead.Fallback(rec.fn)(func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		})

		ctx, cancel := context.WithCancel(t.Context())
		go cancel()
		_, err := f(ctx)
		assert.ErrorIs(t, err, context.Canceled)

		dctx, dcancel := context.WithTimeout(t.Context(), time.Second)
		defer dcancel()
		_, err = f(dctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)

		assert.Empty(t, rec.seen)
	})
}

// fn runs in the caller's goroutine, so a panic in it goes up the
// caller's stack; a panic in next is not caught either.
func TestFallback_panics(t *testing.T) {
	f := bulkhead.Fallback(func(context.Context, error) (int, error) { panic("fallback boom") })(
		func(context.Context) (int, error) { return 0, errDown })
	assert.PanicsWithValue(t, "fallback boom", func() { _, _ = f(t.Context()) })

	var rec fallbackRecorder
	g := bulkhead.Fallback(rec.fn)(func(context.Context) (string, error) { panic("next boom") })
	assert.PanicsWithValue(t, "next boom", func() { _, _ = g(t.Context()) })
	assert.Empty(t, rec.seen)
}
