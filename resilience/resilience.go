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
// outermost policy returns.
//
// Do builds the chain on every call. A pipeline that runs often is better
// built once with [Compose] and reused.
//
// Do returns [ErrNilContext] if ctx is nil and [ErrNilFunc] if fn is nil,
// without calling anything. A nil policy is reported the same way as by
// [Compose].
func Do[T any](ctx context.Context, fn Func[T], policies ...Policy[T]) (T, error) {
	if ctx == nil {
		var zero T
		return zero, ErrNilContext
	}
	if fn == nil {
		var zero T
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
// A nil policy does not panic: the Funcs built from the result fail every
// call with an error that names its index and wraps [ErrNilPolicy]. Applying
// the result to a nil Func likewise yields a Func that returns [ErrNilFunc].
func Compose[T any](policies ...Policy[T]) Policy[T] {
	for i, p := range policies {
		if p == nil {
			err := &nilPolicyError{index: i}
			return func(Func[T]) Func[T] { return Fail[T](err) }
		}
	}
	// Copy so that a caller who later reuses the slice cannot change a
	// pipeline that is already built.
	ps := append([]Policy[T](nil), policies...)
	return func(next Func[T]) Func[T] {
		if next == nil {
			return Fail[T](ErrNilFunc)
		}
		for i := len(ps) - 1; i >= 0; i-- {
			next = ps[i](next)
			if next == nil {
				return Fail[T](&nilPolicyError{index: i, returnedNil: true})
			}
		}
		return next
	}
}

// Fail returns a Func that calls nothing and returns err on every call.
//
// Policies use it to report bad configuration: a combinator that cannot
// return an error itself yields a Policy whose Funcs fail at once, on their
// first call, with the error that names the bad field.
func Fail[T any](err error) Func[T] {
	return func(context.Context) (T, error) {
		var zero T
		return zero, err
	}
}
