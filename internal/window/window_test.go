package window_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/internal/window"
)

// counts returns Counts with c[0] = n.
func counts(n uint64) window.Counts { return window.Counts{n} }

func TestSum_keepsTheLastTenTicks(t *testing.T) {
	w := window.New(10 * time.Second) // ticks of 1s
	var total uint64
	for s := range 15 {
		now := time.Duration(s) * time.Second
		if w.Due(now) {
			w.Advance(now, counts(total))
		}
		total++ // one call per second, counted after the tick's snapshot
		assert.Equal(t, min(total, 10), w.Sum(now, counts(total))[0], "at %v", now)
	}
}

func TestSum_skippedTicksAreEmpty(t *testing.T) {
	w := window.New(10 * time.Second)
	w.Sum(0, counts(0))
	assert.Equal(t, uint64(5), w.Sum(500*time.Millisecond, counts(5))[0])
	// Nothing counted for 30s: the next look sees only what is new.
	assert.Equal(t, uint64(0), w.Sum(30*time.Second, counts(5))[0])
	assert.Equal(t, uint64(2), w.Sum(31*time.Second, counts(7))[0])
}

func TestAdvance_reportsClosedWindowOncePerTick(t *testing.T) {
	w := window.New(10 * time.Second)
	_, ok := w.Advance(0, counts(0))
	assert.True(t, ok)
	assert.False(t, w.Due(999*time.Millisecond))
	_, ok = w.Advance(999*time.Millisecond, counts(3))
	assert.False(t, ok, "same tick")
	assert.True(t, w.Due(time.Second))
	closed, ok := w.Advance(time.Second, counts(4))
	assert.True(t, ok)
	assert.Equal(t, uint64(4), closed[0], "the window that ended at 1s holds every count so far")
	closed, ok = w.Advance(2*time.Second, counts(10))
	assert.True(t, ok)
	assert.Equal(t, uint64(10), closed[0])
	// Nobody advanced from 2s to 13s, so nothing was counted then: the
	// whole ticks 3s to 12s are empty.
	closed, ok = w.Advance(13*time.Second, counts(10))
	assert.True(t, ok)
	assert.Equal(t, uint64(0), closed[0])
}

func TestWindow_negativeReadings(t *testing.T) {
	w := window.New(time.Second)
	assert.Equal(t, uint64(0), w.Sum(-5*time.Second, counts(1))[0])
	assert.Equal(t, uint64(2), w.Sum(-5*time.Second+time.Millisecond, counts(3))[0])
}

// Counters loaded before another caller advanced the window past them give
// an empty count, never a wrapped-around one.
func TestSum_staleCountersDoNotWrapAround(t *testing.T) {
	w := window.New(10 * time.Second)
	w.Sum(0, counts(0))
	stale := counts(5)                   // loaded by a slow caller at 1s
	w.Advance(30*time.Second, counts(9)) // another caller, after an idle spell
	assert.Equal(t, uint64(0), w.Sum(time.Second, stale)[0])
}
