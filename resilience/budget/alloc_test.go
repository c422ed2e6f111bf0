//go:build !race

package budget_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/resilience/budget"
)

// These pin the promise of the package doc: no budget allocates per call.
// (A windowed budget allocates one small snapshot per tick of its window,
// which AllocsPerRun's average over 1,000 calls rounds away; the calls
// below take no fake time, so no tick passes anyway.)

func TestBudgets_doNotAllocate(t *testing.T) {
	for _, bb := range budgets[:len(budgets)-1] {
		synctest.Test(t, func(t *testing.T) {
			b := bb.new()
			i := 0
			allocs := testing.AllocsPerRun(1000, func() {
				i++
				b.Request()
				b.Done(false, i%2 == 0)
				if b.Retry() {
					b.Done(true, i%3 == 0)
				}
				_ = b.Snapshot()
			})
			assert.Zero(t, allocs, bb.name)
		})
	}
}

func TestThrottle_doesNotAllocate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := newThrottlerBudget(t, budget.ThrottlerConfig{})
		errs := []error{nil, statusErr(404), fmt.Errorf("get: %w", statusErr(503)), context.DeadlineExceeded}
		i := 0
		call := budget.Throttle[int](th)(func(context.Context) (int, error) { i++; return i, errs[i%len(errs)] })
		ctx := t.Context()
		allocs := testing.AllocsPerRun(1000, func() { _, _ = call(ctx) })
		assert.Zero(t, allocs)
	})
}
