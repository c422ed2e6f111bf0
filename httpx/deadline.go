package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/steadyhq/steady/internal/hook"
	"github.com/steadyhq/steady/resilience"
)

// DeadlineHeader is the header that carries a deadline between services:
// gRPC's grpc-timeout, whose value is the time left as 1 to 8 digits and a
// unit, one of H (hours), M (minutes), S (seconds), m (milliseconds), u
// (microseconds) and n (nanoseconds), e.g. "250m" or "1500000u".
// [Config.PropagateDeadline] sends it, and [Deadlines] reads it by default.
const DeadlineHeader = "Grpc-Timeout"

// ErrPropagatedDeadline is the cause, as [context.Cause] reports it, of a
// handler's context that [Deadlines] ended at the deadline the caller sent,
// so that a handler (or its logs) can tell the caller's budget running out
// from the server's own limit, whose cause is plain
// [context.DeadlineExceeded]. errors.Is(ErrPropagatedDeadline,
// context.DeadlineExceeded) holds, and a Client's call made with such a
// context and cut short by it fails with an error for which
// errors.Is(err, ErrPropagatedDeadline) holds.
//
// It is [resilience.ErrPropagatedDeadline] itself, so either name matches.
var ErrPropagatedDeadline = resilience.ErrPropagatedDeadline

// DeadlineConfig configures [Deadlines].
type DeadlineConfig struct {
	// Header is the request header read for the caller's time left, in
	// gRPC's grpc-timeout grammar (see [DeadlineHeader], the default when
	// empty).
	Header string

	// Max bounds every request's handler, with a header or without one
	// (absent, malformed or untrusted): a header can only shorten it,
	// never extend it. It must be > 0.
	Max time.Duration

	// Offset is taken off the time a header gives, to allow for the time
	// the request took to arrive and for the answer to go back. A header
	// that the Offset uses up is expired. It must be >= 0.
	Offset time.Duration

	// Trust reports whether the header of a request may be believed, e.g.
	// because it comes from a service of one's own ([TrustLoopback]
	// accepts requests from loopback addresses). nil trusts no one: the
	// header is ignored, as an edge service facing the Internet should,
	// and every request gets Max. A panic in Trust is logged (to Logger,
	// or slog.Default) and counts as not trusted.
	Trust func(*http.Request) bool

	// Logger receives a Warn record for each malformed header from a
	// trusted request (which is then ignored). nil: log nothing.
	Logger *slog.Logger
}

// Validate returns nil if c is valid, or else its first bad field as a
// [*resilience.ConfigError], e.g. "httpx: DeadlineConfig.Max is 0s, want
// > 0". [Deadlines] calls it.
func (c DeadlineConfig) Validate() error {
	if c.Max <= 0 {
		return &resilience.ConfigError{Pkg: "httpx", Field: "DeadlineConfig.Max", Value: c.Max, Want: "> 0"}
	}
	if c.Offset < 0 {
		return &resilience.ConfigError{Pkg: "httpx", Field: "DeadlineConfig.Offset", Value: c.Offset, Want: ">= 0"}
	}
	if c.Header != "" && !validHeaderName(c.Header) {
		return &resilience.ConfigError{Pkg: "httpx", Field: "DeadlineConfig.Header", Value: strconv.Quote(c.Header), Want: "an HTTP header name (letters, digits and !#$%&'*+-.^_`|~), or empty for " + DeadlineHeader}
	}
	return nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c < 0x80 && c > ' ' && containsByte("!#$%&'*+-.^_`|~", c):
		default:
			return false
		}
	}
	return true
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// Deadlines returns middleware that bounds each request's handler by a
// deadline: Max, or the time left that the caller sent in cfg.Header less
// cfg.Offset when that is shorter and cfg.Trust accepts the request. The
// handler's context then ends at that deadline, with [context.Cause]
// [ErrPropagatedDeadline] when it came from the header.
//
// A request whose header has no time left (such as "0n", or no more than
// the Offset) is answered at once with 504 Gateway Timeout, without calling the
// handler: its caller has given up already. A malformed header is ignored
// (Max applies) and logged to cfg.Logger. The header is decoded as grpc-go
// decodes grpc-timeout: a value of more hours than a time.Duration holds
// (e.g. "99999999H") means no limit, so Max.
//
// Deadlines panics with a [*resilience.ConfigError] if cfg is invalid (see
// [DeadlineConfig.Validate]), and its middleware panics likewise when
// given a nil handler: both are mistakes of set-up, found when the server
// is built.
func Deadlines(cfg DeadlineConfig) func(http.Handler) http.Handler {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.Header == "" {
		cfg.Header = DeadlineHeader
	}
	cfg.Header = http.CanonicalHeaderKey(cfg.Header)
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic(&resilience.ConfigError{Pkg: "httpx", Field: "Deadlines' handler", Want: "a non-nil http.Handler"})
		}
		return &deadlines{cfg: cfg, next: next}
	}
}

type deadlines struct {
	cfg  DeadlineConfig
	next http.Handler
}

