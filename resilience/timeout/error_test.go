package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/resilience/timeout"
)

func TestError_message(t *testing.T) {
	deadline := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		err  *timeout.Error
		want string
	}{
		{"WithTimeout", &timeout.Error{Duration: 2 * time.Second, Err: context.DeadlineExceeded},
			"timeout after 2s: context deadline exceeded"},
		{"WithTimeout, fn's own error", &timeout.Error{Duration: 150 * time.Millisecond, Err: errors.New("read: connection reset")},
			"timeout after 150ms: read: connection reset"},
		{"WithDeadline", &timeout.Error{Deadline: deadline, Err: context.DeadlineExceeded},
			"deadline 2026-11-23T10:00:00Z exceeded: context deadline exceeded"},
		{"WithDeadline, sub-second, other zone", &timeout.Error{Deadline: deadline.Add(1500 * time.Millisecond).In(time.FixedZone("", 3600)), Err: context.DeadlineExceeded},
			"deadline 2026-11-23T11:00:01.5+01:00 exceeded: context deadline exceeded"},
		{"zero value", &timeout.Error{}, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, tc.err, tc.want)
		})
	}
}

func TestError_isDeadlineExceededWhateverItWraps(t *testing.T) {
	inner := errors.New("boom")
	err := fmt.Errorf("fetch: %w", &timeout.Error{Duration: time.Second, Err: inner})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, inner)
	assert.NotErrorIs(t, err, context.Canceled)

	var te *timeout.Error
	if assert.ErrorAs(t, err, &te) {
		assert.Same(t, inner, te.Unwrap())
		assert.True(t, te.Timeout())
		assert.True(t, te.Temporary())
	}
}
