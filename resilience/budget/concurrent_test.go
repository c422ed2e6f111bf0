package budget_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/resilience/budget"
)

// grab asks b for retries from 8 goroutines at once, 1,000 each, and
// returns how many it allowed.
func grab(b budget.Budget) int {
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if b.Retry() {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(allowed.Load())
}

// Goroutines racing for the last retries never get more than there are.
func TestBudgets_concurrentRetriesNeverOverdraw(t *testing.T) {
	t.Run("adaptive", func(t *testing.T) {
		b := newAdaptiveBudget(t, budget.AdaptiveConfig{Capacity: 100})
		assert.Equal(t, 100, grab(b))
		s := b.Snapshot()
		assert.Equal(t, int64(100), s.Retries)
		assert.Equal(t, int64(7900), s.Denied)
	})
	t.Run("ratio", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newRatioBudget(t, budget.RatioConfig{MinPerSecond: 10, TTL: 10 * time.Second})
			assert.Equal(t, 100, grab(b))
			assert.Equal(t, int64(7900), b.Snapshot().Denied)
		})
	})
}

// Every method of every budget, from many goroutines at once: run with
// -race. The counts add up afterwards.
func TestBudgets_concurrentUse(t *testing.T) {
	for _, bb := range budgets[:len(budgets)-1] {
		t.Run(bb.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := bb.new()
				var allowed atomic.Int64
				var wg sync.WaitGroup
				for g := range 8 {
					wg.Go(func() {
						for i := range 2000 {
							b.Request()
							b.Done(false, (g+i)%3 != 0)
							if b.Retry() {
								allowed.Add(1)
								b.Done(true, i%2 == 0)
							}
							if i%100 == 0 {
								_ = b.Snapshot()
								time.Sleep(100 * time.Millisecond) // moves the windows on
							}
						}
					})
				}
				wg.Wait()
				s := b.Snapshot()
				assert.Equal(t, int64(16_000), s.Requests)
				assert.Equal(t, allowed.Load(), s.Retries)
				assert.Equal(t, int64(16_000), s.Retries+s.Denied)
			})
		})
	}
}
