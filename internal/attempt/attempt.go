// Package attempt marks the contexts of attempts that must not teach a
// latency model (Karn's rule): a retry's later attempts, and the attempts of
// a call that was hedged. Their latency says as much about the retry or the
// hedge as about the dependency, so the adaptive timeouts skip them.
//
// Marking costs one small allocation (a context value), so policies that
// make extra attempts mark them only in a program that has a learner
// ([Enable], called by the learners' constructors): without one, a retried
// call stays free of allocation.
package attempt

import (
	"context"
	"sync/atomic"
)

// enabled is set, for good, once a learner exists in the program.
var enabled atomic.Bool

// Enable tells the policies that make extra attempts to mark them from now
// on. A learner's constructor calls it.
func Enable() { enabled.Store(true) }

// Enabled reports whether attempts are to be marked.
func Enabled() bool { return enabled.Load() }

type key struct{}

// Mark says whether the attempts under a context teach nothing. A retry
// marks with a Mark that is set from the start; a hedge marks its first
// attempt with a clear Mark and sets it when it starts a second one.
type Mark struct{ set atomic.Bool }

// Set makes the Mark's attempts teach nothing. It is safe for concurrent
// use.
func (m *Mark) Set() { m.set.Store(true) }

// retried is the Mark of every retry's later attempts.
var retried = func() *Mark {
	m := new(Mark)
	m.Set()
	return m
}()

// Later returns ctx marked as a later attempt (a retry), or ctx itself when
// marking is off ([Enabled]) or ctx is already marked so.
func Later(ctx context.Context) context.Context {
	if !enabled.Load() || Excluded(ctx) {
		return ctx
	}
	return context.WithValue(ctx, key{}, retried)
}

// With returns ctx carrying a new clear Mark, and the Mark, for an attempt
// that may turn out to be one of several (a hedged call). When ctx already
// teaches nothing, it comes back unchanged with a Mark that is set.
func With(ctx context.Context) (context.Context, *Mark) {
	if Excluded(ctx) {
		return ctx, retried
	}
	m := new(Mark)
	return context.WithValue(ctx, key{}, m), m
}

// Excluded reports whether an attempt under ctx must not teach a latency
// model: ctx carries a Mark that is set. Read it when the attempt ends, so
// that a hedge started meanwhile counts.
func Excluded(ctx context.Context) bool {
	m, _ := ctx.Value(key{}).(*Mark)
	return m != nil && m.set.Load()
}
