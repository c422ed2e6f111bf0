package monitor

import (
	"context"
	"log/slog"
	"time"

	"github.com/steadyhq/steady/internal/hook"
	"github.com/steadyhq/steady/resilience"
)

// logEvery is the shortest time between two timeout lines of one Metrics.
const logEvery = time.Second

// logTimeout logs a timed-out call, already counted, at most once per
// logEvery per Metrics, with the number of timeouts left unlogged since the
// line before. Those are not counted one by one (one more atomic add on a
// cache line shared by all CPUs, in a storm): the line works them out from
// the shards' timeout counts, which Reset does not change.
func (m *Metrics) logTimeout(ctx context.Context, now, d time.Duration, o resilience.Outcome, err error) {
	if m.logger == nil {
		return
	}
	next := m.logNext.Load()
	// 0 means no line yet; a reading that happens to be 0 only lets one
	// line through early.
	if next != 0 && int64(now) < next || !m.logNext.CompareAndSwap(next, int64(now+logEvery)) {
		return
	}
	count := m.windowCounts()[winTimeouts]
	suppressed := max(int64(count-m.logCount.Swap(count))-1, 0) // all but this one
	attrs := [...]slog.Attr{
		slog.String("name", m.name),
		slog.String("outcome", o.String()),
		slog.Duration("duration", d),
		slog.Int64("suppressed", suppressed),
		{},
	}
	n := len(attrs) - 1
	if err != nil {
		attrs[n] = slog.Any("err", err)
		n++
	}
	m.log(ctx, slog.LevelWarn, "monitor: call timed out", attrs[:n])
}

// logAlert logs an alert event: Warn when it fires, Info when it resolves.
func (m *Metrics) logAlert(ev AlertEvent) {
	if m.logger == nil {
		return
	}
	level, msg := slog.LevelInfo, "monitor: timeout rate alert resolved"
	if ev.Firing {
		level, msg = slog.LevelWarn, "monitor: timeout rate alert firing"
	}
	m.log(context.Background(), level, msg, []slog.Attr{
		slog.String("name", ev.Name),
		slog.Float64("rate", ev.Rate),
		slog.Int64("calls", ev.Calls),
		slog.Int64("timeouts", ev.Timeouts),
		slog.Duration("window", ev.Window),
		slog.Float64("threshold", ev.Threshold),
	})
}

// log logs to m.logger, which is not nil. A panic in its handler is
// recovered and reported to slog.Default, not to the handler that
// panicked.
func (m *Metrics) log(ctx context.Context, level slog.Level, msg string, attrs []slog.Attr) {
	hook.Call(nil, "monitor: Logger", func() { m.logger.LogAttrs(ctx, level, msg, attrs...) })
}
