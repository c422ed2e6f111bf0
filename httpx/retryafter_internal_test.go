package httpx

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var retryAfterNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "120", 120 * time.Second, true},
		{"zero seconds", "0", 0, true},
		{"spaces around", "  7 ", 7 * time.Second, true},
		{"HTTP date", retryAfterNow.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"RFC 850 date", retryAfterNow.Add(time.Hour).Format("Monday, 02-Jan-06 15:04:05 GMT"), time.Hour, true},
		{"date in the past", retryAfterNow.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"beyond the cap", "999999", maxRetryAfter, true},
		{"overflowing seconds", "99999999999999999999999", maxRetryAfter, true},
		{"date beyond the cap", retryAfterNow.Add(100 * time.Hour).Format(http.TimeFormat), maxRetryAfter, true},
		{"negative", "-5", 0, false},
		{"fraction", "1.5", 0, false},
		{"empty", "", 0, false},
		{"garbage", "soon", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tc.value, retryAfterNow, maxRetryAfter)
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "  7 ", "-5", "1.5", "", "soon", "99999999999999999999999",
		retryAfterNow.Add(90 * time.Second).Format(http.TimeFormat),
		retryAfterNow.Add(-time.Hour).Format(http.TimeFormat),
		"Monday, 02-Jan-06 15:04:05 GMT", "Mon Jan  2 15:04:05 2006"} {
		f.Add(s, int64(time.Minute))
	}
	f.Fuzz(func(t *testing.T, v string, limit int64) {
		d, ok := parseRetryAfter(v, retryAfterNow, time.Duration(limit))
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, negative", v, d)
		}
		if limit >= 0 && d > time.Duration(limit) {
			t.Fatalf("parseRetryAfter(%q, limit %v) = %v, beyond the cap", v, time.Duration(limit), d)
		}
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, false; want 0 when not ok", v, d)
		}
	})
}
