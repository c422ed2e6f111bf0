package resilience

import "context"

// Func is the one shape every policy decorates: a call that takes a context
// and returns a result or an error.
type Func[T any] func(ctx context.Context) (T, error)

// Policy decorates a Func with some behaviour (a timeout, retries,
// monitoring, a circuit breaker) and returns the decorated Func.
//
// A Policy is applied once, when a pipeline is built, and the Func it returns
// is then called many times, possibly from many goroutines at once; so a
// Policy keeps per-call state inside the returned Func's body, never in the
// closure it builds.
type Policy[T any] func(next Func[T]) Func[T]

// Do runs fn under the policies, policies[0] outermost, and returns what the
// outermost policy returns. It builds the chain on every call; a pipeline
// that runs often is better built once with [Compose].
//
// Do returns [ErrNilContext] for a nil ctx and [ErrNilFunc] for a nil fn,
// without calling anything. A nil policy panics, as in [Compose].
func Do[T any](ctx context.Context, fn Func[T], policies ...Policy[T]) (T, error) {
	if ctx == nil || fn == nil {
		var zero T
		if ctx == nil {
			return zero, ErrNilContext
		}
		return zero, ErrNilFunc
	}
	if len(policies) == 0 {
		return fn(ctx)
	}
	return Compose(policies...)(fn)(ctx)
}

// Compose folds policies into one Policy, policies[0] outermost:
//
//	Compose(a, b, c)(fn) == a(b(c(fn)))
//
// The result can be built once and applied to many functions, and the Funcs
// it returns are safe for concurrent use when the policies are (all of
// steady's are). Compose with no policies returns a Policy that returns next
// unchanged.
//
// A nil policy is a mistake in the program, found when it is built: Compose
// panics with an error that names its index and wraps [ErrNilPolicy]. So
// does the Policy it returns when applied to a nil Func ([ErrNilFunc]) or
// when one of the policies returns a nil Func.
func Compose[T any](policies ...Policy[T]) Policy[T] {
	for i, p := range policies {
		if p == nil {
			panic(&nilPolicyError{index: i})
		}
	}
	// Copy so that a caller who later reuses the slice cannot change a
	// pipeline that is already built.
	ps := append([]Policy[T](nil), policies...)
	return func(next Func[T]) Func[T] {
		if next == nil {
			panic(ErrNilFunc)
		}
		for i := len(ps) - 1; i >= 0; i-- {
			next = ps[i](next)
			if next == nil {
				panic(&nilPolicyError{index: i, returnedNil: true})
			}
		}
		return next
	}
}
