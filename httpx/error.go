package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// StatusError reports a response whose status code is not 2xx. The calls
// that return it also return the *APIResponse, so the body and headers of
// the error response can be read. Test for it with [errors.As]:
//
//	var se *httpx.StatusError
//	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound { ... }
type StatusError struct {
	Method     string // the request method, e.g. "GET"
	URL        string // the request URL, redacted (see "What errors show")
	StatusCode int    // e.g. 503
	// Wait is the delay the server asked for in a Retry-After header
	// (seconds or an HTTP date, never negative, at most 24h); zero when it
	// sent none.
	Wait time.Duration
}

// Error returns e.g. "httpx: GET https://api.example.com/x: 503 Service
// Unavailable (Retry-After 2s)".
func (e *StatusError) Error() string {
	msg := e.Method + " " + e.URL + ": " + strconv.Itoa(e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		msg += " " + text
	}
	if e.Wait > 0 {
		msg += " (Retry-After " + e.Wait.String() + ")"
	}
	return "httpx: " + msg
}

// Retryable reports whether the status is worth retrying: 408 Request
// Timeout, 429 Too Many Requests, and every 5xx except 501 Not Implemented
// (which a retry cannot change). The retry policy consults it.
func (e *StatusError) Retryable() bool {
	return retryableStatus(e.StatusCode)
}

// RetryAfter returns the delay the server asked for, or zero. The retry
// policy waits that long (capped by its MaxRetryAfter) instead of its own
// backoff, and gives up at once if the wait would pass the deadline.
func (e *StatusError) RetryAfter() time.Duration { return e.Wait }

func retryableStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return true
	case code == http.StatusNotImplemented:
		return false
	}
	return code >= 500 && code <= 599
}

// ErrBodyTooLarge is wrapped by the error returned when a response body is
// larger than the configured limit (10 MiB unless set otherwise). The body
// is not read past the limit, and the call is not retried.
var ErrBodyTooLarge = errors.New("httpx: response body too large")

// bodyTooLargeError says which URL sent too much and what the limit was.
type bodyTooLargeError struct {
	method, url string
	limit       int64
}

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("httpx: %s %s: response body larger than %d bytes", e.method, e.url, e.limit)
}

func (e *bodyTooLargeError) Unwrap() error { return ErrBodyTooLarge }

// Retryable is false: the same request would bring the same body.
func (e *bodyTooLargeError) Retryable() bool { return false }

// ErrInvalidURL is wrapped by the error returned for a URL that is empty,
// does not parse, has no host, or has a scheme other than http and https.
// No request is made.
var ErrInvalidURL = errors.New("httpx: invalid URL")

type invalidURLError struct {
	reason string
}

func (e *invalidURLError) Error() string {
	return "httpx: invalid URL: " + e.reason
}

func (e *invalidURLError) Unwrap() error { return ErrInvalidURL }

// redactErr makes an error of net/http (or of a base RoundTripper) for a
// request to u safe to print. A *url.Error gets u, redacted, as its URL
// (net/http keeps the user name and the query), and its Err goes through
// sanitize; any other error goes through sanitize. cause, when not nil, is
// the attempt context's cause: it is the caller's own, so it is kept.
func redactErr(err error, u *url.URL, cause error) error {
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: redactURL(u), Err: sanitize(ue.Err, cause)}
	}
	return sanitize(err, cause)
}

// sanitize returns err unchanged when every error in its chain is of a
// type whose text cannot carry a URL or a server's bytes (see safeNode).
// Otherwise it returns a *sanitizedError: err's text cut before anything
// that may be a URL or quoted input, which unwraps to the safe parts of
// err's chain, so errors.Is and errors.As still find them. A server can put
// any bytes in its Location header or its malformed response, and net/http
// quotes them.
func sanitize(err error, cause error) error {
	if cause != nil && !reflect.TypeOf(cause).Comparable() {
		cause = nil // safeNode compares with ==
	}
	if err == nil || safeChain(err, cause) {
		return err
	}
	s := &sanitizedError{msg: cutAtURL(err.Error()), retryable: retry.IsRetryable(err)}
	var ne interface{ Timeout() bool }
	s.timeout = errors.As(err, &ne) && ne.Timeout()
	collectSafe(err, cause, &s.kept)
	return s
}

