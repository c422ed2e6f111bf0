package retry_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/resilience/retry"
)

// TestError_messages pins every message Retry's errors have.
func TestError_messages(t *testing.T) {
	last := errors.New("status 503")

	exhausted := &retry.Error{Attempts: 4, Err: last}
	assert.EqualError(t, exhausted, "retry: gave up after 4 attempts: status 503")
	assert.EqualError(t, &retry.Error{Attempts: 1, Err: last}, "retry: gave up after 1 attempt: status 503")
	assert.EqualError(t, &retry.Error{Attempts: 2}, "retry: gave up after 2 attempts: <nil>")
	assert.EqualError(t, retry.ErrExhausted, "retry: attempts exhausted")

	assert.EqualError(t, deadlineError(t, last), "retry: gave up after 2 attempts, next delay 3s would pass the deadline: status 503")

	// The caller's cancellation is not a *Error.
	ctx, cancel := contextCanceled(t)
	defer cancel()
	f := failing(100, last)
	_, err := retry.Retry[int](fast(3))(f.call)(ctx)
	assert.EqualError(t, err, "retry: context canceled after 1 attempt: status 503")
}

func TestError_unwrapAndIs(t *testing.T) {
	last := errors.New("last")
	err := error(&retry.Error{Attempts: 3, Err: last})
	assert.Same(t, last, errors.Unwrap(err))
	assert.ErrorIs(t, err, last)
	assert.ErrorIs(t, err, retry.ErrExhausted)

	err = deadlineError(t, last)
	assert.ErrorIs(t, err, last)
	assert.NotErrorIs(t, err, retry.ErrExhausted)
	var re *retry.Error
	assert.ErrorAs(t, err, &re)
	assert.Equal(t, 3*time.Second, re.NextDelay)
}
