package bulkhead

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/steadyhq/steady/resilience"
)

// errAbandoned is the cause of a shared call's context when every caller
// waiting for it has given up.
var errAbandoned = errors.New("bulkhead: every caller of the coalesced call gave up")

// Coalesce returns a Policy under which concurrent calls with the same key
// share one call of next: the first call of a key starts it, calls of that
// key made while it runs wait for it, and all of them get its result. key
// computes a call's key from its context (a user ID from a value, say); a
// call whose key is "" is not coalesced and calls next itself.
//
// A caller whose context ends returns ctx.Err() at once and leaves the
// shared call running for the others; the shared call's context is
// canceled only when every caller waiting for it has left, and a call of
// the key made after that starts a new one. The shared call runs in a
// goroutine of its own with a context that has the first caller's values
// but not its deadline or cancellation. See "Coalescing" in the package
// documentation, on panics and on sharing a result.
//
// Calls share an execution when they go through the same Func: apply the
// Policy once (e.g. with [resilience.Compose]) and reuse the Func. Each
// application has keys of its own, so [resilience.Do] with an inline
// Coalesce coalesces nothing.
//
// A nil key panics with a [*resilience.ConfigError], and applying the
// Policy to a nil next panics with [resilience.ErrNilFunc], when the
// pipeline is built. A nil context at call time returns
// [resilience.ErrNilContext]. A panic in key goes up the caller's stack.
func Coalesce[T any](key func(ctx context.Context) string) resilience.Policy[T] {
	if key == nil {
		panic(&resilience.ConfigError{Pkg: "bulkhead", Field: "Coalesce(key)", Want: "a key function"})
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		g := &group[T]{next: next, calls: make(map[string]*call[T])}
		return func(ctx context.Context) (T, error) {
			if ctx == nil {
				var zero T
				return zero, resilience.ErrNilContext
			}
			k := key(ctx)
			if k == "" {
				return next(ctx)
			}
			return g.do(ctx, k)
		}
	}
}

// group is the shared calls of one Func that Coalesce returned.
type group[T any] struct {
	next resilience.Func[T]

	mu    sync.Mutex // guards calls, and each call's waiters and finished
	calls map[string]*call[T]
}

// call is one shared call of next.
type call[T any] struct {
	key    string
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the outcome below is written

	waiters  int  // callers waiting for the call
	finished bool // next has ended; the outcome is, or is about to be, ready

	// Written by the goroutine running next before done is closed.
	v        T
	err      error
	returned bool // next returned normally
	panicked bool // next panicked with panicVal
	panicVal any  // neither: next called runtime.Goexit
}

// do joins the running call of key k, or starts one, and waits for its
// outcome or for ctx to end.
func (g *group[T]) do(ctx context.Context, k string) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err // no call is started, or kept alive, for a caller already gone
	}
	g.mu.Lock()
	c := g.calls[k]
	if c != nil {
		c.waiters++
		g.mu.Unlock()
	} else {
		// The first caller's values (a trace, credentials) go with the
		// shared call, but not its cancellation or deadline: the call is
		// the others' too, and ends only when all of them have left.
		sctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
		c = &call[T]{key: k, cancel: cancel, done: make(chan struct{}), waiters: 1}
		g.calls[k] = c
		g.mu.Unlock()
		go g.run(c, sctx)
	}

	select {
	case <-c.done:
	case <-ctx.Done():
		if g.leave(c) {
			return zero, ctx.Err()
		}
		// The call finished as ctx ended: its outcome is there, or about
		// to be.
		<-c.done
	}
	switch {
	case c.panicked:
		// Raised again in every caller, with the original value, as it
		// would have been in each of them without Coalesce.
		panic(c.panicVal)
	case !c.returned:
		runtime.Goexit() // next called it (t.FailNow, say): so does each caller
	}
	return c.v, c.err
}

// leave takes a caller whose context ended off c, canceling c when it was
// the last one, and reports whether it left; false means c had finished.
func (g *group[T]) leave(c *call[T]) bool {
	g.mu.Lock()
	if c.finished {
		g.mu.Unlock()
		return false
	}
	c.waiters--
	last := c.waiters == 0
	if last {
		// From now on a call of the key starts afresh instead of joining
		// one that is being canceled.
		delete(g.calls, c.key)
	}
	g.mu.Unlock()
	if last {
		c.cancel(errAbandoned)
	}
	return true
}

// run is the goroutine of a shared call.
func (g *group[T]) run(c *call[T], ctx context.Context) {
	defer g.finish(c)
	defer func() {
		if !c.returned {
			// nil after runtime.Goexit, which finish tells apart from a
			// panic by returned and panicked both being false.
			if r := recover(); r != nil {
				c.panicked, c.panicVal = true, r
			}
		}
	}()
	c.v, c.err = g.next(ctx)
	c.returned = true
}

// finish hands c's outcome to the callers still waiting.
func (g *group[T]) finish(c *call[T]) {
	g.mu.Lock()
	if g.calls[c.key] == c {
		delete(g.calls, c.key)
	}
	c.finished = true
	waiters := c.waiters
	g.mu.Unlock()
	c.cancel(nil) // frees the context; next has returned
	close(c.done)
	if waiters == 0 && c.panicked {
		// Nobody is left to raise it in. Hiding it would hide a bug, so
		// it crashes the program, as a panic in any goroutine does (and
		// as in timeout's abandon mode).
		panic(c.panicVal)
	}
}
