package timeout

import (
	"reflect"
	"strconv"

	"github.com/steadyhq/steady/resilience"
)

// Option changes how a timeout policy runs. Options are made by [Abandon]
// and [Track]; they are not generic, so one Option value serves policies of
// any result type.
type Option interface {
	apply(*options)
}

// options is what the Options of one policy add up to.
type options struct {
	abandon bool
	gauge   Gauge // set by Track; only used with abandon
	tracked bool  // Track was given, even with a nil Gauge
}

// optionFunc adapts a func to Option.
type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// Abandon returns an Option that runs fn in its own goroutine, so that the
// call returns when its limit fires (or the caller's context is done) even
// if fn ignores its context and keeps running. The work left running is
// counted by [Abandoned] and by a [Track] gauge until it returns.
//
// Abandon costs a goroutine and two small allocations per call, on top of
// the context that every timeout derives. Use it for work that cannot be
// interrupted through its context (a library without context support, a
// blocking syscall); work that honours its context is better served by the
// default cooperative mode.
//
// The call's context is canceled when fn returns, so fn must not leave
// work behind that still needs it, just as in cooperative mode.
//
// Panics: a panic in fn while the caller still waits is re-raised in the
// caller's goroutine with the original value, as if there were no
// goroutine (the stack trace then starts at the caller). A panic in fn
// after the call was abandoned has no caller to go to: it is raised again
// in fn's goroutine and, like any unrecovered panic in a goroutine, it
// crashes the program. Recover inside fn if it may panic late. Likewise a
// runtime.Goexit in fn (t.FailNow in a test) ends the caller's goroutine if
// the caller still waits.
func Abandon() Option {
	return optionFunc(func(o *options) { o.abandon = true })
}

// Track returns an Option that counts the abandoned calls of the policy that
// are still running in g: g.Add(1) when a call is abandoned and g.Add(-1)
// when its fn finally returns. It requires [Abandon]: a policy given Track
// without Abandon, or with a nil g, fails every call with a
// [*resilience.ConfigError]. If Track is given more than once, the last
// gauge counts. Like [Abandoned], g may count a call for an instant while
// its caller and its fn finish at the same moment, but never less than the
// calls really abandoned.
//
// [Abandoned] counts the same calls process-wide, with or without Track.
func Track(g Gauge) Option {
	return optionFunc(func(o *options) {
		o.gauge = g
		o.tracked = true
	})
}

// Gauge is a value that goes up and down, such as the gauge returned by
// monitor's Metrics.Abandoned or an [expvar.Int]. [Track] counts
// abandoned calls in one. Add must be safe for concurrent use; it is called
// from the caller's goroutine and from the abandoned goroutine.
type Gauge interface {
	Add(delta int64)
}

// newOptions applies opts in order and checks what they add up to. pkg and
// the field names in errors follow resilience.ConfigError's convention.
func newOptions(opts []Option) (options, error) {
	var o options
	for i, opt := range opts {
		if opt == nil {
			return o, &resilience.ConfigError{Pkg: "timeout", Field: "opts[" + strconv.Itoa(i) + "]", Want: "an Option"}
		}
		opt.apply(&o)
	}
	if o.tracked {
		if isNil(o.gauge) {
			return o, &resilience.ConfigError{Pkg: "timeout", Field: "Track(g)", Want: "a non-nil Gauge"}
		}
		if !o.abandon {
			return o, &resilience.ConfigError{Pkg: "timeout", Field: "Track(g)", Value: "given without Abandon()", Want: "Abandon() in the same options"}
		}
	}
	return o, nil
}

// isNil reports whether g is nil or holds a nil pointer (or other nil
// reference), which would panic only later, on the first abandoned call.
func isNil(g Gauge) bool {
	if g == nil {
		return true
	}
	switch v := reflect.ValueOf(g); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}
