package chaos

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// Error is the error an injected fault makes on the client side, from
// [Inject] and [Injector.Transport]. It speaks steady's error protocol (see
// package resilience), so the policies around the call treat it as they
// would the real fault: an injected 503 or reset is retryable, a 429 carries
// its Retry-After, an overload refusal is retryable too.
type Error struct {
	Kind   Kind          // KindStatus, KindHang, KindReset or KindOverload
	Status int           // the status, for KindStatus
	After  time.Duration // the Retry-After of a throttle, else 0
	Fault  string        // the fault's description
}

// Error describes the injected fault, e.g. "chaos: injected 503 Service
// Unavailable".
func (e *Error) Error() string {
	switch e.Kind {
	case KindStatus:
		return "chaos: injected " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	case KindHang:
		return "chaos: injected hang, released"
	case KindReset:
		return "chaos: injected connection reset"
	case KindOverload:
		return "chaos: injected overload, no worker free"
	}
	return "chaos: injected " + e.Kind.String()
}

// Retryable reports whether the real fault would be worth retrying: 408,
// 429 and 5xx statuses, hangs, resets and overload refusals are; other 4xx
// statuses are not.
func (e *Error) Retryable() bool {
	if e.Kind != KindStatus {
		return true
	}
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// RetryAfter returns the delay a throttle asked for (0 for other faults).
func (e *Error) RetryAfter() time.Duration { return e.After }

// Unwrap returns syscall.ECONNRESET for a reset, so code that checks for a
// real reset sees one; nil otherwise.
func (e *Error) Unwrap() error {
	if e.Kind == KindReset {
		return syscall.ECONNRESET
	}
	return nil
}

// Inject returns a policy that injects the Injector's faults into every
// call: use it to test a pipeline of policies against faults without a
// network. Latency delays the call (ending early, with the context's error,
// if ctx ends); Status, Hang (which honours ctx), Reset and an Overload
// refusal fail it with an [*Error] instead of calling next; an Overload
// also bounds how many calls run next at once. Body faults do not apply to
// a function and are neither injected nor counted here.
//
// Inject panics with a *resilience.ConfigError if in is nil.
func Inject[T any](in *Injector) resilience.Policy[T] {
	if in == nil {
		panic(&resilience.ConfigError{Pkg: "chaos", Field: "Inject(in)", Value: nil, Want: "an *Injector from chaos.New"})
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (T, error) {
			var zero T
			if ctx == nil {
				return zero, resilience.ErrNilContext
			}
			p := in.begin()
			defer in.end()
			if p.overload {
				if !in.admit(ctx) {
					return zero, in.refusal()
				}
				defer in.release()
			}
			in.count(p, false)
			if !in.sleep(ctx, p.delay) {
				return zero, ctx.Err()
			}
			if p.term >= 0 {
				return zero, in.fail(ctx, &in.faults[p.term])
			}
			return next(ctx)
		}
	}
}

// refusal is the error of a call the Overload fault turned away.
func (in *Injector) refusal() error {
	return &Error{Kind: KindOverload, Fault: in.faults[in.ov.index].String()}
}

// fail plays terminal fault f on the client side and returns its error: at
// once for a status or a reset; for a hang, when ctx ends (its error), the
// hold passes or the Injector closes.
func (in *Injector) fail(ctx context.Context, f *Fault) error {
	if f.kind == KindHang && !in.hang(ctx, f.hold) && ctx.Err() != nil {
		return ctx.Err()
	}
	e := &Error{Kind: f.kind, Status: f.status, Fault: f.String()}
	if f.throttle {
		e.After = time.Duration(retryAfterSeconds(f.after)) * time.Second
	}
	return e
}

// Transport returns an [http.RoundTripper] that injects the Injector's
// faults into the requests it sends through next (http.DefaultTransport if
// next is nil): use it to test a client without touching the server.
//
// Latency delays the request before it is sent. Status and Throttle answer
// with a made-up response of that status (with Retry-After for a throttle)
// without sending the request; a Hang waits for the request's context (a
// hold that passes is answered 504); a Reset and an Overload refusal fail
// the round trip with an [*Error]. Body faults change the real response's
// body as it is read: SlowBody returns at most chunk bytes per Read, after
// a pause; Truncate stops at half the declared Content-Length (at once if the
// length is unknown) with io.ErrUnexpectedEOF;
// Oversize replaces the body with size bytes. An Overload bounds the round
// trips in flight (until the response headers arrive).
func (in *Injector) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{in: in, next: next}
}

