package budget_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/retry"
)

// A dependency that is down gets 100 retries in all, the bucket's
// capacity, instead of three per call.
func Example() {
	b, err := budget.NewAdaptive(budget.AdaptiveConfig{}) // once per dependency
	if err != nil {
		panic(err)
	}
	cfg := retry.Config{MaxAttempts: 4, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond, Budget: b}

	attempts := 0
	down := func(context.Context) (string, error) {
		attempts++
		return "", errors.New("503 service unavailable")
	}
	call := retry.Retry[string](cfg)(down)

	denied := 0
	for range 100 {
		_, err := call(context.Background())
		if errors.Is(err, budget.ErrExhausted) {
			denied++
		}
	}
	s := b.Snapshot()
	fmt.Println("attempts:", attempts, "(without a budget: 400)")
	fmt.Println("calls that ended on a denied retry:", denied)
	fmt.Println("tokens left:", s.Headroom)
	// Output:
	// attempts: 200 (without a budget: 400)
	// calls that ended on a denied retry: 67
	// tokens left: 0
}

// Retries that succeed pay for themselves: a flaky dependency, failing every
// other attempt, keeps the bucket full however long it goes on.
func ExampleAdaptive() {
	b, err := budget.NewAdaptive(budget.AdaptiveConfig{Capacity: 10})
	if err != nil {
		panic(err)
	}
	cfg := retry.Config{MaxAttempts: 4, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond, Budget: b}

	attempts := 0
	flaky := func(context.Context) (int, error) {
		attempts++
		if attempts%2 == 1 {
			return 0, errors.New("connection reset")
		}
		return attempts, nil
	}
	call := retry.Retry[int](cfg)(flaky)

	failed := 0
	for range 1000 {
		if _, err := call(context.Background()); err != nil {
			failed++
		}
	}
	s := b.Snapshot()
	fmt.Println("calls failed:", failed)
	fmt.Println("retries:", s.Retries, "succeeded:", s.Succeeded, "denied:", s.Denied)
	fmt.Println("tokens left:", s.Headroom)
	// Output:
	// calls failed: 0
	// retries: 1000 succeeded: 1000 denied: 0
	// tokens left: 10
}

// A Ratio budget with Finagle's defaults allows 10 retries a second over
// 10 seconds, plus a fifth of the calls of those 10 seconds.
func ExampleNewRatio() {
	b, err := budget.NewRatio(budget.RatioConfig{})
	if err != nil {
		panic(err)
	}
	fmt.Println("retries allowed at first:", b.Snapshot().Headroom)
	for range 1000 {
		b.Request()
	}
	fmt.Println("after 1000 calls:", b.Snapshot().Headroom)
	// Output:
	// retries allowed at first: 100
	// after 1000 calls: 300
}

// A dependency that rejects what it is sent gets fewer and fewer requests:
// the Throttler rejects them locally, with a probability that grows with
// the share it would have rejected anyway.
func ExampleThrottle() {
	th, err := budget.NewThrottler(budget.ThrottlerConfig{})
	if err != nil {
		panic(err)
	}
	sent := 0
	overloaded := func(context.Context) (int, error) {
		sent++
		return 0, errors.New("429 too many requests")
	}
	call := budget.Throttle[int](th)(overloaded)

	throttled := 0
	for range 1000 {
		_, err := call(context.Background())
		if errors.Is(err, budget.ErrThrottled) {
			throttled++
		}
	}
	fmt.Println("sent fewer than 5%:", sent < 50, "- the rest throttled:", throttled == 1000-sent)
	fmt.Printf("reject rate now: %.3f\n", th.Snapshot().RejectRate)
	// Output:
	// sent fewer than 5%: true - the rest throttled: true
	// reject rate now: 0.999
}
