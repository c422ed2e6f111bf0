package benchmarks_test

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The configuration every implementation is given, so that they do the same
// work. Each peer's file says how these map onto the peer's own settings.
const (
	// limit is the timeout of every timeout policy. It never fires: the
	// operation returns at once, so the benchmarks measure the success path.
	limit = time.Second

	// attempts is the retry policies' total number of attempts (2 retries).
	attempts = 3
	// baseDelay is the first retry delay, doubled (multiplier) up to
	// maxDelay, with jitter of ±jitter×delay. It is as small as the peers
	// allow, so that the fail-twice case measures the retry machinery,
	// not sleeping.
	baseDelay  = time.Nanosecond
	maxDelay   = time.Microsecond
	multiplier = 2.0
	jitter     = 0.5

	// Breaker settings, gobreaker's defaults: the circuit opens after more
	// than 5 consecutive failures (the 6th) and stays open for openFor.
	tripAfter = 6
	openFor   = time.Minute

	// slots is the concurrency limit of the bulkhead cases (steady's
	// MaxConcurrent, the semaphore's weight): more than there are
	// goroutines, so that no call waits and the cost is the bookkeeping.
	slots = 1 << 20
	// coalesceKey is the one key of the coalescing cases.
	coalesceKey = "key"
)

// errTransient is what a failing operation returns; every peer retries it
// and counts it as a failure.
var errTransient = errors.New("transient failure")

// errNoTimeout is what opDeadline and opCancelable return when no timeout
// gave them their context.
var errNoTimeout = errors.New("the operation's context has no timeout")

// op is the operation in every case. It is cooperative: like anything that
// waits or does I/O, it looks at ctx.Done() once, which is what makes a
// context's done channel (and its cost) real.
func op(ctx context.Context) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	default:
		return 1, nil
	}
}

// opDeadline is op for the cases with a timeout (Timeout, Abandon,
// Pipeline), in every implementation but bare: it fails unless its context
// has a deadline, so that a timeout that stopped setting one fails the
// benchmark instead of passing for a cheap one. The check is one
// ctx.Deadline() call, a field read on a deadline context.
func opDeadline(ctx context.Context) (int, error) {
	if _, ok := ctx.Deadline(); !ok {
		return 0, errNoTimeout
	}
	return op(ctx)
}

// opCancelable is opDeadline for failsafe-go, whose timeout gives the
// operation a cancelable context without a deadline (a timer cancels it):
// it fails unless the context has a done channel. It reads ctx.Done()
// once, as op does.
func opCancelable(ctx context.Context) (int, error) {
	done := ctx.Done()
	if done == nil {
		return 0, errNoTimeout
	}
	select {
	case <-done:
		return 0, ctx.Err()
	default:
		return 1, nil
	}
}

// failingOp always fails; it trips breakers.
func failingOp(context.Context) (int, error) { return 0, errTransient }

// failTwice returns an operation that fails twice and then succeeds, again
// and again: each retried call makes exactly three attempts. It is not safe
// for concurrent use (the retry cases are serial).
func failTwice() func(context.Context) (int, error) {
	n := 0
	return func(ctx context.Context) (int, error) {
		n++
		if n%attempts != 0 {
			return 0, errTransient
		}
		return op(ctx)
	}
}

// call is one implementation of a case, built once (policies, pipelines,
// executors) before the timed loop; calling it is one logical call.
type call func() (int, error)

// serial times c in a b.Loop loop and fails the benchmark if a call does not
// return (1, nil).
func serial(b *testing.B, c call) {
	b.ReportAllocs()
	for b.Loop() {
		if v, err := c(); v != 1 || err != nil {
			b.Fatalf("call returned (%d, %v), want (1, <nil>)", v, err)
		}
	}
}

// parallel times c from GOMAXPROCS goroutines at once (b.RunParallel) and
// fails the benchmark if a call does not return (1, nil).
func parallel(b *testing.B, c call) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if v, err := c(); v != 1 || err != nil {
				b.Errorf("call returned (%d, %v), want (1, <nil>)", v, err)
				return
			}
		}
	})
}

// rejected checks once that c fails with an error matching want (an open
// breaker's or a full bulkhead's error), then times it in a b.Loop loop, failing the
// benchmark if a call ever succeeds. The loop compares with nil only, so that
// errors.Is is not part of what is timed.
func rejected(b *testing.B, c call, want error) {
	if _, err := c(); !errors.Is(err, want) {
		b.Fatalf("call returned %v, want %v", err, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c(); err == nil {
			b.Fatal("call succeeded, want a rejection")
		}
	}
}

// rejectedParallel is rejected from GOMAXPROCS goroutines at once.
func rejectedParallel(b *testing.B, c call, want error) {
	if _, err := c(); !errors.Is(err, want) {
		b.Fatalf("call returned %v, want %v", err, want)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c(); err == nil {
				b.Error("call succeeded, want a rejection")
				return
			}
		}
	})
}

// trip calls c until it has failed tripAfter times in a row, which opens a
// breaker configured with tripAfter.
func trip(b *testing.B, c call) {
	b.Helper()
	for range tripAfter {
		if _, err := c(); err == nil {
			b.Fatal("failing call succeeded while tripping the breaker")
		}
	}
}
