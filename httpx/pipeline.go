package httpx

import (
	"errors"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// maxHosts bounds the hosts a Client or Transport keeps a breaker (and
// pipelines) for; see [Config.Breaker].
const maxHosts = 1024

// breakerSettings returns the settings each host's breaker is made from,
// or nil for none: s with IsFailure defaulted.
func breakerSettings(s *breaker.Settings) *breaker.Settings {
	if s == nil {
		return nil
	}
	st := *s
	if st.IsFailure == nil {
		st.IsFailure = isUpstreamFailure
	}
	return &st
}

// isUpstreamFailure is the breakers' default IsFailure: an error counts
// against the host unless it shows the host is up and answering — a 4xx
// other than 408 and 429 (the request was wrong, not the server), or a
// body over the client's own size limit.
func isUpstreamFailure(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode >= 500 || retryableStatus(se.StatusCode)
	}
	return !errors.Is(err, ErrBodyTooLarge)
}

// policies is the part of a pipeline that does not depend on the request:
// Monitor, (per host) Breaker, Retry, and the attempt Timeout, in the
// recommended order. A Transport composes only Retry: it times, records and
// settles each call with the breaker by hand, when the response body ends.
type policies[T any] struct {
	monitor  resilience.Policy[T]    // nil when no Metrics, or for a Transport
	breakers *breaker.Settings       // nil when no Breaker
	manual   bool                    // a Transport: the host's breaker is not composed in
	retry    *retry.Config           // nil when no Retry; each host gets a Retry
	hedge    *hedge.Config           // nil when no Hedge; each host gets a Hedger
	budget   budget.Budget           // Config.Budget; nil: each host gets an Adaptive
	discard  func(T)                 // releases a hedge's losing result, or nil
	adaptive *timeout.AdaptiveConfig // nil when no AdaptiveTimeout; each host gets one
	timeout  resilience.Policy[T]    // nil when no Timeout, or for a Transport

	// The composed pipelines, by host when there are breakers (each host
	// has its own), else under "". At most maxHosts hosts are kept, plus
	// those whose breaker is not closed.
	mu    sync.RWMutex
	hosts map[string]*hostPipes[T]
	clock atomic.Uint64 // counts uses, to tell the least recently used host
}

// hostPipes are the pipelines of one host.
type hostPipes[T any] struct {
	cb                 *breaker.CircuitBreaker // nil when no Breaker
	hedger             *hedge.Hedger           // nil when no Hedge
	adaptive           *timeout.Adaptive       // nil when no AdaptiveTimeout
	budget             budget.Budget           // nil when neither Retry nor Hedge
	withRetry, noRetry resilience.Policy[T]
	used               atomic.Uint64 // policies.clock at the last use
	// inflight counts the calls between forHost and release. A host with
	// calls in flight is never forgotten: their outcomes would go to a
	// breaker nobody asks any more. Raised only with policies.mu held.
	inflight atomic.Int64
}

// release ends a call that forHost began.
func (h *hostPipes[T]) release() { h.inflight.Add(-1) }

// newPolicies returns the policies of cfg for a Client (with limit, its
// attempt timeout, or nil) or, when manual, for a Transport.
func newPolicies[T any](cfg *Config, limit resilience.Policy[T], manual bool) *policies[T] {
	p := &policies[T]{breakers: breakerSettings(cfg.Breaker), manual: manual, timeout: limit, hosts: make(map[string]*hostPipes[T])}
	if cfg.Metrics != nil && !manual {
		p.monitor = monitor.Monitor[T](cfg.Metrics)
	}
	p.retry, p.hedge, p.budget = cfg.Retry, cfg.Hedge, cfg.Budget
	p.adaptive, _ = cfg.adaptiveConfig() // validated when the Client or Transport was made
	return p
}

// pipe returns the composed pipeline of h, with or without retries.
func (h *hostPipes[T]) pipe(retryOK bool) resilience.Policy[T] {
	if retryOK {
		return h.withRetry
	}
	return h.noRetry
}

// forHost returns the pipelines and the breaker of u's host, for one call:
// call release on the result when the call has ended.
func (p *policies[T]) forHost(u *url.URL) (*hostPipes[T], error) {
	var host string
	if p.breakers != nil || p.hedge != nil || p.adaptive != nil || (p.retry != nil && p.budget == nil) {
		host = u.Host // something of the host's own
	}
	p.mu.RLock()
	h := p.hosts[host]
	if h != nil {
		h.inflight.Add(1) // under mu, so evictOne cannot miss it
		h.used.Store(p.clock.Add(1))
	}
	p.mu.RUnlock()
	if h != nil {
		return h, nil
	}
	return p.add(host)
}

