package httpx

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steadyhq/steady/internal/dependency"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/timeout"
)

// Client makes API calls through a pipeline of policies (see [Config]): it
// sends a request, reads the whole response body into an [APIResponse], and
// turns a non-2xx status into a [*StatusError].
//
// A Client is safe for concurrent use and should be made once and reused:
// it holds the breakers of the hosts it calls and, through its http.Client,
// a pool of connections.
type Client struct {
	hc      *http.Client
	cfg     Config
	maxBody int64
	pipe    *dependency.Table[*APIResponse]
}

// NewClient returns a Client configured by cfg, or a *resilience.ConfigError
// naming the first invalid field.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Retry != nil {
		r := *cfg.Retry // a private copy: the caller may change theirs
		cfg.Retry = &r
	}
	c := &Client{hc: cfg.HTTPClient, cfg: cfg, maxBody: cfg.MaxBodySize}
	switch {
	case c.hc == nil:
		c.hc = defaultHTTPClient
	case c.hc.CheckRedirect == nil:
		hc := *c.hc // a copy: the caller's client is theirs
		hc.CheckRedirect = checkRedirect
		c.hc = &hc
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxBodySize
	}
	var limit resilience.Policy[*APIResponse]
	if cfg.Timeout > 0 {
		limit = timeout.WithTimeout[*APIResponse](cfg.Timeout)
	}
	c.pipe = newPolicies(&c.cfg, limit, false, nil)
	return c, nil
}

// defaultHTTPClient is shared by every Client made without an HTTPClient,
// so that they share one connection pool. It has no Timeout: limits come
// from the policies, through the request's context.
var defaultHTTPClient = &http.Client{Transport: newDefaultTransport(), CheckRedirect: checkRedirect}

func newDefaultTransport() *http.Transport {
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20, // net/http's default, 10 MiB, is no API's
	}
}

// Get fetches rawURL with a GET request. See [Client.Do].
func (c *Client) Get(ctx context.Context, rawURL string) (*APIResponse, error) {
	if ctx == nil {
		return nil, resilience.ErrNilContext
	}
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return c.get(ctx, u)
}

// get GETs the checked URL u. The request is built from u itself, not
// from its string, which would be parsed again (and quoted in full in the
// error, should that fail).
func (c *Client) get(ctx context.Context, u *url.URL) (*APIResponse, error) {
	uc := *u
	uc.Host = strings.TrimSuffix(uc.Host, ":") // as http.NewRequest does
	req := (&http.Request{
		Method:     http.MethodGet,
		URL:        &uc,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
		Host:       uc.Host,
	}).WithContext(ctx)
	return c.do(ctx, req)
}

// Do sends req through the Client's pipeline and reads the whole response.
// ctx bounds the whole call, retries and waits included; req's own context
// is replaced by it.
//
// For a 2xx status Do returns the response and a nil error. For any other
// status it returns the response too, with a [*StatusError]. When retries
// are configured the response is the last attempt's. Any other error comes
// with a nil response: in particular a body that could not be read whole
// (a timeout, a broken connection, [ErrBodyTooLarge]) is never returned cut
// short. Invalid input (a nil ctx or request, a URL that is not absolute
// http or https) fails at once, without a request; [ErrInvalidURL] marks a
// bad URL. Like http.Client.Do, Do closes req.Body, even on errors.
//
// Requests whose method is not idempotent, or whose body cannot be
// replayed, are sent once (see [Config.RetryNonIdempotent]).
func (c *Client) Do(ctx context.Context, req *http.Request) (*APIResponse, error) {
	if ctx == nil {
		closeRequestBody(req)
		return nil, resilience.ErrNilContext
	}
	if req == nil {
		return nil, &resilience.ConfigError{Pkg: "httpx", Field: "req", Want: "a non-nil *http.Request"}
	}
	if err := checkURL(req.URL); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	return c.do(ctx, req)
}

// do is Do for a request whose URL has been checked. Like http.Client.Do,
// it closes req.Body, even on errors.
func (c *Client) do(ctx context.Context, req *http.Request) (*APIResponse, error) {
	start := time.Now()
	why := noRetry(req, &c.cfg)
	h, err := c.pipe.For(req.URL.Host)
	if err != nil {
		closeRequestBody(req)
		return nil, err
	}
	defer h.Release()
	cl := &call{c: c, req: req}
	resp, err := h.Pipe(why == "")(cl.attempt)(ctx)
	logNotRetried(ctx, &c.cfg, req, why, err)
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.attempts == 0 {
		closeRequestBody(req) // rejected before any attempt: nobody else will
	}
	if resp == nil && err != nil {
		resp = cl.last
	}
	if resp != nil {
		resp.Attempts = cl.attempts
		resp.Duration = time.Since(start)
	}
	return resp, err
}

// Budgets returns the retry budgets the Client uses (see [Config.Budget]),
// by host: each host's own Adaptive budget by default, or Config.Budget
// under every host it has served. Under "" when they are not kept per host.
// It is empty when neither Retry nor Hedge is set.
func (c *Client) Budgets() map[string]budget.Budget {
	return c.pipe.Budgets()
}

// AdaptiveTimeouts returns the adaptive limits the Client keeps (see
// [Config.AdaptiveTimeout]), by host. It is empty when AdaptiveTimeout is
// nil.
func (c *Client) AdaptiveTimeouts() map[string]*timeout.Adaptive {
	return c.pipe.Adaptives()
}

