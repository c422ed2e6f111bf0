package bulkhead

import (
	"context"

	"github.com/steadyhq/steady/resilience"
)

// Limit returns a Policy that runs each call in a slot of b: it calls next
// when [Bulkhead.Acquire] admits the call, and gives the slot back when
// next returns or panics. A call that b rejects returns b's [*Error]
// (errors.Is(err, [ErrFull]), [resilience.IsRejected]) without calling
// next; a call whose context ends while it is queued returns ctx.Err().
// Otherwise next's result and error come back unchanged.
//
// A call that finds a free slot costs two atomic operations to take it and
// one to give it back, with no lock, goroutine or allocation.
//
// The Policy and its Funcs are safe for concurrent use, and any number of
// them, of any result type, may share b; they then share its slots. A nil b
// panics with a [*resilience.ConfigError], and applying the Policy to a nil
// next panics with [resilience.ErrNilFunc], when the pipeline is built. A
// nil context at call time returns [resilience.ErrNilContext].
func Limit[T any](b *Bulkhead) resilience.Policy[T] {
	if b == nil {
		panic(&resilience.ConfigError{Pkg: "bulkhead", Field: "Limit(b)", Want: "a bulkhead from New"})
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (T, error) {
			if err := b.Acquire(ctx); err != nil {
				var zero T
				return zero, err
			}
			defer b.Release() // also when next panics
			return next(ctx)
		}
	}
}
