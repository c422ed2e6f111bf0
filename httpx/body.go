package httpx

import (
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
// at most maxPresize. The buffer doubles as data arrives, but never beyond
// limit+1 bytes: the one byte more tells "exactly limit" from "more".
func readBody(body io.Reader, contentLength, limit int64) ([]byte, bool, error) {
	if contentLength > limit {
		return nil, true, nil
	}
	most := limit
	if most < math.MaxInt64 {
		most++
	}
	size := int64(512)
	if contentLength >= 0 {
		// One extra byte so that reaching EOF does not regrow the buffer.
		size = min(contentLength, maxPresize) + 1
	}
	buf := make([]byte, 0, min(size, most))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= most {
				return nil, true, nil
			}
			grown := make([]byte, len(buf), min(2*int64(cap(buf))+512, most))
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, true, nil
		}
		switch {
		case err == io.EOF:
			return buf, false, nil
		case err != nil:
			return buf, false, err
		}
	}
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
