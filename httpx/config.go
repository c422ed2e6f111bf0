package httpx

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/steadyhq/steady/internal/dependency"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// Config configures a [Client] or a [Transport]. The zero Config is valid:
// one attempt, no limit but the caller's context, bodies up to 10 MiB, no
// metrics and no breaker.
type Config struct {
	// Timeout bounds each attempt: connecting, sending the request, waiting
	// for the response and reading the whole body. Zero means no limit per
	// attempt (the caller's context still bounds the call); negative is an
	// error.
	Timeout time.Duration

	// AdaptiveTimeout, when not nil, replaces the fixed Timeout per
	// attempt with a limit each host learns from its own calls (see
	// timeout.NewAdaptive): the limit that about TargetRate of attempts
	// exceed, learned only from whether attempts timed out, so that a
	// dependency that slows down raises its limit rather than failing at
	// the old one. Timeout, when set, is the ceiling: AdaptiveTimeout.Max
	// defaults to it and may not exceed it; without Timeout, Max must be
	// set. Retried attempts do not teach the limit. With Hedge too, a
	// Client's learned limit bounds each hedged group of attempts, and
	// each attempt keeps Timeout; a Transport takes only one of the two.
	// Client.AdaptiveTimeouts and Transport.AdaptiveTimeouts show them.
	AdaptiveTimeout *timeout.AdaptiveConfig

	// Retry, when not nil, retries failed attempts with its backoff:
	// connection errors, attempt timeouts, 408, 429 and 5xx except 501.
	// Other 4xx, the caller's cancellation and invalid input are not
	// retried. A Retry-After header (seconds or HTTP date) replaces the
	// backoff for that wait, capped by Retry.MaxRetryAfter; a wait that
	// would pass the caller's deadline ends the call at once instead.
	// Retry.OnRetry, if set, is called as usual.
	Retry *retry.Config

	// RetryNonIdempotent allows retrying requests whose method is not
	// idempotent (POST, PATCH, CONNECT). Without it they are retried only
	// when they carry an Idempotency-Key header. A request with a body is
	// retried only if it can be replayed (http.Request.GetBody is set, as
	// http.NewRequest does for in-memory bodies).
	RetryNonIdempotent bool

	// Metrics, when not nil, records every logical call: one record per
	// call, however many attempts it took, including calls the breaker
	// rejected.
	Metrics *monitor.Metrics

	// Breaker, when not nil, guards each upstream host (host:port) with a
	// circuit breaker of its own, made from these settings with Name set to
	// the host. Calls to a host whose breaker is open fail fast with an
	// error for which errors.Is(err, breaker.ErrOpen) holds, or, with
	// MaxWaiting set, wait for the host's recovery within their deadline
	// (holding no connection meanwhile; see breaker.Settings.MaxWaiting).
	// A call that is the probe returns the probe's answer: it is never
	// sent twice.
	// Unless the settings have an IsFailure of their own, a 4xx other than
	// 408 and 429 and a body over MaxBodySize do not count against the
	// host: they show it is up.
	//
	// Breakers are kept for about 1024 hosts: a call to a new host past
	// that forgets the least recently used host that has no call in
	// flight, preferring one whose breaker is closed (called again, it
	// starts afresh). An open or half-open breaker is forgotten only when
	// every idle host's breaker is, so a sick host is not called at full
	// rate again while there is another choice, and the table stays
	// bounded; it exceeds 1024 only while more hosts have calls in flight.
	Breaker *breaker.Settings

	// Hedge, when not nil, hedges the attempts of idempotent requests
	// (those Retry may retry; see RetryNonIdempotent) with a hedge.Hedger
	// of each host's own: when an attempt is slower than the hedger's
	// delay, a second one starts, and the first response wins (an error
	// status does not win; it waits for the other attempts). Each attempt
	// has its own Timeout and replays the body; an attempt that loses is
	// canceled, and its response body drained and closed. The winner's
	// body, which a Transport hands back unread, stays readable after the
	// losers are canceled. Hedging sits inside Retry, so a retry is one
	// hedged attempt, and outside Timeout. With the default adaptive
	// delay, each host learns the delay that hedges about
	// Hedge.TargetRate of its calls. Client.Hedgers and Transport.Hedgers
	// show them.
	Hedge *hedge.Config

	// Budget bounds the retries and hedges of every host together: it is
	// asked before each extra attempt (see package budget). nil, the
	// default, gives each host a budget of its own when Retry or Hedge is
	// set: budget.NewAdaptive(budget.AdaptiveConfig{}), which lets retries
	// through while at least half of them succeed (a transient fault: 30%
	// random 503s still get about 99% of calls through) and clamps them
	// once more than half fail (an outage: about 1.01 attempts per call
	// instead of MaxAttempts). Set budget.Unlimited() to retry without a
	// budget, or a budget of your own to share one across hosts or
	// Clients. A Budget set on Retry or Hedge themselves takes precedence
	// for them. [Client.Budgets] shows the budgets in use.
	Budget budget.Budget

	// PropagateDeadline sends each attempt's time left, the least of the
	// caller's deadline and the attempt's own limit, to the server in the
	// [DeadlineHeader] (Grpc-Timeout) header, rounded down so that it never
	// says more time is left than there is (see [Deadlines] for the server
	// side). A request without a deadline goes without the header (one set
	// by the caller is kept); with one, the header replaces the caller's.
	PropagateDeadline bool

	// MaxBodySize is the largest response body a Client reads into memory,
	// in bytes. Zero means [DefaultMaxBodySize] (10 MiB); negative is an
	// error. A larger body fails the call with [ErrBodyTooLarge]. A
	// Transport streams bodies and ignores it.
	MaxBodySize int64

	// Logger receives a Debug record when a failed request that Retry
	// would have retried is not, because its method is not idempotent or
	// its body cannot be replayed. nil: log nothing.
	Logger *slog.Logger

	// HTTPClient is the client a Client sends requests with. Nil means a
	// client of steady's own, with a transport tuned for API calls (pooled
	// connections, HTTP/2, response headers up to 1 MiB, no overall
	// Timeout: the policies set limits through the context). Its Timeout,
	// if set, still applies. Without a CheckRedirect of its own, a copy of
	// it with steady's is used (see "What errors show"). A Transport
	// ignores it.
	HTTPClient *http.Client
}

