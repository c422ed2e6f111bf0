package chaos

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// Middleware returns next with the Injector's faults injected into the
// requests it serves: use it to make a test server (or a staging one)
// misbehave. next is not called for a request answered by a fault (a status,
// a hang, a reset, an overload refusal). It panics with a
// *resilience.ConfigError if next is nil.
//
// An injected answer carries the header X-Chaos with the fault's
// description, so a client's logs show what was injected. A hang ends when
// the client gives up, when hold passes (answered 504), or when the
// Injector is closed (answered 504 too), so closing the Injector before the
// server lets [net/http.Server.Shutdown] and [net/http/httptest.Server.Close]
// return at once.
//
// Resets and truncated bodies close the connection through
// [http.Hijacker]; where the connection cannot be hijacked (HTTP/2) the
// handler panics with [http.ErrAbortHandler], which the server recovers
// silently and which aborts the stream. A recovering middleware outside
// this one would see that panic: put Middleware outermost.
func (in *Injector) Middleware(next http.Handler) http.Handler {
	if next == nil {
		panic(&resilience.ConfigError{Pkg: "chaos", Field: "Middleware(next)", Value: nil, Want: "an http.Handler"})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := in.begin()
		defer in.end()
		ctx := r.Context()
		if p.overload {
			if !in.admit(ctx) {
				in.refuse(w)
				return
			}
			defer in.release()
		}
		in.count(p, true)
		if !in.sleep(ctx, p.delay) {
			return
		}
		if p.term >= 0 {
			in.answer(w, r, &in.faults[p.term])
			return
		}
		if p.slow < 0 && p.truncate < 0 && p.oversize < 0 {
			next.ServeHTTP(w, r)
			return
		}
		bw := &bodyWriter{w: w, rc: http.NewResponseController(w), in: in, ctx: ctx, status: http.StatusOK}
		if p.slow >= 0 {
			bw.slow = &in.faults[p.slow]
			w.Header().Set("X-Chaos", bw.slow.String())
		}
		if p.truncate >= 0 {
			bw.truncate, bw.hold = true, true
		}
		if p.oversize >= 0 {
			bw.oversize, bw.hold = in.faults[p.oversize].size, true
		}
		next.ServeHTTP(bw, r)
		bw.finish()
	})
}

// refuse answers a request the Overload fault turned away.
func (in *Injector) refuse(w http.ResponseWriter) {
	f := &in.faults[in.ov.index]
	w.Header().Set("X-Chaos", f.String())
	http.Error(w, "chaos: injected overload, no worker free", http.StatusServiceUnavailable)
}

// answer answers a request in place of the handler, as terminal fault f.
func (in *Injector) answer(w http.ResponseWriter, r *http.Request, f *Fault) {
	switch f.kind {
	case KindStatus:
		h := w.Header()
		h.Set("X-Chaos", f.String())
		if f.throttle {
			h.Set("Retry-After", retryAfter(f, time.Now()))
		}
		http.Error(w, "chaos: injected "+strconv.Itoa(f.status)+" "+http.StatusText(f.status), f.status)
	case KindHang:
		if !in.hang(r.Context(), f.hold) && r.Context().Err() != nil {
			return // the client gave up
		}
		w.Header().Set("X-Chaos", f.String())
		http.Error(w, "chaos: injected hang, released", http.StatusGatewayTimeout)
	case KindReset:
		abort(w, true)
	}
}

// retryAfter returns the Retry-After value of throttle f answered at now.
func retryAfter(f *Fault, now time.Time) string {
	s := retryAfterSeconds(f.after)
	if !f.date {
		return strconv.Itoa(s)
	}
	// The format has whole seconds: round now up, so a client that honours
	// the date waits at least f.after.
	t := now.Truncate(time.Second)
	if t.Before(now) {
		t = t.Add(time.Second)
	}
	return t.Add(time.Duration(s) * time.Second).UTC().Format(http.TimeFormat)
}

