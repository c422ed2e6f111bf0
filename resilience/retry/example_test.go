package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
)

func ExampleRetry() {
	attempts := 0
	flakyFetch := func(ctx context.Context) (string, error) {
		attempts++
		if attempts < 3 {
			return "", errors.New("connection reset")
		}
		return "hello", nil
	}

	cfg := retry.DefaultConfig()
	cfg.BaseDelay = time.Millisecond // keep the example fast
	v, err := resilience.Do(context.Background(), flakyFetch, retry.Retry[string](cfg))

	fmt.Println(v, err, "after", attempts, "attempts")
	// Output:
	// hello <nil> after 3 attempts
}

// When every attempt fails, the error tells how many were made and wraps
// the last attempt's error.
func ExampleRetry_givingUp() {
	errUnavailable := errors.New("service unavailable")
	alwaysDown := func(ctx context.Context) (int, error) { return 0, errUnavailable }

	cfg := retry.Config{MaxAttempts: 4, BaseDelay: time.Millisecond}
	_, err := retry.Retry[int](cfg)(alwaysDown)(context.Background())

	var re *retry.Error
	if errors.As(err, &re) {
		fmt.Println("attempts:", re.Attempts)
	}
	fmt.Println(errors.Is(err, retry.ErrExhausted), errors.Is(err, errUnavailable))
	fmt.Println(err)
	// Output:
	// attempts: 4
	// true true
	// retry: gave up after 4 attempts: service unavailable
}

func ExamplePermanent() {
	errNotFound := errors.New("not found")
	attempts := 0
	lookup := func(ctx context.Context) (string, error) {
		attempts++
		// Retrying cannot make a missing record appear.
		return "", retry.Permanent(errNotFound)
	}

	_, err := retry.Retry[string](retry.DefaultConfig())(lookup)(context.Background())

	fmt.Println("attempts:", attempts)
	fmt.Println(errors.Is(err, errNotFound))
	fmt.Println(err)
	// Output:
	// attempts: 1
	// true
	// not found
}

// OnRetry sees every failed attempt and the delay before the next one.
// Without Jitter the delays are exactly BaseDelay times powers of
// Multiplier.
func ExampleConfig() {
	cfg := retry.Config{
		MaxAttempts: 4,
		BaseDelay:   time.Millisecond,
		Multiplier:  3,
		OnRetry: func(attempt int, err error, delay time.Duration) {
			fmt.Printf("attempt %d failed (%v); next in %v\n", attempt, err, delay)
		},
	}
	attempts := 0
	_, err := retry.Retry[int](cfg)(func(ctx context.Context) (int, error) {
		attempts++
		return 0, fmt.Errorf("try %d: busy", attempts)
	})(context.Background())
	fmt.Println(err)
	// Output:
	// attempt 1 failed (try 1: busy); next in 1ms
	// attempt 2 failed (try 2: busy); next in 3ms
	// attempt 3 failed (try 3: busy); next in 9ms
	// retry: gave up after 4 attempts: try 4: busy
}

func ExampleConfig_Validate() {
	cfg := retry.DefaultConfig()
	cfg.Multiplier = 0.5
	err := cfg.Validate()

	fmt.Println(err)
	fmt.Println(errors.Is(err, resilience.ErrInvalidConfig))
	// Output:
	// retry: Config.Multiplier is 0.5, want >= 1
	// true
}

// A RetryableError states in the error itself whether to try again.
func ExampleRetryableError() {
	attempts := 0
	charge := func(ctx context.Context) (int, error) {
		attempts++
		if attempts == 1 {
			return 0, retry.RetryableError{Err: errors.New("rate limited"), Retryable: true}
		}
		return 0, retry.RetryableError{Err: errors.New("card declined"), Retryable: false}
	}

	cfg := retry.Config{BaseDelay: time.Millisecond}
	_, err := retry.Retry[int](cfg)(charge)(context.Background())
	fmt.Println(attempts, err)
	// Output:
	// 2 card declined
}
