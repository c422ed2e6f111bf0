package benchmarks_test

// golang.org/x/sync, the building blocks a Go user reaches for first, as
// the floor of steady's bulkhead package:
//
//   - semaphore: semaphore.NewWeighted(slots); a call is
//     Acquire(ctx, 1), the operation, Release(1). Weighted has no queue
//     limit, so it has no rejection of its own; for the rejected case a
//     call is TryAcquire(1), which fails without waiting when every slot
//     is taken (as steady's bulkhead with no queue does).
//   - singleflight: a call is Group.Do(key, ...) with one fixed key and
//     the operation called with the caller's context, the result asserted
//     back to int. Do has no way for a caller to leave early, and the
//     shared function takes no context.

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"
)

// errSemaphoreFull is what a semaphore call returns when TryAcquire fails.
var errSemaphoreFull = errors.New("semaphore: every slot taken")

func semaphoreCall(ctx context.Context) call {
	sem := semaphore.NewWeighted(slots)
	return func() (int, error) {
		if err := sem.Acquire(ctx, 1); err != nil {
			return 0, err
		}
		defer sem.Release(1)
		return op(ctx)
	}
}

// semaphoreFull returns a call through a semaphore whose every slot is
// taken, released when the benchmark ends.
func semaphoreFull(b *testing.B, ctx context.Context) call {
	sem := semaphore.NewWeighted(1)
	if !sem.TryAcquire(1) {
		b.Fatal("semaphore: no free slot")
	}
	b.Cleanup(func() { sem.Release(1) })
	return func() (int, error) {
		if !sem.TryAcquire(1) {
			return 0, errSemaphoreFull
		}
		defer sem.Release(1)
		return op(ctx)
	}
}

func singleflightCall(ctx context.Context) call {
	var g singleflight.Group
	return func() (int, error) {
		v, err, _ := g.Do(coalesceKey, func() (any, error) { return op(ctx) })
		n, _ := v.(int)
		return n, err
	}
}