// Validate returns nil if c is valid, or else its first bad field as a
// [*resilience.ConfigError], e.g. "httpx: Config.Timeout is -1s, want >= 0".
// [NewClient] and [NewTransport] call it; use it on configuration read at
// run time.
func (c Config) Validate() error {
	if err := c.settings().Validate(); err != nil {
		return err
	}
	if c.MaxBodySize < 0 {
		return &resilience.ConfigError{Pkg: "httpx", Field: "Config.MaxBodySize", Value: c.MaxBodySize, Want: ">= 0"}
	}
	return nil
}

// settings returns the fields c shares with the other clients' configs.
func (c Config) settings() dependency.Settings {
	return dependency.Settings{Pkg: "httpx", Timeout: c.Timeout, AdaptiveTimeout: c.AdaptiveTimeout,
		Retry: c.Retry, Breaker: c.Breaker, Hedge: c.Hedge, Budget: c.Budget}
}

// adaptiveConfig returns AdaptiveTimeout with Max defaulted to Timeout, or
// nil when there is none.
func (c Config) adaptiveConfig() (*timeout.AdaptiveConfig, error) { return c.settings().Adaptive() }

// noRetry returns why req may not be sent more than once, or "" when it
// may: its method is idempotent (or the Config or an Idempotency-Key header
// says retrying is safe), and its body, if any, can be replayed.
func noRetry(req *http.Request, cfg *Config) string {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return "the request body cannot be replayed (no GetBody)"
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return ""
	}
	if cfg.RetryNonIdempotent || req.Header.Get("Idempotency-Key") != "" {
		return ""
	}
	return "method " + req.Method + " is not idempotent (set an Idempotency-Key header or Config.RetryNonIdempotent)"
}

// logNotRetried logs at Debug that a failed call was not retried, and why,
// when retries are configured and the failure was one they would retry.
func logNotRetried(ctx context.Context, cfg *Config, req *http.Request, why string, err error) {
	l := cfg.Logger
	if l == nil || why == "" || cfg.Retry == nil || err == nil || ctx.Err() != nil || !retry.IsRetryable(err) {
		return
	}
	l.LogAttrs(ctx, slog.LevelDebug, "httpx: failed request not retried",
		slog.String("method", req.Method),
		slog.String("url", redactURL(req.URL)),
		slog.String("reason", why),
		slog.Any("err", err),
	)
}

// attemptRequest returns the request for attempt n (from 1) of req, with
// ctx: a clone, so req is never modified, whose body is replayed through
// GetBody after the first attempt, and which carries the time left on ctx
// when cfg.PropagateDeadline is set.
func attemptRequest(ctx context.Context, req *http.Request, n int, cfg *Config) (*http.Request, error) {
	r := req.Clone(ctx)
	if cfg.PropagateDeadline {
		setDeadlineHeader(r, ctx)
	}
	if n > 1 && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, retry.Permanent(fmt.Errorf("httpx: %s %s: replaying the request body: %w", req.Method, redactURL(req.URL), err))
		}
		r.Body = body
	}
	return r, nil
}
