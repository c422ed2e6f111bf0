// Package registry keeps named steady parts for the exporters
// (contrib/prometheus's Collector, contrib/otel's Observer): the Add
// checks, the duplicate rule and the list read at each collection, in one
// place.
package registry

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/steadyhq/steady/internal/typednil"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/bulkhead"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/monitor"
	"github.com/steadyhq/steady/resilience/timeout"
)

// Kind is the kind of a registered part.
type Kind uint8

// The kinds, one per field of Part.
const (
	Metrics Kind = iota
	Breaker
	Hedger
	Budget
	Bulkhead
	Adaptive
)

// kinds names each kind's type, and the Add method's parameter and what
// it wants, for the errors.
var kinds = [...]struct{ typ, param string }{
	Metrics:  {"monitor.Metrics", "m"},
	Breaker:  {"breaker.CircuitBreaker", "cb"},
	Hedger:   {"hedge.Hedger", "h"},
	Budget:   {"budget.Budget", "b"},
	Bulkhead: {"bulkhead.Bulkhead", "b"},
	Adaptive: {"timeout.Adaptive", "a"},
}

// Part is one registered part: its kind, its name, and the one field its
// kind says.
type Part struct {
	Kind  Kind
	Name  string
	Added time.Time // when it was added: the start of its cumulative figures

	Metrics  *monitor.Metrics
	Breaker  *breaker.CircuitBreaker
	Hedger   *hedge.Hedger
	Budget   budget.Budget
	Bulkhead *bulkhead.Bulkhead
	Adaptive *timeout.Adaptive
}

// missing reports whether p's field for its kind is nil (a nil pointer
// inside a Budget included).
func (p *Part) missing() bool {
	switch p.Kind {
	case Metrics:
		return p.Metrics == nil
	case Breaker:
		return p.Breaker == nil
	case Hedger:
		return p.Hedger == nil
	case Budget:
		return typednil.Is(p.Budget)
	case Bulkhead:
		return p.Bulkhead == nil
	default:
		return p.Adaptive == nil
	}
}

// Registry is a list of named parts. Its zero value is empty and ready; it
// is safe for concurrent use.
type Registry struct {
	mu    sync.Mutex
	parts []*Part // in the order added
}

// Add registers p, for package pkg (which names itself in the errors): a
// *resilience.ConfigError if p's part is nil or its name empty, an error
// wrapping dup if a part of the same kind has the name already (two would
// report the same series).
func (r *Registry) Add(pkg string, dup error, p Part) error {
	k := kinds[p.Kind]
	if p.missing() {
		return &resilience.ConfigError{Pkg: pkg, Field: k.param, Want: "a " + typeWanted(p.Kind)}
	}
	if p.Name == "" {
		return &resilience.ConfigError{Pkg: pkg, Field: "name", Value: `""`, Want: "a non-empty name"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.parts {
		if q.Kind == p.Kind && q.Name == p.Name {
			return fmt.Errorf("%w: a %s named %q", dup, k.typ, p.Name)
		}
	}
	p.Added = time.Now()
	r.parts = append(r.parts, &p)
	return nil
}

// typeWanted spells the Go type of kind k as an Add method takes it.
func typeWanted(k Kind) string {
	if k == Budget {
		return kinds[k].typ // an interface
	}
	return "*" + kinds[k].typ
}

// Remove removes every part registered under name and reports whether
// there was one.
func (r *Registry) Remove(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.parts)
	r.parts = slices.DeleteFunc(r.parts, func(p *Part) bool { return p.Name == name })
	return len(r.parts) < n
}

// Parts returns the parts registered now, in the order added. The slice is
// the caller's; the Parts are shared and must not be changed.
func (r *Registry) Parts() []*Part {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.parts)
}
