package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/retry"
)

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "https://api.example.com/v1/items?page=2", "https://api.example.com/v1/items?page=2"},
		{"user and password", "https://alice:s3cret@api.example.com/x", "https://REDACTED@api.example.com/x"},
		{"user only", "https://alice@api.example.com/x", "https://REDACTED@api.example.com/x"},
		{"api key in query", "https://h/x?api_key=abc123&page=2", "https://h/x?api_key=REDACTED&page=2"},
		{"token, mixed case", "https://h/x?Access_Token=abc", "https://h/x?Access_Token=REDACTED"},
		{"presigned", "https://h/o?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA", "https://h/o?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED"},
		{"bare part, maybe a key", "https://h/x?s3cretkey&page=2", "https://h/x?REDACTED&page=2"},
		{"fragment dropped", "https://h/x#access_token=abc", "https://h/x"},
		{"pass", "https://h/x?pass=p4ss", "https://h/x?pass=REDACTED"},
		{"jwt", "https://h/x?jwt=eyJhbGciOi", "https://h/x?jwt=REDACTED"},
		{"bearer", "https://h/x?bearer=b34rer", "https://h/x?bearer=REDACTED"},
		{"access", "https://h/x?access=acc3ss", "https://h/x?access=REDACTED"},
		{"semicolon separator", "https://h/x?page=2;token=t0k", "https://h/x?page=2;token=REDACTED"},
		{"semicolon after an unknown name", "https://h/x?a=1;token=t0k", "https://h/x?a=REDACTED;token=REDACTED"},
		{"search terms may be personal", "https://h/x?q=alice+smith", "https://h/x?q=REDACTED"},
		{"allowlist", "https://h/x?Page=2&per_page=50&page_size=5&limit=10&offset=20&sort=name&order=desc",
			"https://h/x?Page=2&per_page=50&page_size=5&limit=10&offset=20&sort=name&order=desc"},
		{"escaped name on the allowlist", "https://h/x?p%61ge=2", "https://h/x?p%61ge=2"},
		{"empty value: whether a secret was empty is not told", "https://h/x?token=", "https://h/x?token=REDACTED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, redactURL(u))
		})
	}
	assert.Equal(t, "<unparsable URL>", redactString("http://a b:pw@%zz"))
}

func FuzzRedact(f *testing.F) {
	f.Add("alice", "s3cret-pw", "api.example.com", "/v1")
	f.Add("", "p@ss:w/rd", "h", "")
	f.Add("u", "%41%42", "127.0.0.1:8080", "/a?b=c")
	f.Fuzz(func(t *testing.T, user, password, host, path string) {
		withSecret := func(secret string) string {
			return redactURL(&url.URL{Scheme: "https", User: url.UserPassword(user, secret), Host: host, Path: path,
				RawQuery: "page=1&token=" + url.QueryEscape(secret)})
		}
		// Nothing of the secret may show: the output must be the same
		// whatever the password and token are.
		out := withSecret(password)
		if other := withSecret("x" + password + "y"); out != other {
			t.Fatalf("redactURL output depends on the secret:\n%s\n%s", out, other)
		}
		if !strings.Contains(out, "token=REDACTED") {
			t.Fatalf("token not redacted in %q", out)
		}
	})
}

// FuzzURLErrors feeds ParseURL raw strings with credentials in the shapes
// that typos give (scheme missing, slashes missing, host missing) and checks
// that no error message shows the password.
func FuzzURLErrors(f *testing.F) {
	f.Add("alice", "hunter22", "example.com", "/x?a=1")
	f.Add("u", "pa:ss", "h:99999", "")
	f.Add("", "p%zzword", "exa mple", "/%zz")
	f.Fuzz(func(t *testing.T, user, password, host, rest string) {
		if len(password) < 4 || strings.Contains(user+host+rest, password) {
			t.Skip("a secret must not be told apart from the rest of the URL")
		}
		for _, raw := range []string{
			user + ":" + password + "@" + host + rest,
			"https:" + user + ":" + password + "@" + host + rest,
			"http://" + user + ":" + password + "@" + host + rest,
			"http://" + user + ":" + password + "/" + rest,
			"ftp://" + user + ":" + password + "@" + host + rest,
			"//" + user + ":" + password + "@" + host + rest,
			"http://" + host + "/?token=" + password,
		} {
			if _, err := ParseURL(raw); err != nil && strings.Contains(err.Error(), password) {
				t.Fatalf("ParseURL(%q) error shows the password: %v", raw, err)
			}
		}
	})
}

func TestSanitize(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cause := errors.New("caller's cause")
	tests := []struct {
		name     string
		in       error
		want     string
		same     bool  // returned unchanged
		findable error // errors.Is still finds it
	}{
		{"network error kept", opErr, opErr.Error(), true, syscall.ECONNREFUSED},
		{"context error kept", context.DeadlineExceeded, "context deadline exceeded", true, context.DeadlineExceeded},
		{"caller's cause kept", cause, "caller's cause", true, cause},
		{"quoted input cut", fmt.Errorf("failed to parse Location header %q: %w", "http://a:b@h:x/?t=s", io.ErrUnexpectedEOF),
			"failed to parse Location header", false, io.ErrUnexpectedEOF},
		{"bare URL cut", fmt.Errorf("proxy http://a:b@h/ refused: %w", opErr), "proxy", false, syscall.ECONNREFUSED},
		{"nothing left", errors.New(`"http://a:b@h/"`), "request failed", false, nil},
		{"no URL", errors.New("stopped after 10 redirects"), "stopped after 10 redirects", false, nil},
		{"a *url.Error is never kept, even as a timeout",
			&net.OpError{Op: "proxyconnect", Net: "tcp", Err: &url.Error{Op: "Get", URL: "http://h/?token=s3cret", Err: context.DeadlineExceeded}},
			"proxyconnect tcp: Get", false, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sanitize(tc.in, cause)
			assert.Equal(t, tc.want, got.Error())
			if tc.same {
				assert.True(t, got == tc.in, "unchanged")
			}
			if tc.findable != nil {
				assert.ErrorIs(t, got, tc.findable)
			}
		})
	}
	assert.NotPanics(t, func() { sanitize(uncomparable{}, uncomparable{}) }, "a cause that == cannot compare")
	var ne net.Error
	assert.ErrorAs(t, sanitize(fmt.Errorf("x %q: %w", "y", opErr), nil), &ne, "errors.As reaches a kept part")
	assert.False(t, retry.IsRetryable(sanitize(retry.Permanent(errors.New(`mine "x"`)), nil)), "a Permanent mark survives")
}

// uncomparable is an error value that == panics on.
type uncomparable struct{ _ []int }

func (uncomparable) Error() string { return "uncomparable" }
