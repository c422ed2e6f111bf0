package benchmarks_test

// failsafe-go (github.com/failsafe-go/failsafe-go), configured to match:
//
//   - timeout: timeout.New[int](limit).
//   - retry: retrypolicy.NewBuilder[int]().WithMaxAttempts(attempts),
//     WithBackoffFactor(baseDelay, maxDelay, multiplier),
//     WithJitterFactor(jitter), ReturnLastFailure() (steady wraps the last
//     error rather than returning an "exceeded" error of its own).
//   - breaker: circuitbreaker.NewBuilder[int]().WithFailureThreshold(tripAfter)
//     (open after 6 consecutive failures, as gobreaker's default),
//     WithDelay(openFor).
//   - pipeline: failsafe.With(breaker, retry, timeout), the same order as
//     steady's Compose(Monitor, Breaker, Retry, Timeout): the breaker sees
//     each logical call and the timeout bounds each attempt. failsafe-go has
//     no metrics of its own, so it does no monitoring work; that favours it.
//
// The executor is bound to the caller's context with WithContext once, before
// the timed loop, because the benchmark's context never changes. A server
// that gets a new context per request has to call WithContext per call,
// which costs failsafe-go one more allocation than measured here. The
// operation gets its context from the execution (exec.Context()), which is
// where failsafe-go puts the timeout's child context. That context is
// canceled by a timer and has no deadline, so where there is a timeout the
// operation is opCancelable, which fails without a done channel, rather
// than opDeadline.

import (
	"context"
	"testing"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/failsafe-go/failsafe-go/timeout"
)

func failsafeCall(ctx context.Context, fn func(context.Context) (int, error), policies ...failsafe.Policy[int]) call {
	ex := failsafe.With(policies...).WithContext(ctx)
	inner := func(exec failsafe.Execution[int]) (int, error) { return fn(exec.Context()) }
	return func() (int, error) { return ex.GetWithExecution(inner) }
}

func failsafeTimeout() failsafe.Policy[int] { return timeout.New[int](limit) }

func failsafeRetry() failsafe.Policy[int] {
	return retrypolicy.NewBuilder[int]().
		WithMaxAttempts(attempts).
		WithBackoffFactor(baseDelay, maxDelay, multiplier).
		WithJitterFactor(jitter).
		ReturnLastFailure().
		Build()
}

func failsafeBreaker() circuitbreaker.CircuitBreaker[int] {
	return circuitbreaker.NewBuilder[int]().
		WithFailureThreshold(tripAfter).
		WithDelay(openFor).
		Build()
}

func failsafeTimeoutCall(ctx context.Context) call {
	return failsafeCall(ctx, opCancelable, failsafeTimeout())
}

func failsafeRetryCall(ctx context.Context, fn func(context.Context) (int, error)) call {
	return failsafeCall(ctx, fn, failsafeRetry())
}

func failsafeBreakerCall(ctx context.Context) call {
	return failsafeCall(ctx, op, failsafeBreaker())
}

// failsafeOpenCall returns a call through a breaker that failing calls have
// opened.
func failsafeOpenCall(b *testing.B, ctx context.Context) call {
	cb := failsafeBreaker()
	trip(b, failsafeCall(ctx, failingOp, cb))
	return failsafeCall(ctx, op, cb)
}

func failsafePipeline(ctx context.Context) call {
	return failsafeCall(ctx, opCancelable, failsafeBreaker(), failsafeRetry(), failsafeTimeout())
}
