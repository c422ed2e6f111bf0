package httpx

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter bounds what a server can ask for. A longer wait is almost
// always a misconfigured server, and the retry policy caps it again.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter interprets a Retry-After header value (RFC 9110 §10.2.3):
// either a number of seconds or an HTTP date, taken relative to now. It
// returns the delay, never negative and never above limit, and false when
// the value is empty or malformed. A date in the past means "retry now": 0,
// true.
func parseRetryAfter(v string, now time.Time, limit time.Duration) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" || limit < 0 {
		return 0, false
	}
	if isDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil { // only overflow gets here: far beyond any limit
			return limit, true
		}
		if secs > int64(limit/time.Second) {
			return limit, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > limit:
		return limit, true
	}
	return d, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
