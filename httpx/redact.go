package httpx

import (
	"net/url"
	"strings"
)

// redacted is what replaces a credential in anything steady prints.
const redacted = "REDACTED"

// harmlessParams are the query parameter names (lower case, matched whole,
// after unescaping) whose values steady prints: paging and ordering. Every
// other value is redacted, since a name says little (key, sig, jwt, access,
// X-Amz-Credential, ...), and search terms ("q") may be personal data.
var harmlessParams = map[string]bool{
	"page": true, "per_page": true, "page_size": true,
	"limit": true, "offset": true, "sort": true, "order": true,
}

// redactURL returns u as a string that is safe to put in an error or a
// log: the whole userinfo reads REDACTED, as does every query value whose
// name is not in harmlessParams, and the fragment is dropped. A query part
// without "=" is redacted whole (it may be a bare key).
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

// redactQuery rewrites a raw query, splitting it at "&" and ";" alike,
// without decoding and re-encoding the parts it keeps, so the result reads
// like the original.
func redactQuery(raw string) string {
	var b strings.Builder
	for raw != "" {
		part, sep := raw, ""
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			part, sep, raw = raw[:i], raw[i:i+1], raw[i+1:]
		} else {
			raw = ""
		}
		name, value, hasValue := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		switch {
		case part == "" || harmlessParams[strings.ToLower(name)]:
			b.WriteString(part)
		case !hasValue:
			b.WriteString(redacted)
		default: // even an empty value: that it was empty is not to be told

			b.WriteString(part[:len(part)-len(value)])
			b.WriteString(redacted)
		}
		b.WriteString(sep)
	}
	return b.String()
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
