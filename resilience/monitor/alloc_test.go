//go:build !race

package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/resilience/monitor"
)

// The race detector makes sync.Pool drop items and atomics allocate
// shadow state, so allocation counts are pinned without it.

func TestRecord_doesNotAllocate(t *testing.T) {
	var zero monitor.Metrics
	alerting := newMetrics(t, monitor.Config{Alerts: []monitor.AlertRule{{Threshold: 0.5}}})
	for _, m := range []*monitor.Metrics{&zero, alerting} {
		allocs := testing.AllocsPerRun(1000, func() {
			m.Record(3*time.Millisecond, success)
			m.Record(3*time.Millisecond, failure)
			m.Record(3*time.Millisecond, canceled)
			m.Record(3*time.Millisecond, rejected)
		})
		assert.Zero(t, allocs)
	}
}

func TestMonitor_doesNotAllocate(t *testing.T) {
	m := newMetrics(t, monitor.Config{Alerts: []monitor.AlertRule{{Threshold: 0.5}}})
	ok := monitor.Monitor[int](m)(func(context.Context) (int, error) { return 1, nil })
	boom := errors.New("boom")
	failing := monitor.Monitor[*int](m)(func(context.Context) (*int, error) { return nil, boom })
	refused := fmt.Errorf("charge: %w", rejection{})
	refusing := monitor.Monitor[int](m)(func(context.Context) (int, error) { return 0, refused })
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = ok(ctx) }), "success")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = failing(ctx) }), "failure")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = refusing(ctx) }), "rejected")

	live, cancel := context.WithCancel(ctx)
	defer cancel()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = ok(live) }), "success, cancelable context")
	late, cancelLate := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancelLate()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = failing(late) }), "deadline passed before the call")
}

func TestSnapshot_doesNotAllocate(t *testing.T) {
	var m monitor.Metrics
	m.Record(time.Millisecond, success)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = m.Snapshot() }))
}
