package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

func ExampleAPICallWithTimeout() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()

	resp, err := httpx.APICallWithTimeout(context.Background(), srv.URL, time.Second)
	fmt.Println(resp.StatusCode, string(resp.Body), err)

	_, err = httpx.APICallWithTimeout(context.Background(), srv.URL+"/slow", 50*time.Millisecond)
	var te *timeout.Error
	fmt.Println(errors.Is(err, context.DeadlineExceeded), errors.As(err, &te), te.Duration)
	// Output:
	// 200 hello <nil>
	// true true 50ms
}

func ExampleAPICallWithRetry() {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable) // retried
			return
		}
		fmt.Fprint(w, "third time lucky")
	}))
	defer srv.Close()

	resp, err := httpx.APICallWithRetry(context.Background(), srv.URL, time.Second, 3)
	fmt.Println(string(resp.Body), resp.Attempts, err)
	// Output:
	// third time lucky 3 <nil>
}

func ExampleStatusError() {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()

	resp, err := httpx.APICallWithRetry(context.Background(), srv.URL+"/nope", time.Second, 3)
	var se *httpx.StatusError
	if errors.As(err, &se) {
		fmt.Println("status", se.StatusCode, "attempts", resp.Attempts, "retryable", se.Retryable())
	}
	// Output:
	// status 404 attempts 1 retryable false
}

func ExampleMonitoredOperation() {
	m := monitor.Default
	before := m.Snapshot()

	err := httpx.MonitoredOperation(context.Background(), 20*time.Millisecond, func(ctx context.Context) error {
		<-ctx.Done() // a slow dependency that honours its context
		return ctx.Err()
	})
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	fmt.Println("timeouts recorded:", m.Snapshot().Timeouts-before.Timeouts)
	// Output:
	// true
	// timeouts recorded: 1
}

func ExampleClient() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"id": 7}`)
	}))
	defer srv.Close()

	retries := retry.DefaultConfig()
	metrics, err := monitor.NewMetrics(monitor.Config{Name: "users-api"})
	if err != nil {
		panic(err)
	}
	users, err := httpx.NewClient(httpx.Config{
		Timeout: 2 * time.Second, // per attempt, body included
		Retry:   &retries,
		Metrics: metrics,
		Breaker: &breaker.Settings{TimeoutRate: 0.5, MinRequests: 20},
	})
	if err != nil {
		panic(err)
	}

	resp, err := users.Get(context.Background(), srv.URL+"/users/7")
	fmt.Println(string(resp.Body), err)
	fmt.Println("calls:", metrics.Snapshot().Total)
	// Output:
	// {"id": 7} <nil>
	// calls: 1
}

func ExampleTransport() {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()

	// Harden any *http.Client, e.g. one a third-party SDK accepts.
	t, err := httpx.NewTransport(nil, httpx.Config{
		Timeout: time.Second,
		Retry:   &retry.Config{MaxAttempts: 3, BaseDelay: 10 * time.Millisecond},
	})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: t}

	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body), "after", hits.Load(), "requests")
	// Output:
	// 200 ok after 2 requests
}

func ExampleParseURL() {
	_, err := httpx.ParseURL("alice:s3cret@api.example.com/v1") // the scheme forgotten
	fmt.Println(errors.Is(err, httpx.ErrInvalidURL), err)
	u, err := httpx.ParseURL("https://api.example.com/v1")
	fmt.Println(u.Host, err)
	// Output:
	// true httpx: invalid URL: not an absolute http or https URL (is the scheme or the host missing?)
	// api.example.com <nil>
}
