package chaos

import (
	"net/http"
	"testing"
	"time"
)

func TestDraw_isAFunctionOfSeedNumberAndTime(t *testing.T) {
	faults := []Fault{
		Latency(LogNormal(20*time.Millisecond, 0.6)),
		Stragglers(0.05, 400*time.Millisecond),
		Status(503).Rate(0.3).Between(time.Second, 2*time.Second),
		Reset().Rate(0.1),
		Truncate().Rate(0.1),
	}
	a, _ := New(Config{Seed: 42, Faults: faults})
	b, _ := New(Config{Seed: 42, Faults: faults})
	c, _ := New(Config{Seed: 43, Faults: faults})
	differ := 0
	for n := range uint64(2000) {
		since := time.Duration(n) * time.Millisecond
		pa, pb, pc := a.draw(n, since), b.draw(n, since), c.draw(n, since)
		if pa != pb {
			t.Fatalf("request %d: %+v and %+v with one seed", n, pa, pb)
		}
		if pa != pc {
			differ++
		}
	}
	if differ < 1000 {
		t.Errorf("seeds 42 and 43 differ on only %d of 2000 requests", differ)
	}
}

func TestDraw_addingAFaultKeepsTheOthersDraws(t *testing.T) {
	base := []Fault{Status(503).Rate(0.3), Reset().Rate(0.1)}
	a, _ := New(Config{Seed: 1, Faults: base})
	b, _ := New(Config{Seed: 1, Faults: append(append([]Fault(nil), base...), Truncate().Rate(0.5))})
	for n := range uint64(1000) {
		pa, pb := a.draw(n, 0), b.draw(n, 0)
		if pa.term != pb.term {
			t.Fatalf("request %d: the status and reset draws changed when a third fault was added", n)
		}
	}
}

func TestRetryAfterDate_roundsUp(t *testing.T) {
	f := ThrottleDate(time.Second)
	now := time.Date(2026, 11, 30, 12, 0, 0, 300e6, time.UTC)
	got := retryAfter(&f, now)
	if want := "Mon, 30 Nov 2026 12:00:02 GMT"; got != want {
		t.Errorf("Retry-After at 12:00:00.3 for 1s = %q, want %q (at least 1 s later, in whole seconds)", got, want)
	}
	at, _ := http.ParseTime(got)
	if at.Sub(now) < time.Second {
		t.Errorf("a client honouring %q would wait only %v", got, at.Sub(now))
	}
	exact := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if got := retryAfter(&f, exact); got != "Mon, 30 Nov 2026 12:00:01 GMT" {
		t.Errorf("Retry-After at 12:00:00.0 for 1s = %q", got)
	}
}
