package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/retry"
)

func TestPermanent(t *testing.T) {
	assert.NoError(t, retry.Permanent(nil))

	pathErr := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
	err := retry.Permanent(pathErr)
	assert.EqualError(t, err, pathErr.Error(), "the mark keeps the message")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Same(t, pathErr, pe)

	assert.Equal(t, err, retry.Permanent(err), "marking twice is marking once")

	r, ok := err.(interface{ Retryable() bool })
	require.True(t, ok, "the mark speaks the Retryable() convention")
	assert.False(t, r.Retryable())
}

func TestRetryableError(t *testing.T) {
	for _, err := range []error{
		retry.RetryableError{Err: errBoom, Retryable: true},
		&retry.RetryableError{Err: errBoom},
	} {
		assert.EqualError(t, err, "boom")
		assert.ErrorIs(t, err, errBoom)
	}
	assert.EqualError(t, retry.RetryableError{}, "retry: RetryableError with nil Err")

	var re retry.RetryableError
	require.ErrorAs(t, fmt.Errorf("x: %w", retry.RetryableError{Err: errBoom}), &re)
	assert.False(t, re.Retryable)
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errBoom, true},
		{"inner timeout", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"Permanent", retry.Permanent(errBoom), false},
		{"Permanent wrapped", fmt.Errorf("x: %w", retry.Permanent(errBoom)), false},
		{"Permanent in a join", errors.Join(errBoom, retry.Permanent(errBoom)), false},
		{"RetryableError false", retry.RetryableError{Err: errBoom}, false},
		{"RetryableError true", retry.RetryableError{Err: errBoom, Retryable: true}, true},
		{"*RetryableError false", &retry.RetryableError{Err: errBoom}, false},
		{"*RetryableError true", &retry.RetryableError{Err: errBoom, Retryable: true}, true},
		{"RetryableError true around Retryable() false", retry.RetryableError{Err: &statusErr{code: 404}, Retryable: true}, true},
		{"Retryable() false around RetryableError true", fmt.Errorf("%w: %w", &statusErr{code: 404},
			retry.RetryableError{Err: errBoom, Retryable: true}), true},
		{"Retryable() true", &statusErr{code: 500}, true},
		{"Retryable() false", &statusErr{code: 404}, false},
		{"Retryable() false, deep", fmt.Errorf("a: %w", fmt.Errorf("b: %w", &statusErr{code: 403})), false},
		{"first Retryable() decides", fmt.Errorf("%w / %w", &statusErr{code: 404}, &statusErr{code: 503}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, retry.IsRetryable(tc.err))
		})
	}
}
