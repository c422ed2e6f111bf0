package chaos_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/steadyhq/steady/chaos"
	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
)

// A test server that fails 30% of its requests with 503: steady's
// APICallWithRetry gets every call through.
func Example() {
	in, err := chaos.New(chaos.Config{
		Seed:   1,
		Faults: []chaos.Fault{chaos.Status(503).Rate(0.3)},
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(in.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello\n")
	})))
	defer srv.Close()
	defer in.Close() // first: ends any hang, so srv.Close returns at once

	ok := 0
	for range 20 {
		if _, err := httpx.APICallWithRetry(context.Background(), srv.URL, time.Second, 3); err == nil {
			ok++
		}
	}
	s := in.Snapshot()
	fmt.Printf("%d of 20 calls succeeded\n", ok)
	fmt.Printf("the server saw %d requests, %d of them answered 503\n", s.Requests, s.Injected(chaos.KindStatus))
	// Output:
	// 20 of 20 calls succeeded
	// the server saw 30 requests, 10 of them answered 503
}

// Testing a pipeline of policies against faults, without a network.
func ExampleInject() {
	in, err := chaos.New(chaos.Config{
		Seed: 2,
		Faults: []chaos.Fault{
			chaos.Reset().Rate(0.2),
			chaos.Throttle(0).Rate(0.1), // 429 with Retry-After: 0
		},
	})
	if err != nil {
		panic(err)
	}
	lookup := func(ctx context.Context) (string, error) { return "42", nil }
	call := resilience.Compose(
		retry.Retry[string](retry.Config{MaxAttempts: 5, BaseDelay: time.Millisecond}),
		chaos.Inject[string](in), // innermost: each attempt meets the faults
	)(lookup)

	failed := 0
	for range 100 {
		if _, err := call(context.Background()); err != nil {
			failed++
		}
	}
	s := in.Snapshot()
	fmt.Printf("%d of 100 calls failed\n", failed)
	fmt.Printf("%d attempts: %d resets, %d throttled, %d clean\n",
		s.Requests, s.Injected(chaos.KindReset), s.Injected(chaos.KindStatus), s.Clean)
	// Output:
	// 0 of 100 calls failed
	// 141 attempts: 32 resets, 9 throttled, 100 clean
}

// Faults on the client side: every request through this client meets a
// slow, then a failing dependency, whatever the server does.
func ExampleInjector_Transport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello\n")
	}))
	defer srv.Close()

	in, err := chaos.New(chaos.Config{Faults: []chaos.Fault{
		chaos.Latency(chaos.Fixed(10 * time.Millisecond)),
		chaos.Status(500).After(time.Hour), // not yet
	}})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: in.Transport(nil)}
	start := time.Now()
	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%d %q, slow: %v\n", resp.StatusCode, body, time.Since(start) >= 10*time.Millisecond)
	// Output:
	// 200 "hello\n", slow: true
}
