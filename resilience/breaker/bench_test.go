package breaker_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

// These benchmarks measure the breaker alone, with its default settings and
// logging off, calling a function that returns at once. The comparison with
// gobreaker and other peers is in the benchmarks module.

var errBench = errors.New("bench: down")

func okInt(context.Context) (int, error) { return 1, nil }

func newSteady(b *testing.B, s breaker.Settings) *breaker.CircuitBreaker {
	b.Helper()
	s.Logger = slog.New(slog.DiscardHandler)
	cb, err := breaker.New(s)
	if err != nil {
		b.Fatal(err)
	}
	return cb
}

// openSteady returns a call through a breaker that it has opened, with an
// open timeout long enough to outlast the run.
func openSteady(b *testing.B) resilience.Func[int] {
	b.Helper()
	cb := newSteady(b, breaker.Settings{OpenTimeout: time.Hour})
	b.Cleanup(cb.Reset) // stops the open period's timer
	fail := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 0, errBench })
	for range breaker.DefaultConsecutiveFailures {
		_, _ = fail(context.Background())
	}
	if cb.State() != breaker.StateOpen {
		b.Fatal("breaker did not open")
	}
	return fail
}

func BenchmarkClosed(b *testing.B) {
	ctx := context.Background()
	call := breaker.Breaker[int](newSteady(b, breaker.Settings{}))(okInt)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

func BenchmarkClosedParallel(b *testing.B) {
	ctx := context.Background()
	call := breaker.Breaker[int](newSteady(b, breaker.Settings{}))(okInt)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = call(ctx)
		}
	})
}

// BenchmarkAllowDone is a closed call made by hand, as httpx's Transport
// makes it.
func BenchmarkAllowDone(b *testing.B) {
	ctx := context.Background()
	cb := newSteady(b, breaker.Settings{})
	b.ReportAllocs()
	for b.Loop() {
		t, err := cb.Allow()
		t.Done(ctx, err)
	}
}

func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	call := openSteady(b)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

func BenchmarkOpenParallel(b *testing.B) {
	ctx := context.Background()
	call := openSteady(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = call(ctx)
		}
	})
}

// BenchmarkClosedFailure is a failed call to a closed breaker whose only
// rule is TimeoutRate: a plain error cannot trip it, so the breaker need
// only count it.
func BenchmarkClosedFailure(b *testing.B) {
	ctx := context.Background()
	cb := newSteady(b, breaker.Settings{TimeoutRate: 0.5})
	call := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 0, errBench })
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
	if cb.State() != breaker.StateClosed {
		b.Fatal("breaker opened")
	}
}

// BenchmarkClosedFailureParallel is failed calls from every CPU to a closed
// breaker whose FailureRate rule cannot fire yet: the window holds fewer
// than MinRequests calls.
func BenchmarkClosedFailureParallel(b *testing.B) {
	ctx := context.Background()
	cb := newSteady(b, breaker.Settings{FailureRate: 0.5, MinRequests: math.MaxUint32})
	call := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 0, errBench })
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = call(ctx)
		}
	})
	if cb.State() != breaker.StateClosed {
		b.Fatal("breaker opened")
	}
}
