package httpx

import (
	"net/url"
	"strings"
)

// redacted is what replaces a credential in anything steady prints.
const redacted = "REDACTED"

// sensitiveParams are query parameter names (lower case, matched as
// substrings) whose values are treated as credentials: API keys, tokens,
// signatures of pre-signed URLs.
var sensitiveParams = []string{"key", "token", "secret", "password", "passwd", "pwd", "signature", "sig", "auth", "credential", "session"}

// redactURL returns u as a string that is safe to put in an error or a log:
// the whole userinfo (user name and password) and the values of query
// parameters that look like credentials are replaced by "REDACTED".
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := *u
	if r.User != nil {
		r.User = url.User(redacted)
	}
	if r.RawQuery != "" {
		r.RawQuery = redactQuery(r.RawQuery)
	}
	r.Fragment, r.RawFragment = "", ""
	return r.String()
}

// redactQuery rewrites a raw query without decoding and re-encoding the
// parts it keeps, so the result reads like the original.
func redactQuery(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if !hasValue {
			continue
		}
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if isSensitive(name) {
			parts[i] = p[:strings.IndexByte(p, '=')+1] + redacted
		}
	}
	return strings.Join(parts, "&")
}

func isSensitive(name string) bool {
	name = strings.ToLower(name)
	for _, s := range sensitiveParams {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// redactString redacts a URL given as a string. A string that does not
// parse is not echoed at all, because it may hold a credential in a shape we
// cannot recognise.
func redactString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return redactURL(u)
}
