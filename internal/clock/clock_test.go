package clock_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/steadyhq/steady/internal/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNow_monotonic(t *testing.T) {
	a := clock.Now()
	time.Sleep(time.Millisecond)
	b := clock.Now()
	assert.GreaterOrEqual(t, b-a, time.Millisecond)
}

func TestNow_followsSynctestClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := clock.Now()
		time.Sleep(time.Hour)
		assert.Equal(t, time.Hour, clock.Now()-a, "differences inside a bubble are exact fake time")
	})
}
