package benchmarks_test

// Hedging, on a call that needs no hedge (the common case: the first
// attempt answers before the delay). The hedge delay is limit (1s), so no
// hedge ever starts; what is measured is what a hedging policy costs every
// call: a cancelable context for the attempts and a timer for the delay.
// stdlib and steady's WithTimeout are the scale (the target is
// steady's Hedge <= 2x WithTimeout).
//
//   - steady: hedge.Hedge[int](h), h from hedge.New(hedge.Config{Delay: limit}).
//   - failsafe-go: hedgepolicy.NewWithDelay[int](limit), executed like its
//     other policies (failsafeCall).

import (
	"context"
	"testing"

	"github.com/failsafe-go/failsafe-go/hedgepolicy"
	"github.com/steadyhq/steady/resilience/hedge"
)

var hedgeImpls = []impl{
	{"stdlib-timeout", ctxOnly(stdlibTimeout)},
	{"steady-timeout", ctxOnly(steadyTimeout)},
	{"steady", steadyHedge},
	{"failsafe-go", ctxOnly(failsafeHedge)},
}

func BenchmarkHedgeNotNeeded(b *testing.B)         { runSerial(b, hedgeImpls) }
func BenchmarkHedgeNotNeededParallel(b *testing.B) { runParallel(b, hedgeImpls) }

func steadyHedge(b *testing.B, ctx context.Context) call {
	h, err := hedge.New(hedge.Config{Delay: limit})
	if err != nil {
		b.Fatal(err)
	}
	return steadyCall(ctx, hedge.Hedge[int](h)(opCancelable))
}

func failsafeHedge(ctx context.Context) call {
	return failsafeCall(ctx, opCancelable, hedgepolicy.NewWithDelay[int](limit))
}
