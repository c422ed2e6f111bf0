package monitor

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRuleStep_hugeCooldown steps a rule at positive clock readings (as
// outside a testing/synctest bubble, where those of the tests are
// negative): a Cooldown too long to add to the reading of a firing means
// the rule never fires again, rather than wrapping round to "at once".
func TestRuleStep_hugeCooldown(t *testing.T) {
	r, err := AlertRule{Window: 10 * time.Second, MinCalls: 1, Threshold: 0.5, Cooldown: math.MaxInt64}.normalize()
	require.NoError(t, err)
	rl := newRule(r)
	var m Metrics
	step := func(tick int64, cur counts) bool {
		return rl.step(tick, time.Duration(tick*rl.width), cur, &m)
	}
	const start = 1000 // 1000s of clock readings
	assert.False(t, step(start, counts{}), "the window starts")
	assert.True(t, step(start+1, counts{calls: 10, timeouts: 10}), "fires")
	assert.True(t, step(start+2, counts{calls: 110, timeouts: 10}), "resolves")
	for tick := int64(start + 3); tick < start+100; tick++ {
		require.False(t, step(tick, counts{calls: 110 + 100*(tick-start), timeouts: 10 + 100*(tick-start)}),
			"fired again at tick %d", tick)
	}
	assert.False(t, rl.firing)
}

func TestAddSat(t *testing.T) {
	assert.Equal(t, 3*time.Second, addSat(time.Second, 2*time.Second))
	assert.Equal(t, time.Duration(-1), addSat(math.MinInt64, math.MaxInt64))
	assert.Equal(t, time.Duration(math.MaxInt64), addSat(time.Second, math.MaxInt64))
	assert.Equal(t, time.Duration(math.MaxInt64), addSat(math.MaxInt64, 1))
}
