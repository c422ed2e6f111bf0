package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/steadyhq/steady/internal/dependency"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// Transport is an [http.RoundTripper] that sends each request through a
// pipeline of policies (see [Config]) on top of another RoundTripper, so
// that any http.Client, or a library that takes one, gains timeouts,
// retries, metrics and breakers:
//
//	t, err := httpx.NewTransport(nil, httpx.Config{Timeout: 2 * time.Second, Retry: &cfg})
//	client := &http.Client{Transport: t}
//
// Unlike [Client], a Transport keeps to the RoundTripper contract: it
// streams response bodies (MaxBodySize does not apply) and returns a
// response with a nil error whatever its status. A status that is retried
// (408, 429, 5xx except 501) is retried; when retries run out, the last
// such response is returned as it is. Short error bodies (up to 4 KiB) are
// read at once, so a response that waits out a backoff holds no connection;
// the body of every response the Transport does not return is drained a
// little and closed.
//
// A call ends when its response body does: the per-attempt Timeout covers
// the body, and the metrics and the host's breaker count the call when the
// body is read to its end, fails, or is closed, or when the attempt's limit
// or the caller's context ends first. So a body that stalls past the limit
// fails with a *timeout.Error and is counted as a timeout. Close every body
// you get, as with any RoundTripper. A 101 Switching Protocols response is
// a success when it arrives; its body is the connection, not wrapped.
//
// Each RoundTrip is one call: an http.Client that follows a redirect makes
// two. An http.Client.Timeout around a Transport is the caller's deadline to
// it, so calls it ends are not held against the host; set Config.Timeout
// for a limit that is.
//
// Requests are never modified: each attempt sends a clone, with the body
// replayed through GetBody. A Transport is safe for concurrent use.
type Transport struct {
	base  http.RoundTripper
	cfg   Config
	limit *timeout.Limit // the per-attempt Timeout; nil for none
	pipe  *dependency.Table[*http.Response]
}

// NewTransport returns a Transport that sends requests through base (nil
// means a transport of steady's own, tuned for API calls) under the
// policies of cfg, or a *resilience.ConfigError naming the first invalid
// field. cfg.MaxBodySize and cfg.HTTPClient do not apply to a Transport.
func NewTransport(base http.RoundTripper, cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Hedge != nil && cfg.AdaptiveTimeout != nil {
		// A Transport's learned limit covers each attempt, body and all;
		// with hedges it would learn only from the attempts no hedge
		// overtook, and drift down.
		return nil, &resilience.ConfigError{Pkg: "httpx", Field: "Config.AdaptiveTimeout", Value: "set with Config.Hedge", Want: "one of the two for a Transport (a Client takes both)"}
	}
	if cfg.Retry != nil {
		r := *cfg.Retry
		cfg.Retry = &r
	}
	if base == nil {
		base = defaultHTTPClient.Transport
	}
	t := &Transport{base: base, cfg: cfg}
	if cfg.Timeout > 0 {
		t.limit = timeout.NewLimit(cfg.Timeout)
	}
	t.pipe = newPolicies[*http.Response](&t.cfg, nil, true, drainResp) // drains a hedge's losing response
	return t, nil
}

// Breakers returns the circuit breakers the Transport keeps (see
// [Config.Breaker]), by host. It is empty when Config.Breaker is nil.
func (t *Transport) Breakers() map[string]*breaker.CircuitBreaker {
	return t.pipe.Breakers()
}

// Hedgers returns the hedgers the Transport keeps (see [Config.Hedge]), by
// host. It is empty when Config.Hedge is nil.
func (t *Transport) Hedgers() map[string]*hedge.Hedger {
	return t.pipe.Hedgers()
}

// AdaptiveTimeouts returns the adaptive limits the Transport keeps (see
// [Config.AdaptiveTimeout]), by host, as [Client.AdaptiveTimeouts] does.
func (t *Transport) AdaptiveTimeouts() map[string]*timeout.Adaptive {
	return t.pipe.Adaptives()
}

// Budgets returns the retry budgets the Transport uses (see
// [Config.Budget]), by host, as [Client.Budgets] does.
func (t *Transport) Budgets() map[string]budget.Budget {
	return t.pipe.Budgets()
}

