package timeout_test

import (
	"context"
	"sync/atomic"
	"time"
)

// gauge is a Gauge for tests.
type gauge struct{ n atomic.Int64 }

func (g *gauge) Add(delta int64) { g.n.Add(delta) }
func (g *gauge) Value() int64    { return g.n.Load() }

// waitFor returns a Func that returns v after d, or ctx's error (with the
// context's cause checked by the caller, if it wants) as soon as ctx is
// done: a well-behaved, context-respecting operation.
func waitFor(d time.Duration, v string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return v, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// ignoring returns a Func that sleeps for d whatever ctx says, then returns
// v: an operation that does not honour its context. calls counts its runs.
func ignoring(d time.Duration, v string, calls *atomic.Int64) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		if calls != nil {
			calls.Add(1)
		}
		time.Sleep(d)
		return v, nil
	}
}
