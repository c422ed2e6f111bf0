package timeout

import (
	"context"
	"testing"
	"time"
)

// A warm-up learns only from calls it timed under Max: a call that began
// before it (untimed, so its latency reads 0) or timed out at a lower limit
// is skipped, so it cannot fill the histogram with zero latencies and send
// the limit to Min.
func TestAdaptive_warmUpSkipsCallsItDidNotTime(t *testing.T) {
	a := newAdaptive(AdaptiveConfig{TargetRate: 0.01, Max: time.Second, Warmup: 20}.withDefaults())
	if a.hist.Load() == nil {
		t.Fatal("a new Adaptive is not warming up")
	}
	for range 30 {
		a.learn(context.Background(), outcome{teach: true, timed: false, limit: 10 * time.Millisecond})
		a.learn(context.Background(), outcome{teach: true, timedOut: true, timed: true, limit: 10 * time.Millisecond})
	}
	s := a.Snapshot()
	if !s.WarmingUp || s.Skipped != 60 || a.hist.Load().total.Load() != 0 {
		t.Errorf("Snapshot %+v, histogram %d: want the 60 calls skipped and the warm-up untouched", s, a.hist.Load().total.Load())
	}
	for range 20 {
		a.learn(context.Background(), outcome{teach: true, timed: true, limit: time.Second, took: 10 * time.Millisecond})
	}
	if got := a.Current(); got < 10*time.Millisecond || got > 20*time.Millisecond {
		t.Errorf("limit %v after a warm-up on 10ms calls, want about 10ms", got)
	}
}
