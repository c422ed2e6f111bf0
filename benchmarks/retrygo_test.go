package benchmarks_test

// avast/retry-go v4 (github.com/avast/retry-go/v4), through DoWithData with
//
//	retry.Context(ctx), retry.Attempts(attempts), retry.Delay(baseDelay),
//	retry.MaxDelay(maxDelay), retry.MaxJitter(baseDelay), retry.LastErrorOnly(true)
//
// and the default DelayType, which adds a random jitter of up to MaxJitter to
// an exponential backoff from Delay (retry-go's jitter is additive, not a
// factor of the delay; MaxJitter is kept as small as the base delay so that
// the fail-twice case does not sleep). LastErrorOnly makes it return the
// last attempt's error, as steady does, instead of a list of all of them.
//
// The option list is built once, before the timed loop, because the
// benchmark's context never changes; retry-go applies the options to a new
// config on every call anyway. A server with a new context per request
// builds retry.Context(ctx) per call, which costs one more allocation than
// measured here.

import (
	"context"

	"github.com/avast/retry-go/v4"
)

func retrygoCall(ctx context.Context, fn func(context.Context) (int, error)) call {
	opts := []retry.Option{
		retry.Context(ctx),
		retry.Attempts(attempts),
		retry.Delay(baseDelay),
		retry.MaxDelay(maxDelay),
		retry.MaxJitter(baseDelay),
		retry.LastErrorOnly(true),
	}
	operation := func() (int, error) { return fn(ctx) }
	return func() (int, error) { return retry.DoWithData(operation, opts...) }
}
