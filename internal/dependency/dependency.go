// Package dependency keeps the parts and pipelines steady's clients hold
// per dependency: per HTTP host in httpx, per gRPC target in contrib/grpc.
// A [Table] makes each key's breaker, hedger, adaptive limit and retry
// budget on the key's first call, composes them into pipelines in the
// recommended order (Monitor, Breaker, Retry, adaptive limit, Hedge,
// attempt Timeout), and keeps at most [MaxKeys] keys, forgetting the least
// recently used idle one, so that a client calling many hosts stays
// bounded.
package dependency

import (
	"sync"
	"sync/atomic"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// MaxKeys bounds the keys a Table keeps, plus those whose breaker is not
// closed while there is another to forget (see Table.For).
const MaxKeys = 1024

// Config is what a Table makes each key's parts and pipelines from. Every
// field may be left zero: the pipelines then hold what is set.
type Config[T any] struct {
	Monitor resilience.Policy[T] // outermost; nil for none
	// Breaker, when not nil, gives each key a breaker made from it, named
	// after the key. IsFailure should be set: the Table does not default it.
	Breaker *breaker.Settings
	// Manual: the caller applies each key's breaker and adaptive limit by
	// hand (httpx.Transport settles them when a body ends), so they are
	// made but not composed in.
	Manual   bool
	Retry    *retry.Config           // each key gets a Retry; nil for none
	Hedge    *hedge.Config           // each key gets a Hedger; nil for none
	Budget   budget.Budget           // shared by every key; nil: each key gets an Adaptive
	Discard  func(T)                 // releases a hedge's losing result; nil for none
	Adaptive *timeout.AdaptiveConfig // each key gets an adaptive limit; nil for none
	Timeout  resilience.Policy[T]    // the fixed attempt limit; nil for none
}

// Table holds the parts and pipelines of each key. It is safe for
// concurrent use.
type Table[T any] struct {
	cfg Config[T]

	mu    sync.RWMutex
	keys  map[string]*Parts[T]
	clock atomic.Uint64 // counts uses, to tell the least recently used key
}

// Parts are one key's parts and pipelines.
type Parts[T any] struct {
	Breaker  *breaker.CircuitBreaker // nil when Config.Breaker is
	Hedger   *hedge.Hedger           // nil when Config.Hedge is
	Adaptive *timeout.Adaptive       // nil when Config.Adaptive is
	Budget   budget.Budget           // nil when neither Retry nor Hedge is set

	// The pipelines: without Retry and Hedge, with both, and with Retry
	// but no Hedge (for calls whose attempts may not run at once).
	noRetry, withRetry, noHedge resilience.Policy[T]

	used atomic.Uint64 // Table.clock at the last use
	// inflight counts the calls between For and Release. A key with
	// calls in flight is never forgotten: their outcomes would go to a
	// breaker nobody asks any more. Raised only with Table.mu held.
	inflight atomic.Int64
}

// New returns a Table that makes each key's parts from cfg, which the
// caller has validated.
func New[T any](cfg Config[T]) *Table[T] {
	return &Table[T]{cfg: cfg, keys: make(map[string]*Parts[T])}
}

// Release ends a call that For began.
func (h *Parts[T]) Release() { h.inflight.Add(-1) }

// Pipe returns the composed pipeline, with Retry and Hedge (retryOK) or
// without either.
func (h *Parts[T]) Pipe(retryOK bool) resilience.Policy[T] {
	if retryOK {
		return h.withRetry
	}
	return h.noRetry
}

// PipeNoHedge returns the pipeline with Retry but without Hedge.
func (h *Parts[T]) PipeNoHedge() resilience.Policy[T] { return h.noHedge }

// For returns the parts and pipelines of key, for one call: call Release
// on the result when the call has ended. When nothing is kept per key (no
// breaker, hedge or adaptive limit, and a shared budget or none), every
// key shares the parts kept under "".
func (p *Table[T]) For(key string) (*Parts[T], error) {
	c := &p.cfg
	if c.Breaker == nil && c.Hedge == nil && c.Adaptive == nil && (c.Retry == nil || c.Budget != nil) {
		key = "" // nothing of the key's own
	}
	p.mu.RLock()
	h := p.keys[key]
	if h != nil {
		h.inflight.Add(1) // under mu, so evictOne cannot miss it
		h.used.Store(p.clock.Add(1))
	}
	p.mu.RUnlock()
	if h != nil {
		return h, nil
	}
	return p.add(key)
}

// add makes the parts and pipelines of key and begins a call on them,
// first forgetting a key when MaxKeys are kept already (see evictOne).
// The settings were validated when the client was made, so the
// constructors cannot fail here except with a name-specific problem,
// which is reported.
func (p *Table[T]) add(key string) (*Parts[T], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.keys[key]
	if h == nil {
		var err error
		if h, err = p.make(key); err != nil {
			return nil, err
		}
		if len(p.keys) >= MaxKeys {
			p.evictOne()
		}
		p.keys[key] = h
	}
	h.inflight.Add(1)
	h.used.Store(p.clock.Add(1))
	return h, nil
}

// make makes the parts and pipelines of key.
func (p *Table[T]) make(key string) (*Parts[T], error) {
	c := &p.cfg
	h := &Parts[T]{}
	var cb resilience.Policy[T]
	if c.Breaker != nil {
		st := *c.Breaker
		st.Name = key
		b, err := breaker.New(st)
		if err != nil {
			return nil, err
		}
		h.Breaker = b
		if !c.Manual {
			cb = breaker.Breaker[T](b)
		}
	}
	var rp, hp resilience.Policy[T]
	if c.Retry != nil || c.Hedge != nil {
		h.Budget = c.Budget
		if h.Budget == nil {
			h.Budget = new(budget.Adaptive) // the zero Adaptive has the defaults
		}
	}
	if c.Retry != nil {
		rc := *c.Retry
		if rc.Budget == nil {
			rc.Budget = h.Budget
		}
		rp = retry.Retry[T](rc)
	}
	if c.Hedge != nil {
		hc := *c.Hedge
		if hc.Budget == nil {
			hc.Budget = h.Budget
		}
		hd, err := hedge.New(hc)
		if err != nil {
			return nil, err
		}
		var opts []hedge.Option[T]
		if c.Discard != nil {
			opts = append(opts, hedge.Discard(c.Discard))
		}
		h.Hedger, hp = hd, hedge.Hedge[T](hd, opts...)
	}
	// The attempt limit: the fixed Timeout, or the key's learned one. With
	// a hedge too, the learned limit goes outside the hedge and bounds
	// each hedged group, which is what it learns from (inside, it would
	// learn only from the attempts no hedge overtook, the fast ones, and
	// drift down); each attempt keeps the fixed Timeout, the ceiling.
	tp, ap := c.Timeout, resilience.Policy[T](nil)
	if c.Adaptive != nil {
		a, err := timeout.NewAdaptive(*c.Adaptive)
		if err != nil {
			return nil, err
		}
		h.Adaptive = a
		if !c.Manual {
			ap = timeout.WithAdaptive[T](a)
		}
	}
	h.noRetry = compose(c.Monitor, cb, orElse(ap, tp))
	h.noHedge = h.noRetry
	if rp != nil {
		h.noHedge = compose(c.Monitor, cb, rp, orElse(ap, tp))
	}
	h.withRetry = h.noHedge
	if hp != nil {
		h.withRetry = compose(c.Monitor, cb, rp, ap, hp, tp)
	}
	return h, nil
}

// evictOne forgets the least recently used key that has no call in
// flight, preferring one whose breaker is closed: an open breaker is kept
// while there is another choice, or the sick dependency it guards would be
// called at full rate again. Only when every idle key's breaker is open or
// half-open is the least recently used of them forgotten, so that the
// table stays bounded. With no idle key at all, none is forgotten. p.mu
// must be held.
func (p *Table[T]) evictOne() {
	var closed, any string
	var closedUse, anyUse uint64
	foundClosed, foundAny := false, false
	for key, h := range p.keys {
		if h.inflight.Load() > 0 {
			continue
		}
		u := h.used.Load()
		if !foundAny || u < anyUse {
			any, anyUse, foundAny = key, u, true
		}
		if h.Breaker != nil && h.Breaker.State() != breaker.StateClosed {
			continue
		}
		if !foundClosed || u < closedUse {
			closed, closedUse, foundClosed = key, u, true
		}
	}
	switch {
	case foundClosed:
		delete(p.keys, closed)
	case foundAny:
		delete(p.keys, any)
	}
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
	for _, q := range ps {
		if q != nil {
			kept = append(kept, q)
		}
	}
	return resilience.Compose(kept...)
}

// Each returns get(h) of every key whose part get returns is not nil.
func Each[T, P any](p *Table[T], get func(*Parts[T]) (P, bool)) map[string]P {
	out := make(map[string]P)
	p.mu.RLock()
	defer p.mu.RUnlock()
	for key, h := range p.keys {
		if v, ok := get(h); ok {
			out[key] = v
		}
	}
	return out
}

// Breakers returns the breakers kept, by key.
func (p *Table[T]) Breakers() map[string]*breaker.CircuitBreaker {
	return Each(p, func(h *Parts[T]) (*breaker.CircuitBreaker, bool) { return h.Breaker, h.Breaker != nil })
}

// Hedgers returns the hedgers kept, by key.
func (p *Table[T]) Hedgers() map[string]*hedge.Hedger {
	return Each(p, func(h *Parts[T]) (*hedge.Hedger, bool) { return h.Hedger, h.Hedger != nil })
}

// Adaptives returns the adaptive limits kept, by key.
func (p *Table[T]) Adaptives() map[string]*timeout.Adaptive {
	return Each(p, func(h *Parts[T]) (*timeout.Adaptive, bool) { return h.Adaptive, h.Adaptive != nil })
}

// Budgets returns the budgets in use, by key.
func (p *Table[T]) Budgets() map[string]budget.Budget {
	return Each(p, func(h *Parts[T]) (budget.Budget, bool) { return h.Budget, h.Budget != nil })
}