// RoundTrip sends req through the pipeline. It returns a response with a
// nil error when any attempt got one (whatever its status), and otherwise
// the error of the pipeline: a *timeout.Error, a *retry.Error, an error
// matching breaker.ErrOpen, the caller's context error, or the error of
// the base RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil || req.URL == nil {
		closeRequestBody(req)
		return nil, &resilience.ConfigError{Pkg: "httpx", Field: "req", Want: "a request with a URL"}
	}
	if err := checkURL(req.URL); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	h, err := t.pipe.For(req.URL.Host)
	if err != nil {
		closeRequestBody(req)
		return nil, err
	}
	ctx := req.Context()
	c := &outcome{ctx: ctx, metrics: t.cfg.Metrics, host: h, start: time.Now(), wasDone: ctx.Err() != nil}
	if h.Breaker != nil {
		if c.ticket, err = h.Breaker.Wait(ctx); err != nil {
			closeRequestBody(req)
			c.settle(err)
			return nil, err
		}
	}
	why := noRetry(req, &t.cfg)
	rt := &roundTrip{t: t, req: req, retries: why == "" && t.cfg.Retry != nil, hedged: why == "" && h.Hedger != nil, adaptive: h.Adaptive}
	resp, err := h.Pipe(why == "")(rt.attempt)(ctx)
	logNotRetried(ctx, &t.cfg, req, why, err)
	last, attempts := rt.finish()
	if err != nil {
		c.settle(err)
		var se *StatusError
		if last != nil && ctx.Err() == nil && errors.As(err, &se) {
			// The RoundTripper contract: a response, whatever its
			// status, is not an error. Hand over the last one.
			return last, nil
		}
		// An attempt returns a response with an error only as rt.last.
		drainResp(last)
		if attempts == 0 {
			closeRequestBody(req)
		}
		return nil, err
	}
	if last != resp {
		drainResp(last) // an error response of an attempt that lost to resp
	}
	if b, ok := resp.Body.(*attemptBody); ok {
		b.settleWith(c) // the call ends with the body
	} else {
		c.settle(nil) // a protocol switch: the call is made
	}
	return resp, nil
}

// closeRequestBody keeps the RoundTripper promise to close the request
// body, even on errors, when no attempt was made to do it.
func closeRequestBody(req *http.Request) {
	if req != nil && req.Body != nil {
		_ = req.Body.Close()
	}
}

// outcome is one RoundTrip's account with the metrics and the host's
// breaker, settled once, when the call ends.
type outcome struct {
	ctx     context.Context // the caller's
	metrics *monitor.Metrics
	host    *dependency.Parts[*http.Response]
	ticket  breaker.Ticket
	start   time.Time
	wasDone bool // the caller's context was done before the call began
	once    sync.Once
}

// settle records the call's end with err (nil: success), once. A second
// settle waits for the first to finish, so that a caller who got the body's
// error finds it counted.
func (c *outcome) settle(err error) {
	if c == nil {
		return
	}
	c.once.Do(func() { c.record(err) })
}

func (c *outcome) record(err error) {
	c.ticket.Done(c.ctx, err)
	if c.metrics != nil {
		o := resilience.Classify(c.ctx, err)
		if o == resilience.OutcomeDeadline && c.wasDone {
			o = resilience.OutcomeRejected // as monitor.Monitor counts it
		}
		c.metrics.RecordContext(c.ctx, time.Since(c.start), o)
	}
	c.host.Release()
}

// roundTrip is the state of one RoundTrip's attempts. Hedged attempts run
// at once, so its counts are guarded by mu.
type roundTrip struct {
	t        *Transport
	req      *http.Request
	retries  bool              // a failed attempt may be followed by another
	hedged   bool              // attempts may run at once (Config.Hedge)
	adaptive *timeout.Adaptive // the host's learned limit, or nil

	mu       sync.Mutex
	attempts int
	last     *http.Response // a retryable response not yet returned
	finished bool           // RoundTrip has taken last: later ones are drained
}

// begin counts an attempt and returns its number. Without hedges, a new
// attempt means the previous response is discarded: drain it so its
// connection goes back to the pool.
func (rt *roundTrip) begin() int {
	rt.mu.Lock()
	rt.attempts++
	n := rt.attempts
	var old *http.Response
	if !rt.hedged {
		old, rt.last = rt.last, nil
	}
	rt.mu.Unlock()
	drainResp(old)
	return n
}

// keep makes resp the response RoundTrip hands back if every attempt
// fails, draining the one it replaces; after RoundTrip has finished, resp
// is drained at once.
func (rt *roundTrip) keep(resp *http.Response) {
	rt.mu.Lock()
	old := resp
	if !rt.finished {
		old, rt.last = rt.last, resp
	}
	rt.mu.Unlock()
	drainResp(old)
}

// finish returns the last response kept and the attempts made; responses
// kept after it are drained.
func (rt *roundTrip) finish() (*http.Response, int) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.finished = true
	return rt.last, rt.attempts
}

