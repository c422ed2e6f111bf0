package breaker_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

// The benchmarks compare a steady breaker with gobreaker v2 used directly,
// each with its default settings (gobreaker.Settings{} and
// breaker.Settings{} with logging off), calling a function that returns at
// once. impl=bare is the function called without any breaker.

var errBench = errors.New("bench: down")

func okInt(context.Context) (int, error) { return 1, nil }

func newSteady(b *testing.B) *breaker.CircuitBreaker {
	b.Helper()
	cb, err := breaker.New(breaker.Settings{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return cb
}

// openSteady returns a call through a breaker that it has opened, with an
// open timeout long enough to outlast the run.
func openSteady(b *testing.B) resilience.Func[int] {
	b.Helper()
	cb, err := breaker.New(breaker.Settings{OpenTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cb.Reset) // stops the open period's timer
	fail := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 0, errBench })
	for range breaker.DefaultConsecutiveFailures {
		_, _ = fail(context.Background())
	}
	if cb.State() != breaker.StateOpen {
		b.Fatal("steady breaker did not open")
	}
	return fail
}

func openGobreaker(b *testing.B) *gobreaker.CircuitBreaker[int] {
	b.Helper()
	gb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{Timeout: time.Hour})
	for range 6 { // gobreaker's default ReadyToTrip: more than 5 in a row
		_, _ = gb.Execute(func() (int, error) { return 0, errBench })
	}
	if gb.State() != gobreaker.StateOpen {
		b.Fatal("gobreaker did not open")
	}
	return gb
}

func BenchmarkClosed(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = okInt(ctx)
		}
	})
	b.Run("impl=gobreaker", func(b *testing.B) {
		gb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{})
		req := func() (int, error) { return okInt(ctx) }
		b.ReportAllocs()
		for b.Loop() {
			_, _ = gb.Execute(req)
		}
	})
	b.Run("impl=steady", func(b *testing.B) {
		call := breaker.Breaker[int](newSteady(b))(okInt)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = call(ctx)
		}
	})
}

func BenchmarkClosedParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=bare", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = okInt(ctx)
			}
		})
	})
	b.Run("impl=gobreaker", func(b *testing.B) {
		gb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{})
		req := func() (int, error) { return okInt(ctx) }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = gb.Execute(req)
			}
		})
	})
	b.Run("impl=steady", func(b *testing.B) {
		call := breaker.Breaker[int](newSteady(b))(okInt)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = call(ctx)
			}
		})
	})
}

func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=gobreaker", func(b *testing.B) {
		gb := openGobreaker(b)
		req := func() (int, error) { return okInt(ctx) }
		b.ReportAllocs()
		for b.Loop() {
			_, _ = gb.Execute(req)
		}
	})
	b.Run("impl=steady", func(b *testing.B) {
		call := openSteady(b)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = call(ctx)
		}
	})
}

func BenchmarkOpenParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=gobreaker", func(b *testing.B) {
		gb := openGobreaker(b)
		req := func() (int, error) { return okInt(ctx) }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = gb.Execute(req)
			}
		})
	})
	b.Run("impl=steady", func(b *testing.B) {
		call := openSteady(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = call(ctx)
			}
		})
	})
}

// BenchmarkClosedFailure is a failed call to a closed breaker whose only
// rule is TimeoutRate: a plain error cannot trip it, so the breaker need
// only count it. impl=gobreaker is told that its ReadyToTrip never trips.
func BenchmarkClosedFailure(b *testing.B) {
	ctx := context.Background()
	fail := func(context.Context) (int, error) { return 0, errBench }
	b.Run("impl=bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = fail(ctx)
		}
	})
	b.Run("impl=gobreaker", func(b *testing.B) {
		gb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{ReadyToTrip: func(gobreaker.Counts) bool { return false }})
		req := func() (int, error) { return fail(ctx) }
		b.ReportAllocs()
		for b.Loop() {
			_, _ = gb.Execute(req)
		}
	})
	b.Run("impl=steady", func(b *testing.B) {
		cb, err := breaker.New(breaker.Settings{TimeoutRate: 0.5, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		call := breaker.Breaker[int](cb)(fail)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = call(ctx)
		}
		if cb.State() != breaker.StateClosed {
			b.Fatal("breaker opened")
		}
	})
}
