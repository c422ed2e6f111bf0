package grpc

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/steadyhq/steady/internal/dependency"
	"github.com/steadyhq/steady/internal/hook"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// Client runs steady's policies around unary gRPC calls: install
// [Client.UnaryClientInterceptor] on a ClientConn. See [Config] for the
// policies and the package documentation for the errors that come back.
//
// A Client is safe for concurrent use and should be made once and shared
// by the ClientConns it serves: it holds the breaker, hedger, adaptive
// limit and budget of each target it has called, for about 1,024 targets,
// as httpx does for hosts (past that, the least recently used idle target
// is forgotten, one whose breaker is closed first). Make one with
// [NewClient]; the zero Client is not usable.
type Client struct {
	cfg     Config
	targets *dependency.Table[*reply] // the parts and pipelines, by target
}

// reply is what an attempt got: the reply message it decoded into and,
// for a hedged attempt, what its own header, trailer and peer options
// received. A plain attempt returns nil: it decodes into the caller's
// reply itself.
type reply struct {
	msg     any
	header  metadata.MD
	trailer metadata.MD
	peer    peer.Peer
}

// NewClient returns a Client configured by cfg, or a
// *resilience.ConfigError naming the first invalid field.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Retry != nil {
		r := *cfg.Retry // a private copy: the caller may change theirs
		cfg.Retry = &r
	}
	if cfg.Hedge != nil {
		h := *cfg.Hedge
		cfg.Hedge = &h
	}
	dc := dependency.Config[*reply]{Retry: cfg.Retry, Hedge: cfg.Hedge, Budget: cfg.Budget}
	if cfg.Metrics != nil {
		dc.Monitor = monitor.Monitor[*reply](cfg.Metrics)
	}
	if cfg.Timeout > 0 {
		dc.Timeout = timeout.WithTimeout[*reply](cfg.Timeout)
	}
	if cfg.Breaker != nil {
		st := *cfg.Breaker
		if st.IsFailure == nil {
			st.IsFailure = isUpstreamFailure
		}
		dc.Breaker = &st
	}
	dc.Adaptive, _ = cfg.adaptiveConfig() // validated above
	return &Client{cfg: cfg, targets: dependency.New(dc)}, nil
}

// UnaryClientInterceptor returns the interceptor that sends each unary
// call through the Client's pipeline, for grpc.WithUnaryInterceptor or
// grpc.WithChainUnaryInterceptor:
//
//	conn, err := grpc.NewClient(target, grpc.WithUnaryInterceptor(c.UnaryClientInterceptor()), ...)
//
// The interceptor returns nil, or an error for which status.FromError and
// status.Code work (see "Errors" in the package documentation).
func (c *Client) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return c.intercept
}

func (c *Client) intercept(ctx context.Context, method string, req, replyMsg any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	name := ""
	if cc != nil {
		name = cc.Target()
	}
	t, err := c.targets.For(name)
	if err != nil {
		return statusOf(ctx, err)
	}
	defer t.Release()
	cl := &call{c: c, ctx: ctx, method: method, req: req, reply: replyMsg, cc: cc, invoker: invoker, opts: opts}
	pipe := t.PipeNoHedge()
	switch {
	case !c.idempotent(method):
		pipe = t.Pipe(false)
	case t.Hedger != nil:
		in, inOK := req.(proto.Message)
		out, outOK := replyMsg.(proto.Message)
		if inOK && outOK {
			pipe, cl.hedged = t.Pipe(true), true
			// A losing attempt may still be sending when the call
			// returns, and the caller may then reuse its request: the
			// attempts send a copy. Each decodes into a reply of its own,
			// of the type read here, once, before any attempt runs.
			cl.req, cl.replyType = proto.Clone(in), out.ProtoReflect().Type()
		}
	}
	r, err := pipe(cl.attempt)(ctx)
	if err != nil {
		var ae *attemptError
		if cl.hedged && errors.As(err, &ae) && ae.reply != nil {
			cl.deliverMetadata(ae.reply) // the failed attempt's header, trailer and peer
		}
		return statusOf(ctx, err)
	}
	if r != nil {
		cl.deliver(r)
	}
	return nil
}

// idempotent runs Config.Idempotent on method; a panic in it means no.
func (c *Client) idempotent(method string) (ok bool) {
	if c.cfg.Idempotent == nil {
		return true
	}
	hook.Call(c.cfg.Logger, "grpc: Config.Idempotent", func() { ok = c.cfg.Idempotent(method) })
	return ok
}

