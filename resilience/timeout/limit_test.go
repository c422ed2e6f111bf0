package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/timeout"
)

func TestLimit_errWrapsOnlyItsOwnExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := timeout.NewLimit(time.Second)

		ctx, cancel := l.Start(t.Context())
		<-ctx.Done()
		// What a library makes of the context's cause, e.g. net/http.
		inner := fmt.Errorf("read body: %w", context.Cause(ctx))
		err := l.Err(ctx, inner)
		cancel()
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, time.Second, te.Duration)
		assert.EqualError(t, err, "timeout after 1s: read body: context deadline exceeded",
			"the limit is said once")
		assert.Nil(t, l.Err(ctx, nil))

		parent, cancelParent := context.WithCancel(t.Context())
		ctx, cancel = l.Start(parent)
		cancelParent()
		err = l.Err(ctx, context.Canceled)
		cancel()
		assert.Same(t, context.Canceled, err, "the caller's cancellation passes through")
		assert.False(t, errors.As(err, &te))
	})
}
