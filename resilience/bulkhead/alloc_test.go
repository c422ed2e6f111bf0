//go:build !race

package bulkhead_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/bulkhead"
)

// Limit allocates nothing for a call that finds a free slot, nor for one
// it rejects; Fallback allocates nothing of its own.
func TestAllocs(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context) (int, error) { return 1, nil }

	t.Run("Limit, free slot", func(t *testing.T) {
		call := bulkhead.Limit[int](newBulkhead(t, bulkhead.Config{MaxConcurrent: 1}))(ok)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = call(ctx) }))
	})
	for name, c := range map[string]bulkhead.Config{
		"no queue":   {MaxConcurrent: 1},
		"queue full": {MaxConcurrent: 1, MaxQueue: 1},
	} {
		t.Run("Limit, rejected, "+name, func(t *testing.T) {
			b := newBulkhead(t, c)
			call := bulkhead.Limit[int](b)(ok)
			require.NoError(t, b.Acquire(ctx))
			if c.MaxQueue > 0 {
				queued := make(chan error)
				go func() { queued <- b.Acquire(ctx) }()
				for b.Snapshot().Queued == 0 {
					runtime.Gosched() // until the queue is full
				}
				defer func() { b.Release(); require.NoError(t, <-queued); b.Release() }()
			} else {
				defer b.Release()
			}
			_, err := call(ctx)
			require.ErrorIs(t, err, bulkhead.ErrFull)
			assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = call(ctx) }))
		})
	}
	t.Run("Fallback", func(t *testing.T) {
		fail := func(context.Context) (int, error) { return 0, errDown }
		call := bulkhead.Fallback(func(context.Context, error) (int, error) { return 2, nil })(fail)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = call(ctx) }))
	})
}
