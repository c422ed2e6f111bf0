// Package grpc runs steady's policies around gRPC calls: a unary client
// interceptor with per-attempt timeouts, retries, metrics, a circuit
// breaker, hedges and a retry budget per target, and server interceptors
// that cap the deadline of every call a server handles. It is the nested
// module github.com/steadyhq/steady/contrib/grpc, so that steady's core
// module does not depend on google.golang.org/grpc. Import it under a name
// of your own, since grpc is taken:
//
//	import steadygrpc "github.com/steadyhq/steady/contrib/grpc"
//
// # Client
//
// A [Client] is configured once by [Config], whose fields mean what
// httpx.Config's do, and installed on a ClientConn:
//
//	rc := retry.DefaultConfig()
//	c, err := steadygrpc.NewClient(steadygrpc.Config{
//		Timeout: 300 * time.Millisecond, // each attempt
//		Retry:   &rc,
//		Breaker: &breaker.Settings{FailureRate: 0.5, MinRequests: 20},
//		Metrics: metrics,
//	})
//	...
//	conn, err := grpc.NewClient(target,
//		grpc.WithTransportCredentials(creds),
//		grpc.WithUnaryInterceptor(c.UnaryClientInterceptor()))
//
// Each call goes through Monitor, Breaker, Retry, Hedge and Timeout, in
// that order (outermost first), as httpx's Client does. The breaker,
// hedger, adaptive limit and default budget are kept per target, the
// ClientConn's Target(): one Client may serve several ClientConns, and a
// sick target does not open the breaker of a healthy one. As httpx does
// for hosts, about 1,024 targets are kept, the least recently used idle
// one forgotten past that (one with a closed breaker first). Client.Breakers,
// Client.Hedgers, Client.AdaptiveTimeouts and Client.Budgets return them
// by target, for contrib/prometheus or the dashboard to register.
//
// Each attempt's context carries the least of the caller's deadline and
// the attempt's limit, and gRPC sends that deadline to the server
// (grpc-timeout), so the server stops when the attempt does.
//
// # What is retried
//
// With [Config.Retry] set, an attempt is retried when it fails with
//
//   - UNAVAILABLE or RESOURCE_EXHAUSTED;
//   - DEADLINE_EXCEEDED because the attempt's own limit (Timeout, or
//     AdaptiveTimeout) fired while the caller's context was live. A server
//     that caps deadlines with an Offset (see [ServerConfig]) answers that
//     limit a little early: a DEADLINE_EXCEEDED that comes when at most
//     50ms, or a tenth of the attempt's time, was left of an attempt
//     deadline earlier than the caller's counts as the attempt's own.
//
// The caller's deadline and cancellation are never retried, nor is a
// DEADLINE_EXCEEDED that the server sent while the attempt still had time
// (its own limit fired), nor any other code: INVALID_ARGUMENT, NOT_FOUND,
// INTERNAL and the rest come back at once.
//
// A server may push back (gRFC A6) with the trailer
// grpc-retry-pushback-ms ([PushbackTrailer]): a non-negative integer is
// the delay before the next attempt in milliseconds, replacing the
// backoff for that wait ("0": at once), capped by retry's MaxRetryAfter,
// and a wait that would pass the caller's deadline ends the call at once.
// A negative or malformed value, or more than one, means do not retry.
// Pushback counts only on a code that would be retried.
//
// These rules are told to steady's policies through its error protocol
// (see package resilience): each failed attempt's error says whether it is
// Retryable, its RetryAfter and whether it is a Timeout, so retry, the
// breaker, monitor and hedge classify a gRPC call as they do an httpx one.
// Leave gRPC's own retry policy (a service config's retryPolicy) unset: the
// two would multiply.
//
// A server may have acted on a request whose answer was lost, and then
// UNAVAILABLE comes back all the same. When some methods must not run
// twice, set [Config.Idempotent] to the ones that may: the others get one
// attempt, never retried or hedged.
//
// # Errors
//
// The interceptor's error is always one that status.FromError and
// status.Code read:
//
//   - when a single attempt's error comes back as it was (one attempt, or
//     a code that is not retried), it is gRPC's own error, unchanged;
//   - otherwise it is a status error that wraps steady's error, so that
//     errors.Is and errors.As find breaker.ErrOpen and *breaker.OpenError,
//     *retry.Error, *timeout.Error, budget.ErrExhausted and
//     context.DeadlineExceeded. When retries gave up on the server's
//     answer, the status keeps that answer's details (RetryInfo,
//     BadRequest, ...), and its message the server's message in place of
//     the server's error text. Its code is the caller's context's
//     (CANCELED or DEADLINE_EXCEEDED) once that has ended; else the code
//     of the last attempt (a retry that gave up); else UNAVAILABLE for a
//     call a policy rejected without calling the server (an open breaker,
//     which resilience.IsRejected reports); else DEADLINE_EXCEEDED for a
//     timeout.
//
// # Breakers
//
// With [Config.Breaker], a target whose breaker is open fails calls at
// once with UNAVAILABLE and breaker.ErrOpen, without reaching the server.
// By default only the codes that show a target in trouble count against
// it: UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL,
// UNAVAILABLE and DATA_LOSS. An answer such as NOT_FOUND or
// INVALID_ARGUMENT shows the server up, and counts as a success; the
// caller's own cancellation counts as neither. Set the settings'
// IsFailure to choose otherwise.
//
// # Hedges
//
// With [Config.Hedge], a call whose attempt is slower than the hedger's
// delay gets a second attempt, and the first success wins; the loser is
// canceled. Hedged attempts run at once, so each decodes into a reply of
// its own (a new message of the reply's type, which must be a
// proto.Message; other replies are not hedged) and the winner's is copied
// into the caller's, along with its header, trailer and peer for the
// caller's grpc.Header, grpc.Trailer and grpc.Peer options (those of the
// attempt whose error is returned, when every attempt fails). The attempts
// send a copy of the request, made once per call, so a caller may reuse
// its request as soon as the call returns, while a losing attempt may
// still be sending. Hedge only
// methods that are safe to run twice (see [Config.Idempotent]).
//
// # Servers
//
// gRPC honours any deadline a client sends: grpc-timeout "99999999H"
// (some 11,000 years) gives the handler that long. [UnaryServerInterceptor]
// and [StreamServerInterceptor] cap it:
//
//	cfg := steadygrpc.ServerConfig{Max: 10 * time.Second, Offset: 5 * time.Millisecond}
//	unary, err := steadygrpc.UnaryServerInterceptor(cfg)
//	...
//	stream, err := steadygrpc.StreamServerInterceptor(cfg)
//	...
//	srv := grpc.NewServer(grpc.UnaryInterceptor(unary), grpc.StreamInterceptor(stream))
//
// The handler's context ends at min(client's deadline - Offset, now +
// Max); Max applies with or without a client deadline. When the client's
// deadline ends it, context.Cause reports
// resilience.ErrPropagatedDeadline, so that monitoring counts the call as
// a timeout its caller's budget caused; when Max does, plain
// context.DeadlineExceeded. A call whose deadline has passed, or that the
// Offset uses up, is answered DEADLINE_EXCEEDED at once, without calling
// the handler. The client's cancellation reaches the handler as before.
//
// A client cancels its call when its own deadline passes, and the server
// measures the deadline from the request's arrival, a little after the
// client started its clock; set Offset to at least the network's round
// trip so that the server's end, with its cause, comes before the
// client's cancellation. A stream handler's context is capped, but the
// stream's RecvMsg and SendMsg end only with gRPC's own context: a stream
// handler that must stop at Max selects on its Context's Done.
package grpc
