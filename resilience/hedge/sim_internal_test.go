package hedge

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// feed runs n first attempts with latencies from draw against l, as the
// policy would, and returns the share that outlived the delay.
func feed(l *learner, n int, draw func() time.Duration) float64 {
	late := 0
	for range n {
		lat, d := draw(), l.current()
		if lat < d {
			l.finished(lat)
		} else {
			l.late(d)
			late++
		}
	}
	return float64(late) / float64(n)
}

func TestLearner_realisedRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	logNormal := func() time.Duration {
		return time.Duration(float64(20*time.Millisecond) * math.Exp(0.6*rng.NormFloat64()))
	}
	for _, tc := range []struct {
		name string
		r    float64
		draw func() time.Duration
	}{
		{"lognormal 1%", 0.01, logNormal},
		{"lognormal 5%", 0.05, logNormal},
		{"lognormal 20%", 0.2, logNormal},
	} {
		l := new(learner)
		l.init(tc.r, 0, time.Second)
		feed(l, int(500/tc.r), tc.draw)
		got := feed(l, int(5000/tc.r), tc.draw)
		t.Logf("%s: realised %.3f%%, delay %v", tc.name, 100*got, l.current())
		if got < tc.r*0.9 || got > tc.r*1.1 {
			t.Errorf("%s: realised %.3f%%, want within ±10%%", tc.name, 100*got)
		}
	}
}

// After the dependency becomes 4× slower, the delay follows: the censored
// calls are not mistaken for fast ones.
func TestLearner_followsAStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	scale := 1.0
	draw := func() time.Duration {
		return time.Duration(scale * float64(20*time.Millisecond) * math.Exp(0.6*rng.NormFloat64()))
	}
	l := new(learner)
	l.init(0.05, 0, 10*time.Second)
	feed(l, 20000, draw)
	before := l.current()
	scale = 4
	feed(l, 5000, draw)
	got := feed(l, 20000, draw)
	t.Logf("delay %v before the step, %v after; realised %.2f%% after", before, l.current(), 100*got)
	if ratio := float64(l.current()) / float64(before); ratio < 3.5 || ratio > 4.5 {
		t.Errorf("the delay went from %v to %v, want about 4× after a 4× step", before, l.current())
	}
	if got < 0.045 || got > 0.055 {
		t.Errorf("realised %.2f%% after the step, want 5%% ± 10%%", 100*got)
	}
}
