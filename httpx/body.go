package httpx

import (
	"bytes"
	"io"
	"math"
)

// DefaultMaxBodySize is the largest response body the API calls read into
// memory unless configured otherwise: 10 MiB.
const DefaultMaxBodySize int64 = 10 << 20

// drainLimit is how much of a discarded body is read before closing it.
// Reading a short remainder lets the connection go back to the pool; a
// longer one is cheaper to abandon than to read.
const drainLimit = 4 << 10

// maxPresize caps how much of a declared Content-Length readBody reserves
// up front: a server can declare any length, so the buffer grows with what
// actually arrives.
const maxPresize = 64 << 10

// readBody reads all of body, up to limit bytes, and reports whether it was
// larger. A declared length (contentLength, -1 when unknown) over the limit
// fails at once without reading; otherwise it only pre-sizes the buffer, by
// at most maxPresize.
func readBody(body io.Reader, contentLength, limit int64) ([]byte, bool, error) {
	if contentLength > limit {
		return nil, true, nil
	}
	var buf bytes.Buffer
	if contentLength > 0 {
		// One extra byte so that reaching EOF does not regrow the buffer.
		buf.Grow(int(min(contentLength, maxPresize)) + 1)
	}
	read := limit
	if read < math.MaxInt64 {
		read++ // one byte more tells "exactly limit" from "more"
	}
	n, err := buf.ReadFrom(io.LimitReader(body, read))
	if n > limit {
		return nil, true, nil
	}
	return buf.Bytes(), false, err
}

// drain reads a little of a body that will not be used and closes it, so
// that its connection can be reused.
func drain(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, drainLimit)
	_ = body.Close()
}
