package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/monitor"
)

// logBuffer is a JSON slog handler writing into memory, without the time.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (lb *logBuffer) Write(p []byte) (int, error) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.buf.Write(p)
}

func (lb *logBuffer) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: level, ReplaceAttr: dropTime}))
}

// lines returns the logged lines, decoded.
func (lb *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	lb.mu.Lock()
	defer lb.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(lb.buf.String()) {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &v), line)
		out = append(out, v)
	}
	return out
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

func TestLog_timeoutsAreRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lb logBuffer
		m := newMetrics(t, monitor.Config{Name: "api", Logger: lb.logger(slog.LevelInfo)})

		for range 100 {
			m.Record(2*time.Second, timedOut)
		}
		m.Record(time.Millisecond, success)
		m.Record(time.Millisecond, failure)
		m.Record(time.Millisecond, canceled)
		require.Len(t, lb.lines(t), 1, "a storm of timeouts logs one line, other outcomes none")
		assert.Equal(t, map[string]any{
			"level": "WARN", "msg": "monitor: call timed out",
			"name": "api", "outcome": "timeout", "duration": float64(2 * time.Second), "suppressed": float64(0),
		}, lb.lines(t)[0])

		time.Sleep(time.Second - time.Nanosecond)
		m.Record(time.Second, timedOut)
		require.Len(t, lb.lines(t), 1, "at most one line a second")

		time.Sleep(time.Nanosecond)
		m.Record(3*time.Second, deadline)
		require.Len(t, lb.lines(t), 2)
		assert.Equal(t, map[string]any{
			"level": "WARN", "msg": "monitor: call timed out",
			"name": "api", "outcome": "deadline", "duration": float64(3 * time.Second), "suppressed": float64(100),
		}, lb.lines(t)[1], "the line says how many went unlogged")
	})
}

func TestLog_monitoredTimeoutCarriesErrorAndContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lb logBuffer
		l := slog.New(ctxHandler{lb.logger(slog.LevelInfo).Handler()})
		m := newMetrics(t, monitor.Config{Name: "api", Logger: l})
		call := monitor.Monitor[int](m)(func(ctx context.Context) (int, error) {
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			<-ctx.Done()
			return 0, fmt.Errorf("attempt: %w", ctx.Err())
		})
		_, err := call(context.WithValue(context.Background(), traceKey{}, "abc123"))
		require.Error(t, err)
		lines := lb.lines(t)
		require.Len(t, lines, 1)
		assert.Equal(t, "attempt: context deadline exceeded", lines[0]["err"])
		assert.Equal(t, "abc123", lines[0]["trace"], "the call's ctx reaches the handler")
		assert.Equal(t, float64(time.Second), lines[0]["duration"])
	})
}

type traceKey struct{}

// ctxHandler adds the trace ID in the context, as tracing handlers do.
type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(traceKey{}).(string); ok {
		r.AddAttrs(slog.String("trace", id))
	}
	return h.Handler.Handle(ctx, r)
}

func TestLog_disabledLevelLogsNothing(t *testing.T) {
	var lb logBuffer
	m := newMetrics(t, monitor.Config{Logger: lb.logger(slog.LevelError)})
	m.Record(time.Second, timedOut)
	assert.Empty(t, lb.lines(t))
}

func TestLog_alerts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lb logBuffer
		m := newMetrics(t, monitor.Config{Name: "api", Logger: lb.logger(slog.LevelInfo),
			Alerts: []monitor.AlertRule{{Window: window, MinCalls: 10, Threshold: 0.5}}})
		record(m, 10, timedOut) // logs one timeout line
		time.Sleep(tick)
		m.Snapshot()
		record(m, 30, success)
		time.Sleep(tick)
		m.Snapshot()

		lines := lb.lines(t)
		require.Len(t, lines, 3)
		assert.Equal(t, map[string]any{
			"level": "WARN", "msg": "monitor: timeout rate alert firing", "name": "api",
			"rate": float64(1), "calls": float64(10), "timeouts": float64(10),
			"window": float64(window), "threshold": 0.5,
		}, lines[1])
		assert.Equal(t, map[string]any{
			"level": "INFO", "msg": "monitor: timeout rate alert resolved", "name": "api",
			"rate": 0.25, "calls": float64(40), "timeouts": float64(10),
			"window": float64(window), "threshold": 0.5,
		}, lines[2])
	})
}

// Swaps the process-wide default logger: not parallel.
func captureDefault(t *testing.T) *logBuffer {
	var lb logBuffer
	old := slog.Default()
	slog.SetDefault(lb.logger(slog.LevelDebug))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &lb
}

func TestLog_nilLoggerLogsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lb := captureDefault(t)
		var ev events
		m := newMetrics(t, monitor.Config{Alerts: []monitor.AlertRule{{Window: window, MinCalls: 10, Threshold: 0.5, OnAlert: ev.add}}})
		var zero monitor.Metrics
		for _, m := range []*monitor.Metrics{m, &zero, monitor.Default} {
			record(m, 10, timedOut)
			time.Sleep(tick)
			m.Snapshot()
		}
		require.Len(t, ev.get(), 1, "the alert fired")
		assert.Empty(t, lb.lines(t), "neither the timeouts nor the alert were logged")
	})
}

// A panicking hook is a bug, reported at Error even with no Logger.
func TestLog_panickingOnAlertReportedToDefaultWithNilLogger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lb := captureDefault(t)
		m := newMetrics(t, monitor.Config{Alerts: []monitor.AlertRule{{Window: window, MinCalls: 10, Threshold: 0.5,
			OnAlert: func(monitor.AlertEvent) { panic("callback bug") }}}})
		record(m, 10, timedOut)
		time.Sleep(tick)
		m.Snapshot()
		lines := lb.lines(t)
		require.Len(t, lines, 1)
		assert.Equal(t, "ERROR", lines[0]["level"])
		assert.Equal(t, "monitor: OnAlert", lines[0]["hook"])
	})
}

func TestLog_panickingHandlerDoesNotChangeTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lb := captureDefault(t)
		m := newMetrics(t, monitor.Config{Logger: slog.New(panicHandler{slog.DiscardHandler})})
		want := fmt.Errorf("attempt: %w", context.DeadlineExceeded)
		var err error
		require.NotPanics(t, func() {
			_, err = monitor.Monitor[int](m)(func(context.Context) (int, error) { return 0, want })(t.Context())
		})
		assert.Same(t, want, err)
		assert.Equal(t, int64(1), m.Snapshot().Timeouts, "the call is recorded")
		lines := lb.lines(t)
		require.Len(t, lines, 1, "reported to slog.Default")
		assert.Equal(t, "monitor: Logger", lines[0]["hook"])
	})
}

type panicHandler struct{ slog.Handler }

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler bug") }