func (d *deadlines) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	limit, propagated := d.cfg.Max, false
	if vs := r.Header[d.cfg.Header]; len(vs) > 0 && d.trusted(r) {
		left, err := parseDeadlineHeader(vs)
		switch {
		case err != nil:
			d.malformed(r, vs, err)
		case left <= d.cfg.Offset: // not left-Offset <= 0: it could wrap
			http.Error(w, "httpx: the caller's deadline has passed", http.StatusGatewayTimeout)
			return
		case left-d.cfg.Offset < limit:
			limit, propagated = left-d.cfg.Offset, true
		}
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if propagated {
		ctx, cancel = context.WithDeadlineCause(r.Context(), time.Now().Add(limit), ErrPropagatedDeadline)
	} else {
		ctx, cancel = context.WithTimeout(r.Context(), limit)
	}
	defer cancel()
	d.next.ServeHTTP(w, r.WithContext(ctx))
}

// trusted runs cfg.Trust on r; a panic in it means no.
func (d *deadlines) trusted(r *http.Request) (ok bool) {
	if d.cfg.Trust == nil {
		return false
	}
	hook.Call(d.cfg.Logger, "httpx: DeadlineConfig.Trust", func() { ok = d.cfg.Trust(r) })
	return ok
}

func (d *deadlines) malformed(r *http.Request, vs []string, err error) {
	if d.cfg.Logger == nil {
		return
	}
	v := vs[0]
	if len(v) > 32 {
		v = v[:32] + "…"
	}
	d.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "httpx: malformed deadline header ignored",
		slog.String("header", d.cfg.Header),
		slog.String("value", strconv.Quote(v)),
		slog.Int("values", len(vs)),
		slog.String("remote", r.RemoteAddr),
		slog.String("err", err.Error()),
	)
}

// parseDeadlineHeader decodes the one value of a deadline header; more than
// one is malformed (which would the caller mean?).
func parseDeadlineHeader(vs []string) (time.Duration, error) {
	if len(vs) != 1 {
		return 0, fmt.Errorf("%d values, want one", len(vs))
	}
	return decodeTimeout(vs[0])
}

// TrustLoopback is a [DeadlineConfig.Trust] that accepts requests whose
// peer (http.Request.RemoteAddr) is a loopback address: services on the same
// machine. Behind a proxy, RemoteAddr is the proxy's: trust it only if the
// proxy drops or checks the header of the requests it forwards.
func TrustLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var errTimeoutSyntax = errors.New("httpx: malformed timeout")

// decodeTimeout decodes a grpc-timeout value as grpc-go does
// (internal/transport.decodeTimeout): 2 to 9 bytes, the last a unit among
// H M S m u n, the rest an integer as strconv.ParseInt reads it in base 10
// (so a sign is accepted, as grpc-go accepts it); more hours than a
// time.Duration holds give the largest Duration. Where grpc-go's
// multiplication of a negative value would overflow and wrap, it gives the
// smallest Duration instead: a negative timeout is expired either way.
func decodeTimeout(s string) (time.Duration, error) {
	n := len(s)
	switch {
	case n < 2:
		return 0, fmt.Errorf("%w: %q is too short", errTimeoutSyntax, s)
	case n > 9:
		return 0, fmt.Errorf("%w: %q is too long (8 digits and a unit at most)", errTimeoutSyntax, s)
	}
	unit := timeoutUnit(s[n-1])
	if unit == 0 {
		return 0, fmt.Errorf("%w: %q has no unit among H M S m u n", errTimeoutSyntax, s)
	}
	v, err := strconv.ParseInt(s[:n-1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a number and a unit", errTimeoutSyntax, s)
	}
	if limit := int64(math.MaxInt64 / unit); v > limit {
		return math.MaxInt64, nil
	} else if v < -limit {
		return math.MinInt64, nil
	}
	return time.Duration(v) * unit, nil
}

func timeoutUnit(c byte) time.Duration {
	switch c {
	case 'H':
		return time.Hour
	case 'M':
		return time.Minute
	case 'S':
		return time.Second
	case 'm':
		return time.Millisecond
	case 'u':
		return time.Microsecond
	case 'n':
		return time.Nanosecond
	}
	return 0
}

// timeoutUnits are the units of grpc-timeout, finest first.
var timeoutUnits = [...]struct {
	d time.Duration
	c byte
}{{time.Nanosecond, 'n'}, {time.Microsecond, 'u'}, {time.Millisecond, 'm'}, {time.Second, 'S'}, {time.Minute, 'M'}, {time.Hour, 'H'}}

// encodeTimeout writes d as a grpc-timeout value in the finest unit whose
// count fits in 8 digits, rounded down, so the value never says more time
// is left than d, and says less by under one unit: 123.4567891s needs 12
// digits in nanoseconds and 9 in microseconds, so it is "123456m". d <= 0
// is "0n".
func encodeTimeout(d time.Duration) string {
	if d <= 0 {
		return "0n"
	}
	const most = 99_999_999
	for _, u := range timeoutUnits {
		if v := d / u.d; v <= most {
			var buf [9]byte
			b := strconv.AppendInt(buf[:0], int64(v), 10)
			return string(append(b, u.c))
		}
	}
	// Unreachable: the largest Duration is 2562047 hours.
	return "99999999H"
}

// setDeadlineHeader sets r's deadline header to the time left until the
// earliest deadline of ctxs (the attempt's, which includes its own limit,
// and, for a hedged Transport attempt, whose context is detached from the
// caller's, the caller's too), when there is one.
func setDeadlineHeader(r *http.Request, ctxs ...context.Context) {
	var first time.Time
	for _, ctx := range ctxs {
		if dl, ok := ctx.Deadline(); ok && (first.IsZero() || dl.Before(first)) {
			first = dl
		}
	}
	if !first.IsZero() {
		r.Header.Set(DeadlineHeader, encodeTimeout(time.Until(first)))
	}
}