// safeNode reports whether err's own text, leaving aside the errors it
// wraps, cannot carry a URL or bytes from the server: the context errors,
// EOFs, timeouts, network and TLS errors, and the errors of this package.
func safeNode(err error, cause error) bool {
	if err == cause {
		return true
	}
	switch err {
	case context.Canceled, context.DeadlineExceeded, io.EOF, io.ErrUnexpectedEOF:
		return true
	}
	switch e := err.(type) {
	case *net.OpError, *net.DNSError, *net.AddrError, *os.SyscallError, syscall.Errno,
		tls.RecordHeaderError, tls.AlertError, *tls.CertificateVerificationError,
		x509.UnknownAuthorityError, x509.HostnameError, x509.CertificateInvalidError,
		*timeout.Error, *StatusError, *bodyTooLargeError, *invalidURLError, *tooManyRedirectsError:
		return true
	case *url.Error:
		return false // it quotes a URL, timeout or not
	case interface{ Timeout() bool }:
		return e.Timeout() // net/http's own timeouts have fixed texts
	}
	return false
}

// safeChain reports whether err and everything it wraps is safeNode.
func safeChain(err error, cause error) bool {
	return !resilience.Walk(err, func(e error) bool { return !safeNode(e, cause) })
}

// collectSafe appends to kept the outermost parts of err's chain that are
// safeChain. Unlike resilience.Walk, it does not descend into a part it
// keeps, so it walks the tree itself.
func collectSafe(err error, cause error, kept *[]error) {
	for err != nil {
		if safeChain(err, cause) {
			*kept = append(*kept, err)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				collectSafe(e, cause, kept)
			}
			return
		default:
			return
		}
	}
}

// cutAtURL returns msg up to the first character that may start a URL, a
// credential or quoted input, without the separators left dangling.
func cutAtURL(msg string) string {
	if i := strings.IndexAny(msg, "\"'`@?#=%"); i >= 0 {
		msg = msg[:i]
	}
	if i := strings.Index(msg, "://"); i >= 0 {
		msg = msg[:i]
		if j := strings.LastIndexAny(msg, " \t:"); j >= 0 {
			msg = msg[:j+1] // the scheme too
		}
	}
	msg = strings.TrimRight(msg, " \t:,;")
	if msg == "" {
		return "request failed"
	}
	return msg
}

// sanitizedError stands for an error whose text may hold what must not be
// printed; see sanitize.
type sanitizedError struct {
	msg       string
	kept      []error
	retryable bool // what retry's default rule said of the original
	timeout   bool // whether the original was a timeout
}

func (e *sanitizedError) Error() string   { return e.msg }
func (e *sanitizedError) Unwrap() []error { return e.kept }

// Retryable keeps the original's verdict for the retry policy.
func (e *sanitizedError) Retryable() bool { return e.retryable }

// Timeout keeps the original's answer for net.Error and *url.Error.
func (e *sanitizedError) Timeout() bool { return e.timeout }

// maxRedirects is how many redirects a call follows, as net/http's default.
const maxRedirects = 10

// tooManyRedirectsError ends a call that was redirected more than
// maxRedirects times: a loop, which retrying would only repeat.
type tooManyRedirectsError struct{}

func (*tooManyRedirectsError) Error() string {
	return "httpx: stopped after " + strconv.Itoa(maxRedirects) + " redirects"
}

// Retryable is false: a redirect loop is not a transient fault.
func (*tooManyRedirectsError) Retryable() bool { return false }

// checkRedirect is the CheckRedirect of steady's http.Client and of a
// copy of a user's that has none: net/http's default policy, with an error
// that stops retries.
func checkRedirect(_ *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return &tooManyRedirectsError{}
	}
	return nil
}
