package httpx

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/steadyhq/steady/internal/dependency"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// APICallWithTimeout GETs url, giving the whole call — DNS, connect, TLS,
// headers and reading the whole body — at most timeout. The body is read
// into memory, up to 10 MiB.
//
// When the limit fires, errors.Is(err, context.DeadlineExceeded) is true and
// the error is a *timeout.Error naming the limit. A shorter deadline on ctx
// wins and comes back as ctx's own error; so does ctx's cancellation. A
// non-2xx status returns the response and a [*StatusError]. An invalid url
// (empty, unparsable, not http or https) or a timeout <= 0 fails at once,
// without a request. Errors never show credentials from url.
func APICallWithTimeout(ctx context.Context, url string, timeout time.Duration) (*APIResponse, error) {
	if timeout <= 0 {
		return nil, &resilience.ConfigError{Pkg: "httpx", Field: "timeout", Value: timeout, Want: "> 0"}
	}
	c, err := NewClient(Config{Timeout: timeout})
	if err != nil {
		return nil, err
	}
	return c.Get(ctx, url)
}

// APICallWithDeadline GETs url, finishing — body read included — by
// deadline. A deadline already past fails at once with a *timeout.Error,
// without a request. An earlier deadline on ctx wins, as does ctx's
// cancellation. Otherwise it behaves like [APICallWithTimeout]; a zero
// deadline is invalid input.
func APICallWithDeadline(ctx context.Context, url string, deadline time.Time) (*APIResponse, error) {
	if deadline.IsZero() {
		return nil, &resilience.ConfigError{Pkg: "httpx", Field: "deadline", Value: "the zero time", Want: "a time"}
	}
	if ctx == nil {
		return nil, resilience.ErrNilContext
	}
	u, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context) (*APIResponse, error) { return defaultClient.get(ctx, u) }
	return timeout.WithDeadline[*APIResponse](deadline)(get)(ctx)
}

// APICallWithRetry GETs url, trying again after a failure up to maxRetries
// times (maxRetries = 3 means at most 4 attempts), with exponential backoff
// and jitter from [retry.DefaultConfig]. timeout bounds each attempt, body
// included.
//
// Retried: connection errors, attempt timeouts, 408, 429 and 5xx (except
// 501). Not retried: other 4xx, ctx's cancellation or deadline, invalid
// input. A Retry-After header, in seconds or as an HTTP date, sets the next
// wait; a wait that would pass ctx's deadline ends the call at once. When
// retries run out the error is a *retry.Error with the attempt count,
// wrapping the last attempt's error; for a final non-2xx status the last
// response is returned too. [APIResponse.Attempts] counts the requests sent.
//
// The calls to one host share a retry budget (budget.NewAdaptive with its
// defaults; see [Config.Budget]): while more than half of the retries to a
// host fail, as in an outage, further retries are denied and a call ends
// after its first attempt with a *retry.Error for which
// errors.Is(err, budget.ErrExhausted) holds, instead of multiplying the
// load on a host that is down. Transient faults (where most retries
// succeed) are retried as before.
func APICallWithRetry(ctx context.Context, url string, timeout time.Duration, maxRetries int) (*APIResponse, error) {
	if timeout <= 0 {
		return nil, &resilience.ConfigError{Pkg: "httpx", Field: "timeout", Value: timeout, Want: "> 0"}
	}
	if maxRetries < 0 || maxRetries == math.MaxInt {
		return nil, &resilience.ConfigError{Pkg: "httpx", Field: "maxRetries", Value: maxRetries, Want: ">= 0 and < MaxInt"}
	}
	cfg := retry.DefaultConfig()
	cfg.MaxAttempts = maxRetries + 1
	// A server's Retry-After is honoured as asked (up to a day); what caps
	// it is ctx's deadline: a wait that would pass it ends the call at once.
	cfg.MaxRetryAfter = maxRetryAfter
	if u, err := ParseURL(url); err == nil {
		cfg.Budget = apiBudgets.forHost(u.Host) // else Get reports the URL
	}
	c, err := NewClient(Config{Timeout: timeout, Retry: &cfg})
	if err != nil {
		return nil, err
	}
	return c.Get(ctx, url)
}

// apiBudgets are the retry budgets of APICallWithRetry, one per host,
// shared by every call to it, as a Client's calls to a host share one.
var apiBudgets = budgetTable{m: make(map[string]*budget.Adaptive)}

// budgetTable keeps an Adaptive budget per host, for at most dependency.MaxKeys
// hosts: past that, a host is forgotten (its budget starts full again if
// it comes back).
type budgetTable struct {
	mu sync.Mutex
	m  map[string]*budget.Adaptive
}

func (t *budgetTable) forHost(host string) *budget.Adaptive {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.m[host]
	if b == nil {
		if len(t.m) >= dependency.MaxKeys {
			for h := range t.m {
				delete(t.m, h)
				break
			}
		}
		b = new(budget.Adaptive)
		t.m[host] = b
	}
	return b
}

// MonitoredOperation runs operation with a context that expires after
// timeout and records its duration and outcome into [monitor.Default]. It
// returns operation's error; when the limit fired, the error satisfies
// errors.Is(err, context.DeadlineExceeded). The operation should honour its
// context: the call returns when operation returns.
//
// A nil operation or a timeout <= 0 fails at once, without calling
// anything and without recording.
func MonitoredOperation(ctx context.Context, timeout time.Duration, operation func(context.Context) error) error {
	if operation == nil {
		return &resilience.ConfigError{Pkg: "httpx", Field: "operation", Want: "a function"}
	}
	if timeout <= 0 {
		return &resilience.ConfigError{Pkg: "httpx", Field: "timeout", Value: timeout, Want: "> 0"}
	}
	_, err := resilience.Do(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, operation(ctx)
	}, monitor.Monitor[struct{}](monitor.Default), timeoutPolicy[struct{}](timeout))
	return err
}

// defaultClient is the Client behind APICallWithDeadline: no policies of
// its own, the shared default http.Client.
var defaultClient, _ = NewClient(Config{}) // the zero Config is valid

// timeoutPolicy exists so that the parameter named timeout in the functions
// above does not hide the package.
func timeoutPolicy[T any](d time.Duration) resilience.Policy[T] {
	return timeout.WithTimeout[T](d)
}
