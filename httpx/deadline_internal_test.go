package httpx

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDecodeTimeout follows grpc-go's decodeTimeout
// (internal/transport/http_util.go) case by case: under 2 bytes or over 9
// is an error, so is a last byte outside H M S m u n and a rest that
// strconv.ParseInt(s, 10, 64) rejects; more hours than a Duration holds
// clamp to the largest Duration.
func TestDecodeTimeout(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		// Every unit.
		{"1H", time.Hour, false},
		{"1M", time.Minute, false},
		{"1S", time.Second, false},
		{"1m", time.Millisecond, false},
		{"1u", time.Microsecond, false},
		{"1n", time.Nanosecond, false},
		{"250m", 250 * time.Millisecond, false},
		{"0n", 0, false},
		{"0H", 0, false},
		{"00000001S", time.Second, false}, // leading zeros: 9 bytes, fine
		{"99999999n", 99999999 * time.Nanosecond, false},
		{"99999999M", 99999999 * time.Minute, false}, // no overflow below hours
		// Length: under 2 or over 9 bytes.
		{"", 0, true},
		{"S", 0, true},
		{"5", 0, true},
		{"123456789S", 0, true}, // 9 digits
		{"000000001S", 0, true}, // 10 bytes even with zeros
		// The unit: the last byte, case-sensitive, one of H M S m u n.
		{"5s", 0, true},
		{"5h", 0, true},
		{"5U", 0, true},
		{"5N", 0, true},
		{"5x", 0, true},
		{"5 ", 0, true},
		{"5µ", 0, true}, // two bytes of UTF-8; the last is not a unit
		{"ms", 0, true},
		// The number, as strconv.ParseInt reads it in base 10.
		{"S5", 0, true},
		{"1.5S", 0, true},
		{" 5S", 0, true},
		{"5 S", 0, true},
		{"0x5S", 0, true},
		{"1_0S", 0, true},
		{"+S", 0, true},
		{"+5S", 5 * time.Second, false}, // ParseInt takes a sign, so grpc-go does
		{"-5S", -5 * time.Second, false},
		// Hour overflow: past MaxInt64/Hour (2562047) clamps to the max.
		{"2562047H", 2562047 * time.Hour, false},
		{"2562048H", math.MaxInt64, false},
		{"99999999H", math.MaxInt64, false},
		// Where grpc-go's product would wrap, the least Duration: expired.
		{"-9999999H", math.MinInt64, false},
	}
	for _, tt := range tests {
		got, err := decodeTimeout(tt.in)
		if tt.wantErr {
			assert.Error(t, err, "%q", tt.in)
			assert.True(t, errors.Is(err, errTimeoutSyntax), "%q: %v", tt.in, err)
			continue
		}
		assert.NoError(t, err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestEncodeTimeout(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "0n"},
		{0, "0n"},
		{1, "1n"},
		{99999999, "99999999n"},
		{100000000, "100000u"}, // 100 ms: too many ns
		{100000999, "100000u"}, // rounded down, not up
		{300 * time.Millisecond, "300000u"},
		{99999999999, "99999999u"},     // 99.999999999 s
		{100 * time.Second, "100000m"}, // too many µs
		{123456789100 * time.Nanosecond, "123456m"},
		{99999999999 * time.Millisecond, "99999999S"},
		{100000000 * time.Second, "1666666M"},
		{math.MaxInt64, "2562047H"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, encodeTimeout(tt.in), "%v", tt.in)
	}
}

// FuzzEncodeTimeout checks that what is sent decodes to no more than the
// time left, and loses less than one unit of the chosen unit.
func FuzzEncodeTimeout(f *testing.F) {
	for _, d := range []int64{0, 1, 99999999, 100000000, 123456789100, math.MaxInt64} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		d := time.Duration(n)
		s := encodeTimeout(d)
		if len(s) < 2 || len(s) > 9 {
			t.Fatalf("encodeTimeout(%v) = %q: length %d", d, s, len(s))
		}
		got, err := decodeTimeout(s)
		if err != nil {
			t.Fatalf("encodeTimeout(%v) = %q, which does not decode: %v", d, s, err)
		}
		if d <= 0 {
			if got != 0 {
				t.Fatalf("encodeTimeout(%v) = %q, want 0n", d, s)
			}
			return
		}
		unit := timeoutUnit(s[len(s)-1])
		if got > d || d-got >= unit {
			t.Fatalf("encodeTimeout(%v) = %q = %v: want within one %v below", d, s, got, unit)
		}
		// And no finer unit could have said it in 8 digits.
		if unit > time.Nanosecond && d/(unit/1000) <= 99999999 && unit != time.Minute && unit != time.Hour {
			t.Fatalf("encodeTimeout(%v) = %q: a finer unit fits", d, s)
		}
	})
}

// FuzzDecodeTimeout checks that any header value decodes without a panic,
// that only 2 to 9 bytes with a unit last can decode, and that encoding a
// decoded positive value never says more time is left.
func FuzzDecodeTimeout(f *testing.F) {
	for _, s := range []string{"0n", "1H", "99999999H", "-9999999H", "+5S", "250m", "", "5s", "123456789S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := decodeTimeout(s)
		if err != nil {
			return
		}
		if len(s) < 2 || len(s) > 9 || timeoutUnit(s[len(s)-1]) == 0 {
			t.Fatalf("decodeTimeout(%q) = %v, want an error", s, d)
		}
		back, err := decodeTimeout(encodeTimeout(d))
		if err != nil || back > max(d, 0) {
			t.Fatalf("decodeTimeout(%q) = %v; encoded again, %v, %v", s, d, back, err)
		}
	})
}
