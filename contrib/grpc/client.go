package grpc

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/steadyhq/steady/internal/hook"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// Client runs steady's policies around unary gRPC calls: install
// [Client.UnaryClientInterceptor] on a ClientConn. See [Config] for the
// policies and the package documentation for the errors that come back.
//
// A Client is safe for concurrent use and should be made once and shared
// by the ClientConns it serves: it holds the breaker, hedger, adaptive
// limit and budget of each target it has called, for as long as it lives
// (a target is a ClientConn's, so a program has a fixed few). Make one
// with [NewClient]; the zero Client is not usable.
type Client struct {
	cfg      Config
	monitor  resilience.Policy[*reply] // nil when no Metrics
	timeout  resilience.Policy[*reply] // nil when no Timeout
	breakers *breaker.Settings         // nil when no Breaker
	adaptive *timeout.AdaptiveConfig   // nil when no AdaptiveTimeout

	mu      sync.RWMutex // guards targets
	targets map[string]*target
}

// target holds the per-target parts and the pipelines built from them.
type target struct {
	cb       *breaker.CircuitBreaker // nil when no Breaker
	hedger   *hedge.Hedger           // nil when no Hedge
	adaptive *timeout.Adaptive       // nil when no AdaptiveTimeout
	budget   budget.Budget           // nil when neither Retry nor Hedge
	plain    resilience.Policy[*reply]
	hedged   resilience.Policy[*reply] // nil when no Hedge
	once     resilience.Policy[*reply] // without Retry and Hedge: for methods not Idempotent
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
	c := &Client{cfg: cfg, targets: make(map[string]*target)}
	if cfg.Metrics != nil {
		c.monitor = monitor.Monitor[*reply](cfg.Metrics)
	}
	if cfg.Timeout > 0 {
		c.timeout = timeout.WithTimeout[*reply](cfg.Timeout)
	}
	if cfg.Breaker != nil {
		st := *cfg.Breaker
		if st.IsFailure == nil {
			st.IsFailure = isUpstreamFailure
		}
		c.breakers = &st
	}
	c.adaptive, _ = cfg.adaptiveConfig() // validated above
	return c, nil
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
	t, err := c.target(name)
	if err != nil {
		return statusOf(ctx, err)
	}
	cl := &call{c: c, ctx: ctx, method: method, req: req, reply: replyMsg, cc: cc, invoker: invoker, opts: opts}
	pipe := t.plain
	switch {
	case !c.idempotent(method):
		pipe = t.once
	case t.hedged != nil:
		in, inOK := req.(proto.Message)
		out, outOK := replyMsg.(proto.Message)
		if inOK && outOK {
			pipe, cl.hedged = t.hedged, true
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

// target returns the parts and pipelines of the target name, making them
// on its first call. The settings were validated by NewClient, so the
// constructors fail only on a name-specific problem, which is returned.
func (c *Client) target(name string) (*target, error) {
	if c.breakers == nil && c.cfg.Hedge == nil && c.adaptive == nil && (c.cfg.Retry == nil || c.cfg.Budget != nil) {
		name = "" // nothing of the target's own
	}
	c.mu.RLock()
	t := c.targets[name]
	c.mu.RUnlock()
	if t != nil {
		return t, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.targets[name]; t != nil {
		return t, nil
	}
	t, err := c.newTarget(name)
	if err != nil {
		return nil, err
	}
	c.targets[name] = t
	return t, nil
}

func (c *Client) newTarget(name string) (*target, error) {
	t := &target{}
	var cb, rp, hp, ap resilience.Policy[*reply]
	if c.breakers != nil {
		st := *c.breakers
		st.Name = name
		b, err := breaker.New(st)
		if err != nil {
			return nil, err
		}
		t.cb, cb = b, breaker.Breaker[*reply](b)
	}
	if c.cfg.Retry != nil || c.cfg.Hedge != nil {
		t.budget = c.cfg.Budget
		if t.budget == nil {
			t.budget = new(budget.Adaptive) // the zero Adaptive has the defaults
		}
	}
	if c.cfg.Retry != nil {
		rc := *c.cfg.Retry
		if rc.Budget == nil {
			rc.Budget = t.budget
		}
		rp = retry.Retry[*reply](rc)
	}
	if c.cfg.Hedge != nil {
		hc := *c.cfg.Hedge
		if hc.Budget == nil {
			hc.Budget = t.budget
		}
		h, err := hedge.New(hc)
		if err != nil {
			return nil, err
		}
		t.hedger, hp = h, hedge.Hedge[*reply](h)
	}
	if c.adaptive != nil {
		a, err := timeout.NewAdaptive(*c.adaptive)
		if err != nil {
			return nil, err
		}
		t.adaptive, ap = a, timeout.WithAdaptive[*reply](a)
	}
	// The attempt limit: the fixed Timeout, or the target's learned one.
	// With a hedge, the learned limit goes outside it and bounds each
	// hedged group, which is what it learns from (inside, it would learn
	// only from the attempts no hedge overtook, the fast ones, and drift
	// down); each attempt keeps the fixed Timeout, the ceiling.
	t.once = compose(c.monitor, cb, orElse(ap, c.timeout))
	t.plain = compose(c.monitor, cb, rp, orElse(ap, c.timeout))
	if hp != nil {
		t.hedged = compose(c.monitor, cb, rp, ap, hp, c.timeout)
	}
	return t, nil
}

// orElse returns a, or b if a is nil.
func orElse[T any](a, b resilience.Policy[T]) resilience.Policy[T] {
	if a != nil {
		return a
	}
	return b
}

// compose composes the policies that are not nil, outermost first.
func compose[T any](ps ...resilience.Policy[T]) resilience.Policy[T] {
	kept := make([]resilience.Policy[T], 0, len(ps))
	for _, p := range ps {
		if p != nil {
			kept = append(kept, p)
		}
	}
	return resilience.Compose(kept...)
}

// Breakers returns the circuit breakers the Client keeps (see
// [Config.Breaker]), by target. It is empty when Config.Breaker is nil.
func (c *Client) Breakers() map[string]*breaker.CircuitBreaker {
	return collect(c, func(t *target) *breaker.CircuitBreaker { return t.cb })
}

// Hedgers returns the hedgers the Client keeps (see [Config.Hedge]), by
// target. It is empty when Config.Hedge is nil.
func (c *Client) Hedgers() map[string]*hedge.Hedger {
	return collect(c, func(t *target) *hedge.Hedger { return t.hedger })
}

// AdaptiveTimeouts returns the adaptive limits the Client keeps (see
// [Config.AdaptiveTimeout]), by target. It is empty when AdaptiveTimeout
// is nil.
func (c *Client) AdaptiveTimeouts() map[string]*timeout.Adaptive {
	return collect(c, func(t *target) *timeout.Adaptive { return t.adaptive })
}

// Budgets returns the retry budgets the Client uses (see [Config.Budget]),
// by target: each target's own Adaptive budget by default, or
// Config.Budget, under "" when nothing else is kept per target. It is
// empty when neither Retry nor Hedge is set.
func (c *Client) Budgets() map[string]budget.Budget {
	out := make(map[string]budget.Budget)
	c.mu.RLock()
	defer c.mu.RUnlock()
	for name, t := range c.targets {
		if t.budget != nil {
			out[name] = t.budget
		}
	}
	return out
}

// collect returns get(t) for every target whose part is not nil.
func collect[P any](c *Client, get func(*target) *P) map[string]*P {
	out := make(map[string]*P)
	c.mu.RLock()
	defer c.mu.RUnlock()
	for name, t := range c.targets {
		if p := get(t); p != nil {
			out[name] = p
		}
	}
	return out
}

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
