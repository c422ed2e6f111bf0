package timeout

import (
	"strconv"

	"github.com/steadyhq/steady/internal/typednil"
	"github.com/steadyhq/steady/resilience"
)

// Option changes how a timeout policy runs. [Abandon] and [Track] make
// them; an Option is not generic, so one value serves policies of any
// result type.
type Option interface {
	apply(*options)
}

type options struct {
	abandon bool
	gauge   Gauge // set by Track
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// Abandon returns an Option that runs fn in its own goroutine, so that the
// call returns when the limit fires even if fn ignores its context. See
// "Two modes" in the package documentation for what that costs, how the
// work left running is counted, and what becomes of a panic in fn.
func Abandon() Option {
	return optionFunc(func(o *options) { o.abandon = true })
}

// Track returns an Option that runs the policy in [Abandon] mode and counts
// its abandoned calls still running in g: g.Add(1) when a call is abandoned,
// g.Add(-1) when its fn returns. A nil g panics when the policy is built.
// Given twice, the last gauge counts.
func Track(g Gauge) Option {
	if isNil(g) {
		panic(&resilience.ConfigError{Pkg: "timeout", Field: "Track(g)", Want: "a non-nil Gauge"})
	}
	return optionFunc(func(o *options) {
		o.abandon = true
		o.gauge = g
	})
}

// Gauge is a value that goes up and down, such as monitor's
// Metrics.Abandoned or an [expvar.Int]. Add must be safe for concurrent use.
type Gauge interface {
	Add(delta int64)
}

// newOptions applies opts in order; a nil Option panics.
func newOptions(opts []Option) options {
	var o options
	for i, opt := range opts {
		if opt == nil {
			panic(&resilience.ConfigError{Pkg: "timeout", Field: "opts[" + strconv.Itoa(i) + "]", Want: "an Option"})
		}
		opt.apply(&o)
	}
	return o
}

// isNil reports whether g is nil or holds a nil pointer (or other nil
// reference), which would panic only later, on the first abandoned call.
func isNil(g Gauge) bool { return typednil.Is(g) }
