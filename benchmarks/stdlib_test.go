package benchmarks_test

// The standard-library baselines, written the way a careful user writes them
// by hand:
//
//   - bare: the operation alone, called directly with the caller's context.
//   - stdlib: the operation under an inline context.WithTimeout(ctx, limit)
//     and its cancel, the floor any timeout policy is measured against.
//   - goroutine-select: the tutorial timeout for work that may ignore its
//     context: context.WithTimeout, a buffered channel, a goroutine running
//     the operation and a select between the channel and ctx.Done(). The
//     goroutine is abandoned if the deadline fires first.
//   - stdlib (retry): a plain loop of up to attempts calls with no delay and
//     no classification, the floor for the retry cases.
//
// Every builder with a timeout calls opDeadline, which fails without one.

import (
	"context"
)

func bare(ctx context.Context) call {
	return func() (int, error) { return op(ctx) }
}

func stdlibTimeout(ctx context.Context) call {
	return func() (int, error) {
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		return opDeadline(ctx)
	}
}

func goroutineSelect(ctx context.Context) call {
	type result struct {
		v   int
		err error
	}
	return func() (int, error) {
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		ch := make(chan result, 1)
		go func() {
			v, err := opDeadline(ctx)
			ch <- result{v, err}
		}()
		select {
		case r := <-ch:
			return r.v, r.err
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func stdlibRetry(ctx context.Context, fn func(context.Context) (int, error)) call {
	return func() (v int, err error) {
		for range attempts {
			if v, err = fn(ctx); err == nil {
				return v, nil
			}
		}
		return v, err
	}
}
