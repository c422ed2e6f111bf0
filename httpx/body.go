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

// readBody reads all of body, up to limit bytes. It returns errTooLarge
// without reading when the declared length is already over the limit, and
// after reading limit+1 bytes otherwise.
func readBody(body io.Reader, contentLength, limit int64) ([]byte, bool, error) {
	if contentLength > limit {
		return nil, true, nil
	}
	var buf bytes.Buffer
	if contentLength > 0 {
		// One extra byte so that reaching EOF does not regrow the buffer.
		buf.Grow(int(contentLength) + 1)
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
