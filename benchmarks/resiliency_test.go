package benchmarks_test

// eapache/go-resiliency (github.com/eapache/go-resiliency):
//
//   - retrier: retrier.New(retrier.ExponentialBackoff(attempts-1, baseDelay),
//     retrier.DefaultClassifier{}) with SetJitter(jitter): the same attempts,
//     doubling delays and jitter factor as steady's retry (it has no delay
//     cap; with two retries none is reached). RunCtx takes a
//     func(context.Context) error, so the result comes out through a
//     variable the closure captures, made per call.
//   - breaker: breaker.New(tripAfter, 1, openFor): open after 6 errors (it
//     counts errors within openFor of each other rather than consecutive
//     ones), close after 1 success when half-open, stay open openFor.
//     Run takes a func() error, so again the result comes out through a
//     captured variable.
//
// The retrier and the breaker are built once, before the timed loop; both
// are safe for concurrent use.

import (
	"context"
	"testing"

	"github.com/eapache/go-resiliency/breaker"
	"github.com/eapache/go-resiliency/retrier"
)

func resiliencyRetryCall(ctx context.Context, fn func(context.Context) (int, error)) call {
	r := retrier.New(retrier.ExponentialBackoff(attempts-1, baseDelay), retrier.DefaultClassifier{})
	r.SetJitter(jitter)
	return func() (int, error) {
		var v int
		err := r.RunCtx(ctx, func(ctx context.Context) error {
			var err error
			v, err = fn(ctx)
			return err
		})
		return v, err
	}
}

func newResiliencyBreaker() *breaker.Breaker { return breaker.New(tripAfter, 1, openFor) }

func resiliencyBreakerCall(ctx context.Context, cb *breaker.Breaker, fn func(context.Context) (int, error)) call {
	return func() (int, error) {
		var v int
		err := cb.Run(func() error {
			var err error
			v, err = fn(ctx)
			return err
		})
		return v, err
	}
}

func resiliencyClosedCall(ctx context.Context) call {
	return resiliencyBreakerCall(ctx, newResiliencyBreaker(), op)
}

// resiliencyOpenCall returns a call through a breaker that failing calls
// have opened.
func resiliencyOpenCall(b *testing.B, ctx context.Context) call {
	cb := newResiliencyBreaker()
	trip(b, resiliencyBreakerCall(ctx, cb, failingOp))
	return resiliencyBreakerCall(ctx, cb, op)
}
