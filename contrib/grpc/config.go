package grpc

import (
	"log/slog"
	"time"

	"github.com/steadyhq/steady/internal/dependency"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// Config configures a [Client]. Its fields mean what httpx.Config's
// fields of the same names mean, for gRPC calls instead of HTTP requests,
// and each per-target part (breaker, hedger, adaptive limit, budget) is
// kept per ClientConn target (grpc.ClientConn.Target). The zero Config is
// valid: one attempt, no limit but the caller's context, no metrics and no
// breaker.
type Config struct {
	// Timeout bounds each attempt. The attempt's context carries the
	// least of the caller's deadline and Timeout, and gRPC sends that
	// deadline to the server. Zero means no limit per attempt (the
	// caller's context still bounds the call); negative is an error.
	Timeout time.Duration

	// AdaptiveTimeout, when not nil, replaces the fixed Timeout per
	// attempt with a limit each target learns from its own calls (see
	// timeout.NewAdaptive). Timeout, when set, is the ceiling:
	// AdaptiveTimeout.Max defaults to it and may not exceed it; without
	// Timeout, Max must be set. Retried and hedged attempts do not teach
	// the limit. With Hedge too, the learned limit bounds each hedged
	// group of attempts and each attempt keeps Timeout.
	// [Client.AdaptiveTimeouts] shows them.
	AdaptiveTimeout *timeout.AdaptiveConfig

	// Retry, when not nil, retries failed attempts with its backoff: the
	// codes UNAVAILABLE and RESOURCE_EXHAUSTED, and DEADLINE_EXCEEDED when
	// the attempt's own limit (Timeout or AdaptiveTimeout) fired while the
	// caller's context was live. The caller's deadline and cancellation
	// are never retried, and other codes are not. A server's
	// grpc-retry-pushback-ms trailer (gRFC A6) replaces the backoff for
	// that wait (capped by Retry.MaxRetryAfter; a wait that would pass the
	// caller's deadline ends the call instead), and a negative or
	// malformed one stops the retries. Leave gRPC's own retry policy (the
	// service config's retryPolicy) unset, or the two multiply.
	Retry *retry.Config

	// Metrics, when not nil, records every logical call: one record per
	// call, however many attempts it took, including calls the breaker
	// rejected.
	Metrics *monitor.Metrics

	// Breaker, when not nil, guards each target with a circuit breaker of
	// its own, made from these settings with Name set to the target.
	// Calls to a target whose breaker is open fail fast, without reaching
	// the server, with a status error of code UNAVAILABLE for which
	// errors.Is(err, breaker.ErrOpen) holds. Unless the settings have an
	// IsFailure of their own, only the codes UNKNOWN, DEADLINE_EXCEEDED,
	// RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE and DATA_LOSS count
	// against the target: the others (INVALID_ARGUMENT, NOT_FOUND, ...)
	// show that it is up. [Client.Breakers] shows them.
	Breaker *breaker.Settings

	// Hedge, when not nil, hedges each target's calls with a
	// hedge.Hedger of its own: when an attempt is slower than the
	// hedger's delay, a second one starts, and the first success wins;
	// the others are canceled. Each attempt decodes into a reply of its
	// own, and the winner's is copied into the caller's, so the reply
	// must be a proto.Message (a call whose reply is not is made without
	// hedges); header, trailer and peer call options get the winner's.
	// Hedging sits inside Retry and outside Timeout. Only methods that
	// are safe to send twice should be hedged (see Idempotent).
	// [Client.Hedgers] shows them.
	Hedge *hedge.Config

	// Budget bounds the retries and hedges of every target together: it
	// is asked before each extra attempt (see package budget). nil, the
	// default, gives each target a budget.Adaptive of its own when Retry
	// or Hedge is set, which lets retries through while at least half of
	// them succeed and clamps them during an outage. Set
	// budget.Unlimited() to retry without a budget, or a budget of your
	// own to share one. A Budget set on Retry or Hedge themselves takes
	// precedence for them. [Client.Budgets] shows the budgets in use.
	Budget budget.Budget

	// Idempotent, when not nil, reports whether a method (its full name,
	// "/package.Service/Method") may be sent more than once: only the
	// calls it accepts are retried and hedged, and the others get one
	// attempt (with the rest of the pipeline). nil: every method may.
	// gRPC's UNAVAILABLE can come after the server acted on a request
	// whose answer was lost, so say which methods are safe when some are
	// not. It must be safe for concurrent use and fast; a panic in it is
	// recovered, logged, and means no.
	Idempotent func(fullMethod string) bool

	// Logger receives a Debug record when a server's
	// grpc-retry-pushback-ms stops a retry. nil: log nothing.
	Logger *slog.Logger
}

// Validate returns nil if c is valid, or else its first bad field as a
// [*resilience.ConfigError], e.g. "grpc: Config.Timeout is -1s, want >=
// 0". [NewClient] calls it.
func (c Config) Validate() error {
	if err := c.settings().Validate(); err != nil {
		return err
	}
	return nil
}

// settings returns the fields c shares with the other clients' configs.
func (c Config) settings() dependency.Settings {
	return dependency.Settings{Pkg: "grpc", Timeout: c.Timeout, AdaptiveTimeout: c.AdaptiveTimeout,
		Retry: c.Retry, Breaker: c.Breaker, Hedge: c.Hedge, Budget: c.Budget}
}

// adaptiveConfig returns AdaptiveTimeout with Max defaulted to Timeout, or
// nil when there is none.
func (c Config) adaptiveConfig() (*timeout.AdaptiveConfig, error) { return c.settings().Adaptive() }
