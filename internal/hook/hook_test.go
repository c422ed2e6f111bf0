package hook_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/internal/hook"
)

func TestCall_recoversAndReports(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	ok := hook.Call(l, "breaker: OnStateChange", func() { panic("boom") })
	assert.False(t, ok)
	assert.Contains(t, buf.String(), "level=ERROR")
	assert.Contains(t, buf.String(), "hook=\"breaker: OnStateChange\"")
	assert.Contains(t, buf.String(), "panic=boom")
	assert.Contains(t, buf.String(), "hook_test.go", "the stack shows where the hook panicked")
}

func TestCall_runsHook(t *testing.T) {
	ran := false
	assert.True(t, hook.Call(nil, "x", func() { ran = true }))
	assert.True(t, ran)
}

func TestCall_nilLoggerReportsToDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	hook.Call(nil, "monitor: OnAlert", func() { panic(42) })
	assert.Contains(t, buf.String(), "panic=42")
}

type panicHandler struct{ slog.Handler }

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler broken") }

func TestCall_panickingLoggerFallsBackToDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	ok := hook.Call(slog.New(panicHandler{}), "breaker: OnStateChange", func() { panic("hook broken") })
	assert.False(t, ok)
	assert.Contains(t, buf.String(), "panic=\"hook broken\"", "reported to slog.Default instead")

	slog.SetDefault(slog.New(panicHandler{}))
	assert.NotPanics(t, func() {
		hook.Call(slog.New(panicHandler{}), "x", func() { panic("hook broken") })
	}, "when every logger panics, the report is dropped, not spread")
}
