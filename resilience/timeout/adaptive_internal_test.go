package timeout

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAdaptive_learn times what WithAdaptive adds to a call past the
// warm-up, without the context.WithTimeout that dominates a whole call:
// reading the limit, checking the caller's deadline and Karn's mark, and
// counting the call (with the shared downward step once per batch).
func BenchmarkAdaptive_learn(b *testing.B) {
	a, err := NewAdaptive(AdaptiveConfig{TargetRate: 0.01, Min: time.Minute / 2, Max: time.Minute, Warmup: 1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	a.learn(ctx, outcome{teach: true}) // ends the warm-up
	b.ReportAllocs()
	var sink time.Duration
	for b.Loop() {
		sink += a.Current()
		a.learn(ctx, outcome{teach: true})
	}
	_ = sink
}
