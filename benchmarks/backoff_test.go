package benchmarks_test

// cenkalti/backoff v4 (github.com/cenkalti/backoff/v4), the library steady's
// retry computes its delays with, used directly through RetryWithData:
//
//	backoff.WithContext(backoff.WithMaxRetries(backoff.NewExponentialBackOff(
//		backoff.WithInitialInterval(baseDelay),
//		backoff.WithMultiplier(multiplier),
//		backoff.WithMaxInterval(maxDelay),
//		backoff.WithRandomizationFactor(jitter),
//		backoff.WithMaxElapsedTime(0),
//	), attempts-1), ctx)
//
// that is the same attempts, delays and jitter as steady's retry.Config, and
// like it stopping when the caller's context is done. The BackOff is built
// anew for every call, inside the timed loop: an ExponentialBackOff holds the
// state of one retry sequence (current interval, start time) and is not safe
// for concurrent use, so a retrying function that may be called from many
// goroutines cannot share one.

import (
	"context"

	"github.com/cenkalti/backoff/v4"
)

func backoffCall(ctx context.Context, fn func(context.Context) (int, error)) call {
	operation := func() (int, error) { return fn(ctx) }
	return func() (int, error) {
		bo := backoff.WithContext(backoff.WithMaxRetries(backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(baseDelay),
			backoff.WithMultiplier(multiplier),
			backoff.WithMaxInterval(maxDelay),
			backoff.WithRandomizationFactor(jitter),
			backoff.WithMaxElapsedTime(0),
		), attempts-1), ctx)
		return backoff.RetryWithData(operation, bo)
	}
}