// Hedgers returns the hedgers the Client keeps (see [Config.Hedge]), by
// host. It is empty when Config.Hedge is nil.
func (c *Client) Hedgers() map[string]*hedge.Hedger {
	return c.pipe.Hedgers()
}

// Breakers returns the circuit breakers the Client keeps (see
// [Config.Breaker]), by host. It is empty when Config.Breaker is nil.
func (c *Client) Breakers() map[string]*breaker.CircuitBreaker {
	return c.pipe.Breakers()
}

// call is the state of one Client.Do: the attempts made and the last
// response read, which is returned with the error when a policy that gave
// up did not pass the response on. Hedged attempts run at once, so it is
// guarded by mu.
type call struct {
	c        *Client
	req      *http.Request
	mu       sync.Mutex
	attempts int
	last     *APIResponse
}

func (cl *call) attempt(ctx context.Context) (*APIResponse, error) {
	cl.mu.Lock()
	cl.attempts++
	n := cl.attempts
	cl.mu.Unlock()
	req := cl.req
	r, err := attemptRequest(ctx, req, n, &cl.c.cfg)
	if err != nil {
		return nil, err
	}
	resp, err := cl.c.hc.Do(r)
	if err != nil {
		return nil, redactErr(err, req.URL, context.Cause(ctx))
	}
	declared := resp.ContentLength
	if req.Method == http.MethodHead {
		declared = -1 // the length of the body a GET would have brought
	}
	body, tooLarge, err := readBody(resp.Body, declared, cl.c.maxBody)
	_ = resp.Body.Close()
	switch {
	case tooLarge:
		return nil, &bodyTooLargeError{method: req.Method, url: redactURL(req.URL), limit: cl.c.maxBody}
	case err != nil:
		// No response: its body would be cut short, and a caller that
		// checks resp != nil must not take it for the whole.
		return nil, fmt.Errorf("httpx: %s %s: reading the body: %w", req.Method, redactURL(req.URL), sanitize(err, context.Cause(ctx)))
	}
	ar := &APIResponse{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	cl.mu.Lock()
	cl.last = ar
	cl.mu.Unlock()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return ar, newStatusError(req, resp)
	}
	return ar, nil
}

func newStatusError(req *http.Request, resp *http.Response) *StatusError {
	se := &StatusError{Method: req.Method, URL: redactURL(req.URL), StatusCode: resp.StatusCode}
	if v := resp.Header.Get("Retry-After"); v != "" {
		se.Wait, _ = parseRetryAfter(v, time.Now(), maxRetryAfter)
	}
	return se
}

// ParseURL parses raw and checks it the way every call of this package
// does before sending anything: an absolute http or https URL with a host
// and, if given, a port from 1 to 65535, whose string form parses back to
// the same URL. Its errors wrap [ErrInvalidURL]
// and never repeat raw, which may hold a credential in a place redaction
// cannot recognise (a forgotten scheme or host turns "user:password@host"
// into a scheme and an opaque part, or "http://user:12345678/" into a host
// and a port). Use it to check a configured URL at start-up.
func ParseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, &invalidURLError{reason: "empty"}
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Not err itself: url.Parse quotes the whole input, credentials
		// and all.
		reason := "does not parse"
		if ue, ok := err.(*url.Error); ok {
			reason += ": " + unquote(ue.Err.Error())
		}
		return nil, &invalidURLError{reason: reason}
	}
	if err := checkURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkURL rejects what http.Client would reject with an untyped error,
// so that we never have to classify one.
//
// The error never repeats the URL: a URL that does not have the shape it
// should may hold a credential where redaction cannot recognise it.
// "user:password@host", with its scheme forgotten, parses as scheme "user"
// with an opaque "password@host", and "http://user:12345678/", with its
// host forgotten, as host "user" with port "12345678".
func checkURL(u *url.URL) error {
	switch {
	case u == nil:
		return &invalidURLError{reason: "nil"}
	case u.Opaque != "" || (u.Scheme != "" && u.Host == ""):
		return &invalidURLError{reason: "not an absolute http or https URL (is the scheme or the host missing?)"}
	case u.Scheme == "":
		return &invalidURLError{reason: "no scheme, want http or https"}
	case u.Scheme != "http" && u.Scheme != "https":
		// Safe to show: it was followed by "//".
		return &invalidURLError{reason: fmt.Sprintf("scheme %q is not supported, want http or https", u.Scheme)}
	case u.Hostname() == "":
		return &invalidURLError{reason: "no host"}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return &invalidURLError{reason: "port is not a number from 1 to 65535"}
		}
	}
	// net/http sends, and quotes in its errors, u.String(): it must parse
	// back to the same URL.
	s := u.String()
	if v, err := url.Parse(s); err != nil || v.String() != s {
		return &invalidURLError{reason: "does not parse back from its string form"}
	}
	return nil
}

// unquote keeps what a url.Parse error message says before it starts
// quoting the input ("invalid port", "invalid URL escape"), since the quoted
// part repeats pieces of the URL (a "port" that is really a password, say).
func unquote(msg string) string {
	if i := strings.IndexByte(msg, '"'); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return msg
}
