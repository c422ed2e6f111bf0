package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// StatusError reports a response whose status code is not 2xx. The calls
// that return it also return the *APIResponse, so the body and headers of
// the error response can be read. Test for it with [errors.As]:
//
//	var se *httpx.StatusError
//	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound { ... }
type StatusError struct {
	Method     string // the request method, e.g. "GET"
	URL        string // the request URL, credentials redacted
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

// redactErr replaces the URL in the *url.Error that net/http returns with
// a redacted one. net/http strips the password but keeps the user name, and
// keeps query credentials. Other errors pass through unchanged.
func redactErr(err error, u *url.URL) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(u), Err: ue.Err}
}
