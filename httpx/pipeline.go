package httpx

import (
	"errors"

	"github.com/steadyhq/steady/internal/dependency"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
)

// breakerSettings returns the settings each host's breaker is made from,
// or nil for none: s with IsFailure defaulted.
func breakerSettings(s *breaker.Settings) *breaker.Settings {
	if s == nil {
		return nil
	}
	st := *s
	if st.IsFailure == nil {
		st.IsFailure = isUpstreamFailure
	}
	return &st
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

// newPolicies returns the per-host parts and pipelines of cfg for a
// Client (with limit, its attempt timeout, or nil) or, when manual, for a
// Transport, which times, records and settles each call with the breaker
// by hand, when the response body ends: its table composes only Retry and
// Hedge. At most dependency.MaxKeys hosts are kept (see
// [Config.Breaker]).
func newPolicies[T any](cfg *Config, limit resilience.Policy[T], manual bool, discard func(T)) *dependency.Table[T] {
	c := dependency.Config[T]{
		Discard: discard,
		Breaker: breakerSettings(cfg.Breaker),
		Manual:  manual,
		Retry:   cfg.Retry,
		Hedge:   cfg.Hedge,
		Budget:  cfg.Budget,
		Timeout: limit,
	}
	if cfg.Metrics != nil && !manual {
		c.Monitor = monitor.Monitor[T](cfg.Metrics)
	}
	c.Adaptive, _ = cfg.adaptiveConfig() // validated when the Client or Transport was made
	return dependency.New(c)
}
