package benchmarks_test

// sony/gobreaker v2 (github.com/sony/gobreaker/v2), with its default
// settings: gobreaker.Settings{Name: "bench"} opens after more than 5
// consecutive failures (the 6th, tripAfter), stays open for 60s (openFor) and
// lets one probe through when half-open. steady's breaker is configured to
// the same values. The operation is bound to the caller's context in a
// closure built once, since Execute takes a func() (T, error).

import (
	"context"
	"testing"

	"github.com/sony/gobreaker/v2"
)

func newGobreaker() *gobreaker.CircuitBreaker[int] {
	return gobreaker.NewCircuitBreaker[int](gobreaker.Settings{Name: "bench"})
}

func gobreakerCall(ctx context.Context, cb *gobreaker.CircuitBreaker[int], fn func(context.Context) (int, error)) call {
	req := func() (int, error) { return fn(ctx) }
	return func() (int, error) { return cb.Execute(req) }
}

func gobreakerClosedCall(ctx context.Context) call {
	return gobreakerCall(ctx, newGobreaker(), op)
}

// gobreakerOpenCall returns a call through a breaker that failing calls have
// opened.
func gobreakerOpenCall(b *testing.B, ctx context.Context) call {
	cb := newGobreaker()
	trip(b, gobreakerCall(ctx, cb, failingOp))
	return gobreakerCall(ctx, cb, op)
}