// Breakers returns the circuit breakers the Client keeps (see
// [Config.Breaker]), by target. It is empty when Config.Breaker is nil.
func (c *Client) Breakers() map[string]*breaker.CircuitBreaker { return c.targets.Breakers() }

// Hedgers returns the hedgers the Client keeps (see [Config.Hedge]), by
// target. It is empty when Config.Hedge is nil.
func (c *Client) Hedgers() map[string]*hedge.Hedger { return c.targets.Hedgers() }

// AdaptiveTimeouts returns the adaptive limits the Client keeps (see
// [Config.AdaptiveTimeout]), by target. It is empty when AdaptiveTimeout
// is nil.
func (c *Client) AdaptiveTimeouts() map[string]*timeout.Adaptive { return c.targets.Adaptives() }

// Budgets returns the retry budgets the Client uses (see [Config.Budget]),
// by target: each target's own Adaptive budget by default, or
// Config.Budget, under "" when nothing else is kept per target. It is
// empty when neither Retry nor Hedge is set.
func (c *Client) Budgets() map[string]budget.Budget { return c.targets.Budgets() }

// call is one intercepted call.
type call struct {
	c       *Client
	ctx     context.Context // the caller's
	method  string
	req     any
	reply   any // the caller's
	cc      *grpc.ClientConn
	invoker grpc.UnaryInvoker
	opts    []grpc.CallOption
	hedged  bool // attempts may run at once: each has a reply of its own

	replyType protoreflect.MessageType // hedged: the type of the replies
}

// attempt makes one attempt of the call under ctx, which carries the
// least of the caller's deadline and the attempt's limit; gRPC sends that
// deadline to the server.
func (cl *call) attempt(ctx context.Context) (*reply, error) {
	opts := cl.opts
	msg := cl.reply
	var r *reply
	if cl.hedged {
		r = &reply{msg: cl.replyType.New().Interface()}
		msg = r.msg
		opts = r.own(cl.opts)
	}
	var trailer metadata.MD
	if cl.c.cfg.Retry != nil {
		// The full slice expression makes append copy, so that the
		// caller's options are never written to.
		opts = append(opts[:len(opts):len(opts)], grpc.Trailer(&trailer))
	}
	start := time.Now()
	if err := cl.invoker(ctx, cl.method, cl.req, msg, cl.cc, opts...); err != nil {
		e := cl.classify(ctx, start, err, trailer)
		e.reply = r
		return nil, e
	}
	return r, nil
}

// own returns opts with the options that write to the caller's variables
// (header, trailer, peer) pointed at r's instead: hedged attempts run at
// once, and only the winner's may reach the caller.
func (r *reply) own(opts []grpc.CallOption) []grpc.CallOption {
	out := make([]grpc.CallOption, len(opts))
	for i, o := range opts {
		switch o.(type) {
		case grpc.HeaderCallOption:
			o = grpc.Header(&r.header)
		case *grpc.HeaderCallOption:
			o = grpc.Header(&r.header)
		case grpc.TrailerCallOption:
			o = grpc.Trailer(&r.trailer)
		case *grpc.TrailerCallOption:
			o = grpc.Trailer(&r.trailer)
		case grpc.PeerCallOption:
			o = grpc.Peer(&r.peer)
		case *grpc.PeerCallOption:
			o = grpc.Peer(&r.peer)
		}
		out[i] = o
	}
	return out
}

// deliver copies a hedged call's winning attempt into the caller's reply
// and into the variables of the caller's header, trailer and peer options.
func (cl *call) deliver(r *reply) {
	dst := cl.reply.(proto.Message)
	proto.Reset(dst)
	proto.Merge(dst, r.msg.(proto.Message))
	cl.deliverMetadata(r)
}

// deliverMetadata copies what the header, trailer and peer options of a
// hedged attempt received into the caller's variables.
func (cl *call) deliverMetadata(r *reply) {
	for _, o := range cl.opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = r.header
		case *grpc.HeaderCallOption:
			*o.HeaderAddr = r.header
		case grpc.TrailerCallOption:
			*o.TrailerAddr = r.trailer
		case *grpc.TrailerCallOption:
			*o.TrailerAddr = r.trailer
		case grpc.PeerCallOption:
			*o.PeerAddr = r.peer
		case *grpc.PeerCallOption:
			*o.PeerAddr = r.peer
		}
	}
}
