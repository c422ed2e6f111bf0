package grpc

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/steadyhq/steady/resilience"
)

// PushbackTrailer is the trailer by which a server tells a client how long
// to wait before its next attempt, in milliseconds (gRFC A6): a
// non-negative integer is the delay, anything else means do not retry.
const PushbackTrailer = "grpc-retry-pushback-ms"

// attemptError is a failed attempt's error as gRPC returned it, with what
// steady's policies need to know about it (resilience's error protocol):
// whether a retry may help, the delay the server asked for, and whether it
// is a timeout. It never reaches the caller: statusOf takes it off.
type attemptError struct {
	err       error // gRPC's status error
	retryable bool
	timeout   bool
	pushback  time.Duration // > 0 when the server asked for a delay
	reply     *reply        // a hedged attempt's header, trailer and peer; else nil
}

func (e *attemptError) Error() string { return e.err.Error() }

// Unwrap returns gRPC's error, so status.FromError, status.Code and
// errors.As find its status.
func (e *attemptError) Unwrap() error { return e.err }

// Retryable reports whether retry may try again: UNAVAILABLE,
// RESOURCE_EXHAUSTED, or the attempt's own DEADLINE_EXCEEDED, unless the
// server's pushback said no.
func (e *attemptError) Retryable() bool { return e.retryable }

// RetryAfter returns the delay the server's pushback asked for, or 0.
func (e *attemptError) RetryAfter() time.Duration { return e.pushback }

// Timeout reports whether the code is DEADLINE_EXCEEDED.
func (e *attemptError) Timeout() bool { return e.timeout }

// classify returns err, the error of an attempt made under ctx from start
// whose trailer is trailer, as an *attemptError.
func (cl *call) classify(ctx context.Context, start time.Time, err error, trailer metadata.MD) *attemptError {
	e := &attemptError{err: err}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted:
		e.retryable = true
	case codes.DeadlineExceeded:
		e.timeout = true
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			// gRPC may see the deadline pass before the context's timer
			// marks it done (a server's reset stream arrives first):
			// the timer is due, so wait for it, and the timeout policy
			// then sees that its own limit fired. The wait is bounded
			// all the same, for a context of the caller's own making.
			waitDone(ctx, 10*time.Millisecond)
		}
		// Only the attempt's own limit is retried: its context ended
		// while the caller's is live, or the server answered for it a
		// little early (see ownDeadline). A DEADLINE_EXCEEDED that the
		// server sent while ours had long to run is its own limit, or
		// the caller's deadline as the server saw it.
		e.retryable = cl.ctx.Err() == nil && (ctx.Err() != nil || cl.ownDeadline(ctx, start))
	}
	if !e.retryable {
		return e
	}
	vs := trailer[PushbackTrailer]
	switch {
	case len(vs) == 0:
		return e
	case len(vs) == 1:
		if ms, perr := strconv.Atoi(vs[0]); perr == nil && ms >= 0 {
			e.pushback = pushback(ms)
			return e
		}
	}
	e.retryable = false
	if l := cl.c.cfg.Logger; l != nil {
		l.LogAttrs(cl.ctx, slog.LevelDebug, "grpc: the server's pushback stops the retries",
			slog.String("method", cl.method),
			slog.Any("pushback", vs),
			slog.String("code", status.Code(err).String()),
		)
	}
	return e
}

// ownDeadline reports whether a DEADLINE_EXCEEDED that the server sent
// before the attempt's context ended answers the attempt's own limit. A
// server that caps deadlines with an Offset (this package's
// ServerConfig, or any server that keeps a margin for its answer to
// travel back) gives up a little before the deadline it was sent. So it is
// the attempt's own when the attempt's deadline was its own (earlier than
// the caller's) and little of it was left: at most earlyAnswer, or a
// tenth of the time the attempt had, whichever is more.
func (cl *call) ownDeadline(ctx context.Context, start time.Time) bool {
	dl, ok := ctx.Deadline()
	if !ok {
		return false
	}
	if cdl, ok := cl.ctx.Deadline(); ok && !dl.Before(cdl) {
		return false // the caller's deadline, not the attempt's
	}
	left := time.Until(dl)
	return left <= max(earlyAnswer, dl.Sub(start)/10)
}

