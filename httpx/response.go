package httpx

import (
	"net/http"
	"time"
)

// APIResponse is the result of an API call: the status, the headers and the
// whole body, read into memory.
//
// It is returned with a nil error for a 2xx status and, for any other
// status, together with a [*StatusError], so the error response can be
// inspected.
type APIResponse struct {
	StatusCode int         // e.g. 200
	Header     http.Header // the response headers
	Body       []byte      // the whole body, at most the client's size limit
	// Attempts is how many requests were sent: 1 without retries.
	Attempts int
	// Duration is the time the whole call took, retries and waits
	// included.
	Duration time.Duration
}