type transport struct {
	in   *Injector
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	in := t.in
	ctx := req.Context()
	p := in.begin()
	defer in.end()
	if p.overload {
		if !in.admit(ctx) {
			closeBody(req)
			return nil, in.refusal()
		}
		defer in.release()
	}
	in.count(p, true)
	if !in.sleep(ctx, p.delay) {
		closeBody(req)
		return nil, ctx.Err()
	}
	if p.term >= 0 {
		closeBody(req)
		err := in.fail(ctx, &in.faults[p.term])
		e, ok := err.(*Error)
		switch {
		case !ok:
			return nil, err // the request's context ended during a hang
		case e.Kind == KindStatus:
			return madeUp(req, e, &in.faults[p.term]), nil
		case e.Kind == KindHang:
			return madeUp(req, &Error{Kind: KindStatus, Status: http.StatusGatewayTimeout, Fault: e.Fault}, nil), nil
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || (p.slow < 0 && p.truncate < 0 && p.oversize < 0) {
		return resp, err
	}
	body := &bodyReader{rc: resp.Body, in: in, ctx: ctx, left: -1}
	length := resp.ContentLength
	if p.oversize >= 0 {
		body.oversize, body.fill = true, in.faults[p.oversize].size
		length = body.fill
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	}
	if p.truncate >= 0 {
		body.left = max(length/2, 0) // length unknown: cut at once
	}
	if p.slow >= 0 {
		body.slow = &in.faults[p.slow]
	}
	resp.Body = body
	return resp, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// madeUp returns the response an injected status gives, as a server would
// write it.
func madeUp(req *http.Request, e *Error, f *Fault) *http.Response {
	text := "chaos: injected " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + "\n"
	h := http.Header{
		"Content-Type":   {"text/plain; charset=utf-8"},
		"Content-Length": {strconv.Itoa(len(text))},
		"X-Chaos":        {e.Fault},
	}
	if f != nil && f.throttle {
		h.Set("Retry-After", retryAfter(f, time.Now()))
	}
	return &http.Response{
		Status:        strconv.Itoa(e.Status) + " " + http.StatusText(e.Status),
		StatusCode:    e.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(text)),
		ContentLength: int64(len(text)),
		Request:       req,
	}
}

// bodyReader plays body faults on a real response body as it is read.
type bodyReader struct {
	rc       io.ReadCloser
	in       *Injector
	ctx      context.Context
	slow     *Fault // trickle, or nil
	paused   bool
	left     int64 // bytes before a truncation; -1: no truncation
	oversize bool  // fill replaces rc's bytes
	fill     int64 // oversize bytes still to read
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.slow != nil {
		if b.paused && !b.in.sleep(b.ctx, b.slow.every) {
			return 0, b.ctx.Err()
		}
		b.paused = true
		p = p[:min(len(p), b.slow.chunk)]
	}
	if b.left > 0 && int64(len(p)) > b.left {
		p = p[:b.left]
	}
	var n int
	var err error
	switch {
	case !b.oversize:
		n, err = b.rc.Read(p)
	case b.fill == 0:
		err = io.EOF
	default:
		n = copy(p, filler[:min(int64(len(filler)), b.fill)])
		b.fill -= int64(n)
	}
	if b.left > 0 {
		b.left -= int64(n)
		if b.left == 0 && err == nil {
			err = io.ErrUnexpectedEOF
		}
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.rc.Close() }
