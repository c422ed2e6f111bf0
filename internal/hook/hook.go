// Package hook runs user hooks so that a panic in one is reported, not
// spread: it never crashes a goroutine the user does not own, never changes
// the result of the call that ran the hook, and never stops later events.
package hook

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Call runs f, which calls the user's hook named name (e.g. "breaker:
// OnStateChange"), and recovers a panic in it. A panic is logged at Error to
// l, or to [slog.Default] when l is nil (a panicking hook is a bug, reported
// even when no Logger was set), with the panic value and the stack. Call
// reports whether f returned normally.
func Call(l *slog.Logger, name string, f func()) (ok bool) {
	defer func() {
		if ok {
			return
		}
		v := recover() // nil after runtime.Goexit: that one goes on
		if v == nil {
			return
		}
		if l == nil {
			l = slog.Default()
		}
		l.LogAttrs(context.Background(), slog.LevelError, "steady: hook panicked",
			slog.String("hook", name),
			slog.String("panic", fmt.Sprint(v)),
			slog.String("stack", string(debug.Stack())),
		)
	}()
	f()
	return true
}
