// Package httpx makes HTTP API calls that are safe against slow and failing
// servers: every call has a limit that covers the whole exchange, body
// included; failures worth retrying are retried with backoff, honouring
// Retry-After; bodies are read with a size limit; and errors say what
// happened without showing credentials.
//
// # The four API calls
//
// For one-off calls, four functions cover the common cases:
//
//	resp, err := httpx.APICallWithTimeout(ctx, url, 2*time.Second)
//	resp, err := httpx.APICallWithDeadline(ctx, url, deadline)
//	resp, err := httpx.APICallWithRetry(ctx, url, time.Second, 3) // ≤ 4 attempts
//	err := httpx.MonitoredOperation(ctx, time.Second, op)         // into monitor.Default
//
// Each GETs url and reads the whole body (up to 10 MiB) into an
// [APIResponse]. The limit covers DNS, connecting, TLS, the headers and the
// body. A non-2xx status returns the response together with a
// [*StatusError]. Bad input (an empty or unparsable URL, a scheme other
// than http or https, a limit <= 0, a negative retry count) fails at once,
// before any request.
//
// # Client and Transport
//
// A [Client] carries a whole pipeline, configured once by [Config]: a
// per-attempt timeout, retries, metrics, and a circuit breaker per upstream
// host, in the recommended order (Monitor, Breaker, Retry, Timeout). Make
// one per upstream service and reuse it.
//
// A [Transport] applies the same pipeline to any [http.Client] as an
// [http.RoundTripper], streaming bodies; use it to harden code (or a
// library) that already takes an *http.Client.
//
// # Deadlines across services
//
// A deadline set at the edge should hold across every service a request
// goes through, so that no service works on for a caller that has given
// up. With [Config.PropagateDeadline], a Client or Transport sends each
// attempt's time left (the caller's deadline or the attempt's own limit,
// whichever comes first) in the Grpc-Timeout header, in gRPC's grammar
// (1 to 8 digits and a unit: "300000u"), rounded down so it never says
// more time is left than there is. On the server, [Deadlines] gives each
// handler's context min(header - Offset, Max):
//
//	mux := http.NewServeMux() // whose handlers call on with a Client that propagates
//	srv := &http.Server{Handler: httpx.Deadlines(httpx.DeadlineConfig{
//		Max:    10 * time.Second,      // the longest any request runs
//		Offset: 5 * time.Millisecond,  // the way there and back
//		Trust:  httpx.TrustLoopback,   // or: requests from your own network
//	})(mux)}
//
// The header is believed only from requests Trust accepts: nil trusts no
// one, which is right for a service facing the Internet, where any client
// could send "99999999H" (years) or "0n". Even trusted, a header can only
// shorten Max, never extend it. An expired header ("0n", or no more than
// the Offset) is answered 504 at once, without calling the handler; a
// malformed one is ignored and logged. When the caller's deadline passes,
// the handler's context ends with the cause [ErrPropagatedDeadline]
// (context.Cause), so logs can tell it from the server's own Max. Each
// hop measures the time left from when the request arrives, so the time
// the request took on the way is not taken off unless Offset allows for
// it; on loopback that is about a millisecond a hop.
//
// # What is retried
//
// Connection errors, attempt timeouts, 408 Request Timeout, 429 Too Many
// Requests and 5xx except 501 Not Implemented. Not retried: other 4xx, the
// caller's cancellation or deadline, bodies too large, invalid input, and
// requests that are not idempotent (POST, PATCH) unless they carry an
// Idempotency-Key header or [Config.RetryNonIdempotent] is set. A
// Retry-After header, in seconds or as an HTTP date, sets the next wait
// (capped by the retry configuration's MaxRetryAfter); when that wait would
// pass the caller's deadline, the call ends at once with the last response
// and error instead of sleeping in vain.
//
// # Errors
//
//	var se *httpx.StatusError   // errors.As: a non-2xx status (StatusCode, RetryAfter)
//	var te *timeout.Error       // errors.As: a limit fired (also errors.Is context.DeadlineExceeded)
//	var re *retry.Error         // errors.As: retries gave up (Attempts), wrapping the last error
//	errors.Is(err, context.Canceled)     // the caller canceled
//	errors.Is(err, breaker.ErrOpen)      // the host's breaker rejected the call, fast
//	errors.Is(err, httpx.ErrBodyTooLarge)
//	errors.Is(err, httpx.ErrInvalidURL)
//
// # What errors show
//
// URLs in errors are redacted. The user name and password read REDACTED,
// and so does every query value, except those of a short allowlist of
// paging and ordering parameters (page, per_page, page_size, limit,
// offset, sort, order; names matched case-insensitively). "&" and ";" both
// separate parameters; a part without "=" is redacted whole. The fragment
// is dropped. Paths and hosts are shown: keep secrets out of them.
//
// A server chooses what net/http quotes in its errors (a Location header,
// a malformed response line), so an error from net/http is kept as it is
// only when every error in its chain is of a kind whose text cannot carry
// a URL: context errors, io.EOF, io.ErrUnexpectedEOF, timeouts, and net,
// TLS and x509 errors, and this package's own. Any other error's text is
// cut before the first quote, "://", "@", "?", "#", "=" or "%"; errors.Is
// and errors.As still find the kept errors of its chain.
//
// A redirect loop (more than 10 redirects) fails the call and is not
// retried. A Config.HTTPClient with a CheckRedirect of its own keeps it.
package httpx
