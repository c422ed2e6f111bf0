package monitor

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/internal/window"
)

// TestRule_cooldownTooLongToAddNeverFiresAgain steps a rule at positive
// clock readings (as outside a testing/synctest bubble, where those of the
// tests are negative): a Cooldown too long to add to the reading of a
// firing means the rule never fires again, rather than wrapping round to
// "at once".
func TestRule_cooldownTooLongToAddNeverFiresAgain(t *testing.T) {
	rl := newRule(AlertRule{Window: 10 * time.Second, MinCalls: 1, Threshold: 0.5, Cooldown: math.MaxInt64}.withDefaults(), "")
	var m Metrics
	step := func(tick int64, calls, timeouts int64) bool { // ticks are 1s
		return rl.step(time.Duration(tick)*time.Second, window.Counts{winCalls: uint64(calls), winTimeouts: uint64(timeouts)}, &m)
	}
	const start = 1000
	assert.False(t, step(start, 0, 0), "the window starts")
	assert.True(t, step(start+1, 10, 10), "fires")
	assert.True(t, step(start+2, 110, 10), "resolves")
	for tick := int64(start + 3); tick < start+100; tick++ {
		n := 100 * (tick - start)
		require.False(t, step(tick, 110+n, 10+n), "fired again at tick %d", tick)
	}
	assert.False(t, rl.firing)
}

func TestAddSat_saturatesAtMaxInt64(t *testing.T) {
	assert.Equal(t, 3*time.Second, addSat(time.Second, 2*time.Second))
	assert.Equal(t, time.Duration(-1), addSat(math.MinInt64, math.MaxInt64))
	assert.Equal(t, time.Duration(math.MaxInt64), addSat(time.Second, math.MaxInt64))
	assert.Equal(t, time.Duration(math.MaxInt64), addSat(math.MaxInt64, 1))
}