// earlyAnswer is how early before an attempt's deadline a server's
// DEADLINE_EXCEEDED still counts as the attempt's own: more than the
// Offset a server keeps for a round trip inside a data centre.
const earlyAnswer = 50 * time.Millisecond

// waitDone waits until ctx is done, or d has passed.
func waitDone(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// pushback returns ms milliseconds as a delay: at least a nanosecond, so
// that "0" (retry at once) is told apart from no pushback (retry's own
// backoff), and at most the longest time.Duration.
func pushback(ms int) time.Duration {
	if ms == 0 {
		return time.Nanosecond
	}
	if ms > math.MaxInt64/int(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// statusOf returns the error the interceptor returns for err, the
// pipeline's error of a call made with ctx: gRPC's own error when one
// attempt's error comes back as it was, and otherwise a *statusError
// around err, whose code is
//
//   - the caller's context error's (CANCELED or DEADLINE_EXCEEDED) once
//     that context has ended, as gRPC does;
//   - else the code of the gRPC error err wraps (a retry that gave up);
//   - else UNAVAILABLE for a rejection (an open breaker, a throttle);
//   - else DEADLINE_EXCEEDED for a timeout;
//   - else UNKNOWN.
func statusOf(ctx context.Context, err error) error {
	if e, ok := err.(*attemptError); ok {
		return e.err
	}
	code := codes.Unknown
	var gs interface{ GRPCStatus() *status.Status }
	switch {
	case ctx.Err() != nil:
		code = status.FromContextError(ctx.Err()).Code()
	case errors.As(err, &gs) && gs.GRPCStatus() != nil:
		code = gs.GRPCStatus().Code()
	case resilience.IsRejected(err):
		code = codes.Unavailable
	case resilience.IsTimeout(err):
		code = codes.DeadlineExceeded
	}
	return &statusError{code: code, err: err}
}

// statusError is a gRPC status error (status.FromError and status.Code
// read its code) that wraps an error of steady's policies, so that
// errors.Is and errors.As find breaker.ErrOpen, *retry.Error and the rest.
type statusError struct {
	code codes.Code
	err  error
}

// Error returns "rpc error: code = <code> desc = <message>", as gRPC's
// status errors read (see GRPCStatus for the message).
func (e *statusError) Error() string {
	msg, _ := e.message()
	return "rpc error: code = " + e.code.String() + " desc = " + msg
}

// Unwrap returns the policies' error.
func (e *statusError) Unwrap() error { return e.err }

// GRPCStatus returns the status: the code, with the policies' error as its
// message. When that error wraps a gRPC status (a retry that gave up on
// the server's answer), the status keeps that status's details
// (errdetails.RetryInfo, QuotaFailure, BadRequest, ...), and the message
// gives the server's message where the wrapped error's text was, so that
// it does not read "rpc error" twice.
func (e *statusError) GRPCStatus() *status.Status {
	msg, inner := e.message()
	if inner == nil {
		return status.New(e.code, msg)
	}
	p := proto.Clone(inner.Proto()).(*spb.Status)
	p.Code, p.Message = int32(e.code), msg
	return status.FromProto(p)
}

// message returns the status message, and the gRPC status that e.err
// wraps, if any.
func (e *statusError) message() (string, *status.Status) {
	msg := e.err.Error()
	var gs interface {
		error
		GRPCStatus() *status.Status
	}
	if !errors.As(e.err, &gs) {
		return msg, nil
	}
	inner := gs.GRPCStatus()
	if inner == nil {
		return msg, nil
	}
	return strings.Replace(msg, gs.Error(), inner.Message(), 1), inner
}

// isUpstreamFailure is the breakers' default IsFailure: a code that shows
// the target in trouble counts against it; the others (INVALID_ARGUMENT,
// NOT_FOUND, PERMISSION_DENIED, ...) show it up and answering.
func isUpstreamFailure(err error) bool {
	switch status.Code(err) {
	case codes.Unknown, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Internal, codes.Unavailable, codes.DataLoss:
		return true
	}
	return false
}
