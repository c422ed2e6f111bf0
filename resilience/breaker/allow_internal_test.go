package breaker

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// A call that loads a half-open phase and takes a probe slot only after a
// probe has reopened the breaker must not get through: the breaker is open.
func TestAllow_probeSlotOfAnEndedHalfOpenPhaseIsNotTaken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cb, err := New(Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenRequests: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer cb.Reset()
		tk, _ := cb.Allow()
		tk.Done(context.Background(), errors.New("down"))
		time.Sleep(1100 * time.Millisecond)
		stale := cb.cur.Load() // what a slow Allow loaded
		if stale.mode != modeHalfOpen {
			t.Fatalf("state %v, want half-open", cb.State())
		}
		probe, err := cb.Allow()
		if err != nil {
			t.Fatal(err)
		}
		probe.Done(context.Background(), errors.New("still down")) // reopens; one slot of stale is still free

		tk, by := cb.tryProbe(stale)
		if by == nil || by.mode != modeOpen {
			t.Fatalf("tryProbe on the ended phase = %+v, %v; want the open breaker's rejection", tk, by)
		}
		if n := stale.probes.Load(); n != 1 {
			t.Errorf("the ended phase has %d probes, want 1: the slot is given back", n)
		}
	})
}