// add makes the pipelines of host and begins a call on them, first
// forgetting a host when maxHosts are kept already (see evictOne). The
// settings were validated when the Client or Transport was made, so
// breaker.New cannot fail here except with a Name-specific problem, which
// it reports.
func (p *policies[T]) add(host string) (*hostPipes[T], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hosts[host]
	if h == nil {
		h = &hostPipes[T]{}
		var cb resilience.Policy[T]
		if p.breakers != nil {
			st := *p.breakers
			st.Name = host
			b, err := breaker.New(st)
			if err != nil {
				return nil, err
			}
			h.cb = b
			if !p.manual {
				cb = breaker.Breaker[T](b)
			}
		}
		var rp, hp resilience.Policy[T]
		if p.retry != nil || p.hedge != nil {
			h.budget = p.budget
			if h.budget == nil {
				h.budget = new(budget.Adaptive) // the zero Adaptive has the defaults
			}
		}
		if p.retry != nil {
			rc := *p.retry
			if rc.Budget == nil {
				rc.Budget = h.budget
			}
			rp = retry.Retry[T](rc)
		}
		if p.hedge != nil {
			hc := *p.hedge
			if hc.Budget == nil {
				hc.Budget = h.budget
			}
			hd, err := hedge.New(hc)
			if err != nil {
				return nil, err
			}
			var opts []hedge.Option[T]
			if p.discard != nil {
				opts = append(opts, hedge.Discard(p.discard))
			}
			h.hedger, hp = hd, hedge.Hedge[T](hd, opts...)
		}
		// The attempt limit: the fixed Timeout, or the host's learned one.
		// With a hedge too, the learned limit goes outside the hedge and
		// bounds each hedged group, which is what it learns from (inside,
		// it would learn only from the attempts no hedge overtook, the
		// fast ones, and drift down); each attempt keeps the fixed
		// Timeout, the ceiling.
		tp, ap := p.timeout, resilience.Policy[T](nil)
		if p.adaptive != nil {
			a, err := timeout.NewAdaptive(*p.adaptive)
			if err != nil {
				return nil, err
			}
			h.adaptive = a
			if !p.manual {
				ap = timeout.WithAdaptive[T](a)
			}
		}
		h.noRetry = compose(p.monitor, cb, nil, nil, nil, orElse(ap, tp))
		h.withRetry = h.noRetry
		switch {
		case hp != nil:
			h.withRetry = compose(p.monitor, cb, rp, ap, hp, tp)
		case rp != nil:
			h.withRetry = compose(p.monitor, cb, rp, nil, nil, orElse(ap, tp))
		}
		if len(p.hosts) >= maxHosts {
			p.evictOne()
		}
		p.hosts[host] = h
	}
	h.inflight.Add(1)
	h.used.Store(p.clock.Add(1))
	return h, nil
}

// evictOne forgets the least recently used host that has no call in
// flight, preferring one whose breaker is closed: an open breaker is kept
// while there is another choice, or the sick host it guards would be
// called at full rate again. Only when every idle host's breaker is open or
// half-open is the least recently used of them forgotten, so that the
// table stays bounded. With no idle host at all, none is forgotten. p.mu
// must be held.
func (p *policies[T]) evictOne() {
	var closed, any string
	var closedUse, anyUse uint64
	foundClosed, foundAny := false, false
	for host, h := range p.hosts {
		if h.inflight.Load() > 0 {
			continue
		}
		u := h.used.Load()
		if !foundAny || u < anyUse {
			any, anyUse, foundAny = host, u, true
		}
		if h.cb != nil && h.cb.State() != breaker.StateClosed {
			continue
		}
		if !foundClosed || u < closedUse {
			closed, closedUse, foundClosed = host, u, true
		}
	}
	switch {
	case foundClosed:
		delete(p.hosts, closed)
	case foundAny:
		delete(p.hosts, any)
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

// budgets returns the budgets in use, by host.
func (p *policies[T]) budgets() map[string]budget.Budget {
	out := make(map[string]budget.Budget)
	p.mu.RLock()
	defer p.mu.RUnlock()
	for host, h := range p.hosts {
		if h.budget != nil {
			out[host] = h.budget
		}
	}
	return out
}

// adaptives returns the adaptive timeouts kept, by host.
func (p *policies[T]) adaptives() map[string]*timeout.Adaptive {
	out := make(map[string]*timeout.Adaptive)
	p.mu.RLock()
	defer p.mu.RUnlock()
	for host, h := range p.hosts {
		if h.adaptive != nil {
			out[host] = h.adaptive
		}
	}
	return out
}

// hedgers returns the hedgers kept, by host.
func (p *policies[T]) hedgers() map[string]*hedge.Hedger {
	out := make(map[string]*hedge.Hedger)
	p.mu.RLock()
	defer p.mu.RUnlock()
	for host, h := range p.hosts {
		if h.hedger != nil {
			out[host] = h.hedger
		}
	}
	return out
}

// all returns the breakers kept, by host.
func (p *policies[T]) all() map[string]*breaker.CircuitBreaker {
	out := make(map[string]*breaker.CircuitBreaker)
	p.mu.RLock()
	defer p.mu.RUnlock()
	for host, h := range p.hosts {
		if h.cb != nil {
			out[host] = h.cb
		}
	}
	return out
}
