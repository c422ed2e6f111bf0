package breaker

import (
	"context"
	"log/slog"
	"time"

	"github.com/steadyhq/steady/internal/hook"
)

// event is one change of state (or Isolate, Reset) waiting to be logged and
// passed to OnStateChange.
type event struct {
	msg, reason string
	from, to    State
	counts      Counts
	nextProbe   time.Time // when the breaker opened
}

// deliver logs e and passes it to OnStateChange. It runs from
// events.Queue.Drain, so one at a time, in order and with no lock held;
// hook.Call keeps a panic in either from crashing the goroutine (maybe the
// open timer's) and from stopping the events behind e.
func (cb *CircuitBreaker) deliver(e event) {
	if l := cb.cfg.Logger; l != nil {
		// A panicking Logger is reported to slog.Default: reporting it to
		// itself would panic again.
		hook.Call(nil, "breaker: Logger", func() { cb.log(l, &e) })
	}
	if f := cb.cfg.OnStateChange; f != nil && e.from != e.to {
		hook.Call(cb.cfg.Logger, "breaker: OnStateChange", func() { f(cb.cfg.Name, e.from, e.to) })
	}
}

func (cb *CircuitBreaker) log(l *slog.Logger, e *event) {
	level := slog.LevelInfo
	if e.to == StateOpen {
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !l.Enabled(ctx, level) {
		return
	}
	c := &e.counts
	attrs := []slog.Attr{
		slog.String("breaker", cb.cfg.Name),
		slog.String("from", e.from.String()),
		slog.String("to", e.to.String()),
		slog.String("reason", e.reason),
		slog.Group("counts",
			slog.Uint64("calls", c.Calls),
			slog.Uint64("successes", c.Successes),
			slog.Uint64("failures", c.Failures),
			slog.Uint64("timeouts", c.Timeouts),
			slog.Uint64("slow", c.SlowCalls),
			slog.Uint64("excluded", c.Excluded),
			slog.Uint64("consecutive_failures", uint64(c.ConsecutiveFailures)),
			slog.Float64("failure_rate", c.FailureRate),
			slog.Float64("timeout_rate", c.TimeoutRate),
			slog.Float64("slow_call_rate", c.SlowCallRate),
		),
	}
	if !e.nextProbe.IsZero() {
		attrs = append(attrs, slog.Time("next_probe", e.nextProbe))
	}
	l.LogAttrs(ctx, level, e.msg, attrs...)
}
