package monitor

import (
	"context"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/resilience"
)

// Monitor returns a Policy that records the duration and outcome of every
// call into m, and returns what the call returned, unchanged.
//
// The outcome is [resilience.Classify]'s, counted as: success in
// Successes; failure in Failures; timeout (a limit inside fired) and
// deadline (the caller's own deadline passed during the call) in Timeouts;
// canceled (the caller canceled) in Canceled, which is not a failure;
// rejected (a policy inside, such as an open circuit breaker, refused the
// call without calling the dependency) in Rejected, which is neither a
// failure nor a timeout and is kept out of the durations, the timeout rate
// and the alert windows. A call that panics counts as a failure and the
// panic goes on.
//
// A call whose ctx deadline had already passed when it began, and that
// fails, counts as rejected, not as a timeout: the dependency had no chance
// to answer it. Monitor still calls next with that ctx (what the call does
// and returns is next's business), and a success still counts as one. A
// call whose ctx was already canceled counts as canceled, as any call the
// caller canceled does.
//
// The duration is measured with the monotonic clock, read once before and
// once after the call. On success and on a rejection Monitor does not
// allocate.
//
// Placed outermost in a pipeline (the recommended order is Monitor,
// Breaker, Retry, Timeout), it sees each logical call as the caller does,
// retries and all, and counts what an open breaker rejects as Rejected. Any
// number of pipelines, of any result type, may share one m.
//
// If m is nil or has a configuration error ([Metrics.Err]), every call
// fails at once with that error, a [*resilience.ConfigError], without
// calling next. A nil ctx fails with [resilience.ErrNilContext] and a nil
// next with [resilience.ErrNilFunc]; neither is recorded.
func Monitor[T any](m *Metrics) resilience.Policy[T] {
	if err := m.Err(); err != nil {
		return func(resilience.Func[T]) resilience.Func[T] { return resilience.Fail[T](err) }
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			return resilience.Fail[T](resilience.ErrNilFunc)
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
