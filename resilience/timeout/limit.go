package timeout

import (
	"context"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// Limit is the limit of [WithTimeout] applied by hand, for work whose
// context must outlive the function that starts it, such as an HTTP
// response body read after RoundTrip has returned. Make one per limit with
// [NewLimit] and share it; it is safe for concurrent use.
type Limit struct{ l *limit }

// NewLimit returns a Limit of d. A d <= 0 panics with a
// [*resilience.ConfigError].
func NewLimit(d time.Duration) *Limit {
	if d <= 0 {
		panic(&resilience.ConfigError{Pkg: "timeout", Field: "NewLimit(d)", Value: d, Want: "> 0"})
	}
	return &Limit{newLimit(d, time.Time{})}
}

// Start returns a context derived from ctx that expires after the limit,
// and its cancel func. Call cancel when the work ends.
func (l *Limit) Start(ctx context.Context) (context.Context, context.CancelFunc) {
	return l.l.derive(ctx)
}

// Err returns err wrapped in an [*Error] when err is not nil and this limit
// fired on ctx (a context from Start), and err unchanged otherwise. Call it
// before ctx's cancel func.
func (l *Limit) Err(ctx context.Context, err error) error {
	if err != nil && l.l.fired(ctx) {
		return l.l.wrap(err, false)
	}
	return err
}
