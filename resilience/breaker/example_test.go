package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/resilience/breaker"
)

func ExampleBreaker() {
	cb, err := breaker.New(breaker.Settings{
		Name:                "inventory",
		ConsecutiveFailures: 3,
		Logger:              slog.New(slog.DiscardHandler),
		OnStateChange: func(name string, from, to breaker.State) {
			fmt.Printf("%s: %s -> %s\n", name, from, to)
		},
	})
	if err != nil {
		panic(err)
	}

	calls := 0
	lookup := func(context.Context) (int, error) {
		calls++
		return 0, errors.New("connection refused")
	}
	call := breaker.Breaker[int](cb)(lookup) // build once, call many times

	for i := 1; i <= 5; i++ {
		_, err := call(context.Background())
		if errors.Is(err, breaker.ErrOpen) {
			fmt.Printf("call %d: rejected at once\n", i)
			continue
		}
		fmt.Printf("call %d: %v\n", i, err)
	}
	fmt.Println("inventory was called", calls, "times")
	// Output:
	// call 1: connection refused
	// call 2: connection refused
	// inventory: closed -> open
	// call 3: connection refused
	// call 4: rejected at once
	// call 5: rejected at once
	// inventory was called 3 times
}

func ExampleCircuitBreaker_Allow() {
	cb, _ := breaker.New(breaker.Settings{ConsecutiveFailures: 1})
	// A call whose end is not a Func's return, e.g. a response body that
	// fails while it is read: Done is called when the call has ended.
	read := func(ctx context.Context) error {
		t, err := cb.Allow()
		if err != nil {
			return err // the *OpenError, counted in Rejected
		}
		err = errors.New("unexpected EOF") // ... the body's read error
		t.Done(ctx, err)
		return err
	}
	fmt.Println(read(context.Background()))
	fmt.Println(read(context.Background()) != nil, cb.State(), cb.Snapshot().Rejected)
	cb.Reset()
	// Output:
	// unexpected EOF
	// true open 1
}

func ExampleNew() {
	// Open when half of the calls of the last 30s timed out, once there
	// were at least 20; probe again after 10s (plus up to 10% jitter).
	cb, err := breaker.New(breaker.Settings{
		Name:        "payments",
		TimeoutRate: 0.5,
		MinRequests: 20,
		Window:      30 * time.Second,
		OpenTimeout: 10 * time.Second,
	})
	fmt.Println(cb.Name(), cb.State(), err)

	// A rate is a fraction, not a percentage.
	_, err = breaker.New(breaker.Settings{TimeoutRate: 50})
	fmt.Println(err)
	// Output:
	// payments closed <nil>
	// breaker: Settings.TimeoutRate is 50, want 0 (off) or in (0, 1]
}

func ExampleCircuitBreaker_Isolate() {
	cb, _ := breaker.New(breaker.Settings{Name: "search", Logger: slog.New(slog.DiscardHandler)})
	search := breaker.Breaker[string](cb)(func(context.Context) (string, error) {
		return "3 results", nil
	})

	cb.Isolate() // take the dependency out of service
	_, err := search(context.Background())
	var oe *breaker.OpenError
	fmt.Println(errors.As(err, &oe), oe.Isolated)
	fmt.Println(err)

	cb.Reset() // and back
	fmt.Println(search(context.Background()))
	// Output:
	// true true
	// breaker "search": circuit isolated, held open until Reset
	// 3 results <nil>
}

func ExampleCircuitBreaker_Snapshot() {
	cb, _ := breaker.New(breaker.Settings{TimeoutRate: 0.5, MinRequests: 10})
	ok := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 1, nil })
	slow := breaker.Breaker[int](cb)(func(context.Context) (int, error) {
		return 0, context.DeadlineExceeded // as a timeout inside the breaker returns
	})
	for range 3 {
		_, _ = ok(context.Background())
	}
	_, _ = slow(context.Background())

	s := cb.Snapshot()
	fmt.Printf("%s: %d calls, %d timeouts, timeout rate %.2f, %d rejected\n",
		s.State, s.Counts.Calls, s.Counts.Timeouts, s.Counts.TimeoutRate, s.Rejected)
	// Output:
	// closed: 4 calls, 1 timeouts, timeout rate 0.25, 0 rejected
}

func Example_logging() {
	// Keep the output the same on every run: drop the times, and keep two
	// of the counts.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch {
			case a.Key == slog.TimeKey, a.Key == "next_probe":
				return slog.Attr{}
			case len(groups) > 0 && a.Key != "calls" && a.Key != "timeouts":
				return slog.Attr{}
			}
			return a
		},
	}))
	cb, _ := breaker.New(breaker.Settings{Name: "payments", TimeoutRate: 0.5, MinRequests: 4, Logger: logger})
	ok := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 1, nil })
	timedOut := breaker.Breaker[int](cb)(func(context.Context) (int, error) { return 0, context.DeadlineExceeded })
	_, _ = ok(context.Background())
	_, _ = ok(context.Background())
	_, _ = timedOut(context.Background())
	_, _ = timedOut(context.Background())
	cb.Reset()
	// Output:
	// level=WARN msg="circuit breaker opened" breaker=payments from=closed to=open reason="TimeoutRate 0.50 >= 0.50 over 4 calls" counts.calls=4 counts.timeouts=2
	// level=INFO msg="circuit breaker reset" breaker=payments from=open to=closed reason="Reset called" counts.calls=4 counts.timeouts=2
}

// With MaxWaiting, a call made while the breaker is open waits for the
// dependency's recovery instead of failing.
func Example_waitForRecovery() {
	cb, _ := breaker.New(breaker.Settings{
		Name:                "inventory",
		ConsecutiveFailures: 1,
		OpenTimeout:         50 * time.Millisecond,
		MaxWaiting:          100, // calls that may wait while the breaker is open
	})
	var down atomic.Bool
	down.Store(true)
	call := breaker.Breaker[string](cb)(func(context.Context) (string, error) {
		if down.Load() {
			return "", errors.New("connection refused")
		}
		return "in stock", nil
	})
	_, err := call(context.Background()) // fails and opens the breaker
	fmt.Println(err, "/", cb.State())

	time.AfterFunc(20*time.Millisecond, func() { down.Store(false) }) // back soon

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v, err := call(ctx) // waits for the probe: it is the probe
	fmt.Println(v, err, "/", cb.State(), "/ waited:", cb.Snapshot().Waited)
	// Output:
	// connection refused / open
	// in stock <nil> / closed / waited: 1
}
