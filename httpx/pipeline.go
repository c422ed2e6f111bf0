package httpx

import (
	"errors"
	"net/url"
	"sync"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
)

// breakerSet holds one circuit breaker per upstream host, made on first
// use from the same settings. It is safe for concurrent use.
type breakerSet struct {
	settings breaker.Settings
	m        sync.Map // host → *breaker.CircuitBreaker
}

func newBreakerSet(s *breaker.Settings) *breakerSet {
	if s == nil {
		return nil
	}
	bs := &breakerSet{settings: *s}
	if bs.settings.IsFailure == nil {
		bs.settings.IsFailure = isUpstreamFailure
	}
	return bs
}

// isUpstreamFailure is the breakers' default IsFailure: an error counts
// against the host unless it shows the host is up and answering — a 4xx
// other than 408 and 429 (the request was wrong, not the server), or a
// body over the client's own size limit.
func isUpstreamFailure(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode >= 500 || retryableStatus(se.StatusCode)
	}
	return !errors.Is(err, ErrBodyTooLarge)
}

// get returns the breaker for host, creating it if needed. The settings
// were validated when the Client or Transport was made, so New cannot fail
// here except with a Name-specific problem, which it reports.
func (s *breakerSet) get(host string) (*breaker.CircuitBreaker, error) {
	if cb, ok := s.m.Load(host); ok {
		return cb.(*breaker.CircuitBreaker), nil
	}
	st := s.settings
	st.Name = host
	cb, err := breaker.New(st)
	if err != nil {
		return nil, err
	}
	actual, _ := s.m.LoadOrStore(host, cb)
	return actual.(*breaker.CircuitBreaker), nil
}

// all returns a copy of the host → breaker map.
func (s *breakerSet) all() map[string]*breaker.CircuitBreaker {
	out := make(map[string]*breaker.CircuitBreaker)
	if s == nil {
		return out
	}
	s.m.Range(func(k, v any) bool {
		out[k.(string)] = v.(*breaker.CircuitBreaker)
		return true
	})
	return out
}

// policies is the part of a pipeline that does not depend on the request:
// Monitor, (per host) Breaker, Retry, and for a Client the attempt Timeout,
// in the recommended order.
type policies[T any] struct {
	monitor  resilience.Policy[T] // nil when no Metrics
	breakers *breakerSet          // nil when no Breaker
	retry    resilience.Policy[T] // nil when no Retry
	timeout  resilience.Policy[T] // nil when no Timeout (and always for a Transport)

	// The composed pipelines, built on first use and kept: by host when
	// there are breakers (each host has its own), else under "".
	withRetry, noRetry sync.Map // string → resilience.Policy[T]
}

func newPolicies[T any](cfg *Config, bs *breakerSet, limit resilience.Policy[T]) *policies[T] {
	p := &policies[T]{breakers: bs, timeout: limit}
	if cfg.Metrics != nil {
		p.monitor = monitor.Monitor[T](cfg.Metrics)
	}
	if cfg.Retry != nil {
		p.retry = retry.Retry[T](*cfg.Retry)
	}
	return p
}

// forRequest returns the composed pipeline for a request to u: with or
// without retries (retryOK), with the breaker of u's host.
func (p *policies[T]) forRequest(u *url.URL, retryOK bool) (resilience.Policy[T], error) {
	cache, retrying := &p.noRetry, resilience.Policy[T](nil)
	if retryOK && p.retry != nil {
		cache, retrying = &p.withRetry, p.retry
	}
	var host string
	if p.breakers != nil {
		host = u.Host
	}
	if pipe, ok := cache.Load(host); ok {
		return pipe.(resilience.Policy[T]), nil
	}
	var cb resilience.Policy[T]
	if p.breakers != nil {
		b, err := p.breakers.get(host)
		if err != nil {
			return nil, err
		}
		cb = breaker.Breaker[T](b)
	}
	ps := make([]resilience.Policy[T], 0, 4)
	for _, q := range []resilience.Policy[T]{p.monitor, cb, retrying, p.timeout} {
		if q != nil {
			ps = append(ps, q)
		}
	}
	pipe, _ := cache.LoadOrStore(host, resilience.Compose(ps...))
	return pipe.(resilience.Policy[T]), nil
}
