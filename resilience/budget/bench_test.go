package budget_test

import (
	"testing"

	"github.com/steadyhq/steady/resilience/budget"
)

// The cost of a budget's methods on their own; the cost inside a retry,
// next to a retry without a budget, is in the benchmarks module
// (BenchmarkRetryBudget...).
//
// Run: go test -run '^$' -bench . -count 10 ./resilience/budget/

// BenchmarkSuccess is what a call that succeeds at once costs a budget:
// Request and Done.
func BenchmarkSuccess(b *testing.B) {
	for _, bb := range budgets[:len(budgets)-1] {
		if bb.name == "adaptive-500" {
			continue
		}
		b.Run("budget="+bb.name, func(b *testing.B) {
			bud := bb.new()
			b.ReportAllocs()
			for b.Loop() {
				bud.Request()
				bud.Done(false, true)
			}
		})
	}
}

func BenchmarkSuccessParallel(b *testing.B) {
	for _, bb := range budgets[:len(budgets)-1] {
		if bb.name == "adaptive-500" {
			continue
		}
		b.Run("budget="+bb.name, func(b *testing.B) {
			bud := bb.new()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					bud.Request()
					bud.Done(false, true)
				}
			})
		})
	}
}

// BenchmarkRetry is what a retry that succeeds costs a budget: Retry, and
// Done for the attempt. Every budget here has room for all of them.
func BenchmarkRetry(b *testing.B) {
	for _, bb := range []struct {
		name string
		new  func() budget.Budget
	}{
		{"adaptive", func() budget.Budget { return must(budget.NewAdaptive(budget.AdaptiveConfig{})) }},
		{"ratio", func() budget.Budget { return must(budget.NewRatio(budget.RatioConfig{MinPerSecond: 1e9})) }},
		{"throttler", func() budget.Budget { return must(budget.NewThrottler(budget.ThrottlerConfig{})) }},
	} {
		b.Run("budget="+bb.name, func(b *testing.B) {
			bud := bb.new()
			b.ReportAllocs()
			for b.Loop() {
				if !bud.Retry() {
					b.Fatal("denied")
				}
				bud.Done(true, true)
			}
		})
	}
}