// abort closes the request's connection without finishing the response:
// with a TCP RST when rst is set, else after flushing what was written.
// Where the connection cannot be hijacked it aborts the stream by panicking
// with http.ErrAbortHandler.
func abort(w http.ResponseWriter, rst bool) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if rst {
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // Close then sends RST, not FIN
		}
	} else if buf != nil {
		_ = buf.Flush()
	}
	_ = conn.Close()
}

// bodyWriter is the ResponseWriter the handler writes to when a body fault
// hit its request. With hold set it keeps the body back until the handler
// returns (a truncated body needs its whole length; an oversize one
// replaces it); otherwise it passes it on, trickled when slow is set.
type bodyWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	in  *Injector
	ctx context.Context

	slow     *Fault // trickle the body, or nil
	hold     bool   // keep the body back until finish
	truncate bool   // send half of what the Content-Length says
	oversize int64  // send this many filler bytes instead, if > 0

	status      int
	wroteHeader bool
	paused      bool // a chunk went out: pause before the next one
	buf         bytes.Buffer
}

func (b *bodyWriter) Header() http.Header { return b.w.Header() }

func (b *bodyWriter) WriteHeader(code int) {
	if b.wroteHeader {
		return
	}
	if code >= 100 && code < 200 {
		b.w.WriteHeader(code) // informational: pass on, the final one follows
		return
	}
	b.status, b.wroteHeader = code, true
	if !b.hold {
		b.w.WriteHeader(code)
	}
}

func (b *bodyWriter) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	switch {
	case b.oversize > 0:
		return len(p), nil // replaced in finish
	case b.hold:
		return b.buf.Write(p)
	}
	return b.send(p)
}

// Flush passes a flush on, unless the body is held back.
func (b *bodyWriter) Flush() {
	if !b.hold {
		_ = b.rc.Flush()
	}
}

// send writes p to the client, trickled if the body is slow.
func (b *bodyWriter) send(p []byte) (int, error) {
	if b.slow == nil {
		return b.w.Write(p)
	}
	written := 0
	for len(p) > 0 {
		if b.paused && !b.in.sleep(b.ctx, b.slow.every) {
			return written, b.ctx.Err()
		}
		n := min(b.slow.chunk, len(p))
		m, err := b.w.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		_ = b.rc.Flush()
		b.paused = true
		p = p[n:]
	}
	return written, nil
}

// filler is what an oversize body is made of.
var filler = bytes.Repeat([]byte("chaos "), 32<<10/6)

// finish sends a held-back body once the handler has returned.
func (b *bodyWriter) finish() {
	if !b.hold {
		return
	}
	total := int64(b.buf.Len())
	if b.oversize > 0 {
		total = b.oversize
	}
	h := b.w.Header()
	h.Set("X-Chaos", b.describe())
	h.Del("Transfer-Encoding")
	send := total
	switch {
	case b.truncate:
		h.Set("Content-Length", strconv.FormatInt(max(total, 1), 10))
		send = total / 2
	case b.oversize > 0:
		h.Del("Content-Length") // sent chunked: the client cannot know the size up front
	default:
		h.Set("Content-Length", strconv.FormatInt(total, 10))
	}
	b.w.WriteHeader(b.status)
	if b.oversize > 0 {
		for send > 0 && b.ctx.Err() == nil {
			n := min(send, int64(len(filler)))
			if _, err := b.send(filler[:n]); err != nil {
				break
			}
			send -= n
		}
	} else {
		_, _ = b.send(b.buf.Bytes()[:send])
	}
	if b.truncate {
		_ = b.rc.Flush()
		abort(b.w, false)
	}
}

// describe names the held-back body faults, for the X-Chaos header.
func (b *bodyWriter) describe() string {
	switch {
	case b.truncate && b.oversize > 0:
		return "truncated oversize body"
	case b.truncate:
		return "truncated body"
	}
	return "oversize body (" + strconv.FormatInt(b.oversize, 10) + " B)"
}
