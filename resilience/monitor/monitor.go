package monitor

import (
	"context"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/resilience"
)

// Monitor returns a Policy that records the duration and outcome of every
// call into m, as "What is counted" in the package documentation says, and
// returns what the call returned, unchanged. A call that panics counts as a
// failure and the panic goes on.
//
// Monitor panics with a [*resilience.ConfigError] if m is nil, and the
// Policy panics with [resilience.ErrNilFunc] when applied to a nil Func. A
// call with a nil ctx returns [resilience.ErrNilContext], unrecorded.
func Monitor[T any](m *Metrics) resilience.Policy[T] {
	if m == nil {
		panic(&resilience.ConfigError{Pkg: "monitor", Field: "Monitor(m)", Want: "a *Metrics (NewMetrics or a zero Metrics)"})
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (v T, err error) {
			if ctx == nil {
				return v, resilience.ErrNilContext
			}
			// Whether ctx was done before the call: for the Background
			// context a constant nil, for the std lib's others an atomic
			// load.
			wasDone := ctx.Err() != nil
			start := clock.Now()
			returned := false
			defer func() {
				if !returned {
					// next panicked (or called runtime.Goexit): the call
					// failed, and the panic goes on after this.
					end := clock.Now()
					m.record(ctx, end, end-start, resilience.OutcomeFailure, nil)
				}
			}()
			v, err = next(ctx)
			returned = true
			end := clock.Now()
			o := resilience.Classify(ctx, err)
			if o == resilience.OutcomeDeadline && wasDone {
				// The deadline had passed before the call began.
				o = resilience.OutcomeRejected
			}
			m.record(ctx, end, end-start, o, err)
			return v, err
		}
	}
}
