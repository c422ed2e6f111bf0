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
// even when no Logger was set), with the panic value and the stack. Should
// l's handler panic too, the report goes to slog.Default instead, and is
// dropped if that panics as well. Call reports whether f returned normally.
func Call(l *slog.Logger, name string, f func()) (ok bool) {
	defer func() {
		if ok {
			return
		}
		v := recover() // nil after runtime.Goexit: that one goes on
		if v == nil {
			return
		}
		attrs := []slog.Attr{
			slog.String("hook", name),
			slog.String("panic", fmt.Sprint(v)),
			slog.String("stack", string(debug.Stack())),
		}
		if l == nil || !report(l, attrs) {
			report(slog.Default(), attrs)
		}
	}()
	f()
	return true
}

// report logs a hook's panic to l, and reports whether l did not panic.
func report(l *slog.Logger, attrs []slog.Attr) (ok bool) {
	defer func() {
		if !ok {
			recover()
		}
	}()
	l.LogAttrs(context.Background(), slog.LevelError, "steady: hook panicked", attrs...)
	return true
}
