package attempt_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/internal/attempt"
)

// The tests share the process-wide switch; each test that needs marking
// turns it on (it never goes off), and none relies on it being off.

func TestLater(t *testing.T) {
	attempt.Enable()
	ctx := context.Background()
	assert.False(t, attempt.Excluded(ctx))
	later := attempt.Later(ctx)
	assert.True(t, attempt.Excluded(later))
	assert.Same(t, later, attempt.Later(later), "an already marked context is not wrapped again")
}

func TestWith_setLater(t *testing.T) {
	attempt.Enable()
	ctx, m := attempt.With(context.Background())
	assert.False(t, attempt.Excluded(ctx), "a clear Mark teaches")
	m.Set()
	assert.True(t, attempt.Excluded(ctx), "a Mark set after the start counts")
}

func TestWith_keepsLaterMark(t *testing.T) {
	attempt.Enable()
	later := attempt.Later(context.Background())
	ctx, m := attempt.With(later)
	assert.Same(t, later, ctx)
	assert.True(t, attempt.Excluded(ctx), "a hedge inside a retry's later attempt still teaches nothing")
	m.Set() // harmless
	assert.True(t, attempt.Excluded(ctx))
}

func TestExcluded_innerClearMarkUnderRetry(t *testing.T) {
	attempt.Enable()
	// A retry inside a hedged attempt: the retry's mark is found first.
	hctx, _ := attempt.With(context.Background())
	assert.True(t, attempt.Excluded(attempt.Later(hctx)))
}