func (rt *roundTrip) attempt(ctx context.Context) (*http.Response, error) {
	n := rt.begin()
	req := rt.req
	cancel := context.CancelFunc(func() {})
	var follow func() bool
	if rt.hedged {
		ctx, cancel, follow = detach(ctx, req.Context())
	}
	wrap := rt.t.limitError
	switch {
	case rt.adaptive != nil:
		var end func(error) error
		ctx, end = rt.adaptive.Start(ctx)
		release := cancel
		cancel = func() { _ = end(nil); release() }
		wrap = func(_ context.Context, err error) error { return end(err) }
	case rt.t.limit != nil:
		var stop context.CancelFunc
		ctx, stop = rt.t.limit.Start(ctx)
		release := cancel
		cancel = func() { stop(); release() }
	}
	r, err := attemptRequest(ctx, req, n, &rt.t.cfg)
	if err != nil {
		cancel()
		return nil, err
	}
	if rt.hedged && rt.t.cfg.PropagateDeadline {
		setDeadlineHeader(r, ctx, req.Context()) // ctx is detached from the caller's
	}
	resp, err := rt.t.base.RoundTrip(r)
	if follow != nil && err == nil && resp.StatusCode < 400 {
		// The response may win: from now on only the caller (and the
		// body's end) ends its context, not the hedge's return. If it
		// loses, the hedge drains it. (An error status cannot win: its
		// short body is read first, still under the hedge's context, so
		// that a winning hedge can cut a stalled read short.)
		follow()
	}
	if err != nil {
		err = wrap(ctx, redactErr(err, req.URL, context.Cause(ctx)))
		cancel()
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		// The body is the connection, an io.ReadWriteCloser that must
		// not be wrapped. The attempt's limit stops covering it.
		return resp, nil
	case resp.StatusCode >= 400:
		// An error status goes through the pipeline as a *StatusError,
		// so that retry, the breaker and the metrics see it; RoundTrip
		// still hands the response back, as a RoundTripper must.
		if rt.retries || rt.hedged {
			holdErrorBody(ctx, resp, cancel, wrap)
			if follow != nil {
				follow() // a longer body is handed on as a stream
			}
		} else {
			resp.Body = &attemptBody{ReadCloser: resp.Body, ctx: ctx, cancel: cancel, wrap: wrap}
		}
		rt.keep(resp)
		return resp, newStatusError(req, resp)
	}
	resp.Body = &attemptBody{ReadCloser: resp.Body, ctx: ctx, cancel: cancel, wrap: wrap}
	return resp, nil
}

// detach returns the context of one hedged attempt: it has attempt's
// values, and it ends when caller ends, or when attempt ends before follow
// is called. The hedge policy ends attempt when the call returns, which
// would cut the winning response's body short; follow, called once the
// response is in, lets the body outlive it. cancel releases everything.
func detach(attempt, caller context.Context) (ctx context.Context, cancel context.CancelFunc, follow func() bool) {
	ctx, end := context.WithCancelCause(context.WithoutCancel(attempt))
	stopCaller := context.AfterFunc(caller, func() { end(context.Cause(caller)) })
	follow = context.AfterFunc(attempt, func() { end(context.Cause(attempt)) })
	return ctx, func() {
		stopCaller()
		follow()
		end(context.Canceled)
	}, follow
}

// holdErrorBody reads an error response's body into memory when it is
// short (as they usually are), and releases the connection and the
// attempt's context at once: the response may wait out a backoff, longer
// than the attempt's limit, before it is discarded or returned. A longer
// body keeps streaming after the part already read.
func holdErrorBody(ctx context.Context, resp *http.Response, cancel context.CancelFunc, wrap func(context.Context, error) error) {
	raw := resp.Body
	data, err := io.ReadAll(io.LimitReader(raw, drainLimit+1))
	if err == nil && len(data) <= drainLimit {
		_ = raw.Close()
		cancel()
		resp.Body = io.NopCloser(bytes.NewReader(data))
		return
	}
	rest := io.Reader(raw)
	if err != nil {
		rest = errReader{err}
	}
	resp.Body = &attemptBody{
		ReadCloser: struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(data), rest), raw},
		ctx: ctx, cancel: cancel, wrap: wrap,
	}
}

// errReader returns err from every Read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// limitError returns err as a *timeout.Error when the attempt's own limit
// fired on ctx, and unchanged otherwise.
func (t *Transport) limitError(ctx context.Context, err error) error {
	if t.limit == nil {
		return err
	}
	return t.limit.Err(ctx, err)
}

func drainResp(resp *http.Response) {
	if resp != nil {
		drain(resp.Body)
	}
}

// attemptBody keeps an attempt's context alive while the caller reads the
// body, and releases it at the end of the body or on Close. The body of the
// response RoundTrip returns as a success also settles the call's outcome
// then, or when the attempt's context ends first (its limit fired, or the
// caller gave up) while the body was left unread.
type attemptBody struct {
	io.ReadCloser
	ctx     context.Context
	cancel  context.CancelFunc
	wrap    func(context.Context, error) error // the attempt limit's error, if it fired
	outcome *outcome                           // nil for a body that settles nothing
	stop    func() bool                        // stops the settling on the context's end
}

// settleWith makes the body settle c when it ends.
func (b *attemptBody) settleWith(c *outcome) {
	b.outcome = c
	b.stop = context.AfterFunc(b.ctx, func() {
		// Settled already (the body ended first, and canceled the
		// context), or the body was left unread past the context's end.
		c.settle(b.wrap(b.ctx, context.Cause(b.ctx)))
	})
}

// end settles the call with err, then releases the attempt's context. In
// this order, so that the context's end does not settle it first.
func (b *attemptBody) end(err error) {
	if b.outcome != nil {
		b.stop()
		b.outcome.settle(err)
	}
	b.cancel()
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.end(nil) // the whole body is in: nothing left to bound
	case err != nil:
		err = b.wrap(b.ctx, sanitize(err, context.Cause(b.ctx)))
		b.end(err)
	}
	return n, err
}

// Close closes the body. A body closed before its end is the caller's
// choice: the call counts as a success.
func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.end(nil)
	return err
}

var _ http.RoundTripper = (*Transport)(nil)
