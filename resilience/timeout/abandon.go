package timeout

import (
	"context"
	"runtime"
	"sync/atomic"

	"github.com/steadyhq/steady/resilience"
)

// abandoned counts, process-wide, the abandoned calls still running.
var abandoned atomic.Int64

// Abandoned returns the number of calls, across all policies in abandon
// mode in the process, that returned to their callers while their fn kept
// running, and whose fn has not returned yet. A value that keeps growing is
// a leak. A call may be counted for an instant while its caller and its fn
// finish at the same moment; the count is never below the calls really
// abandoned.
func Abandoned() int64 { return abandoned.Load() }

// The states of a call in abandon mode. The goroutine running fn and the
// caller race to move a call out of running; whoever wins decides whether
// the result is delivered (done) or the call is abandoned.
const (
	running int32 = iota
	done
	gone // abandoned by the caller
)

// call is the state shared by the caller and the goroutine running fn. It
// is the only allocation of abandon mode besides the goroutine's closure
// and the context: there is no result channel, because the goroutine
// signals completion by canceling the call's own context, on whose Done
// channel the caller already waits for the limit and for its parent.
type call[T any] struct {
	next   resilience.Func[T]
	ctx    context.Context // the derived context fn runs with
	cancel context.CancelFunc
	gauge  Gauge // the Track gauge, or nil

	state atomic.Int32

	// Written by the goroutine before it leaves state running; read by the
	// caller only after it saw state done.
	v        T
	err      error
	returned bool // fn returned normally
	panicked bool // fn panicked with panicVal
	panicVal any  // neither returned nor panicked: fn called runtime.Goexit
}

// abandoning runs next in its own goroutine under the limit, and returns
// when next returns, the limit fires or the caller's context is done,
// whichever is first.
func abandoning[T any](l *limit, next resilience.Func[T], g Gauge) resilience.Func[T] {
	return func(ctx context.Context) (T, error) {
		var zero T
		if ctx == nil {
			return zero, resilience.ErrNilContext
		}
		tctx, cancel := l.derive(ctx)
		defer cancel()
		if tctx.Err() != nil {
			// Our limit or the caller's: fn is not started on a dead
			// context, and no goroutine is spent on it.
			return zero, l.ended(ctx, tctx, true)
		}
		c := &call[T]{next: next, ctx: tctx, cancel: cancel, gauge: g}
		go c.run()
		<-tctx.Done()

		if c.state.Load() == running {
			// Count before claiming, so that a goroutine that finishes
			// right after the claim never takes the gauges below zero.
			c.add(1)
			if c.state.CompareAndSwap(running, gone) {
				return zero, l.ended(ctx, tctx, false)
			}
			c.add(-1) // fn finished first after all
		}

		switch {
		case c.panicked:
			// Re-raised here, with the original value, so that a panic in
			// fn behaves as it would without the policy: it unwinds the
			// caller, who may recover it.
			panic(c.panicVal)
		case !c.returned:
			// fn called runtime.Goexit (t.FailNow, say); end the caller's
			// goroutine too, as it would have without the policy.
			runtime.Goexit()
		}
		if c.err != nil && l.fired(tctx) {
			return c.v, l.wrap(c.err, false)
		}
		return c.v, c.err
	}
}

// run is the goroutine of one call: it runs fn, then hands the outcome to
// the caller or, if the caller has gone, uncounts the call.
func (c *call[T]) run() {
	defer c.finish()
	defer func() {
		if !c.returned {
			// recover returns nil after runtime.Goexit, which finish
			// tells apart from a panic by returned and panicked both
			// being false. (panic(nil) recovers a *runtime.PanicNilError.)
			if r := recover(); r != nil {
				c.panicked, c.panicVal = true, r
			}
		}
	}()
	c.v, c.err = c.next(c.ctx)
	c.returned = true
}

// finish delivers the outcome. Canceling the context is what wakes the
// caller; it also releases the context's timer, so nothing of the call
// outlives fn.
func (c *call[T]) finish() {
	if c.state.CompareAndSwap(running, done) {
		c.cancel()
		return
	}
	// The caller has returned without us.
	c.cancel()
	c.add(-1)
	if c.panicked {
		// Nobody is left to re-raise it to. A panic in a goroutine
		// crashes the program, and hiding it would hide a bug, so it is
		// raised again here (Abandon's documentation says so).
		panic(c.panicVal)
	}
}

// add adds delta to the package gauge and the Track gauge.
func (c *call[T]) add(delta int64) {
	abandoned.Add(delta)
	if c.gauge != nil {
		c.gauge.Add(delta)
	}
}
