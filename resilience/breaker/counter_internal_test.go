package breaker

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCounter_concurrentAddsSumExactly(t *testing.T) {
	var c counter
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Add()
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 8000, c.Load())
}

func TestShardOf_inRange(t *testing.T) {
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if s := shardOf(); s >= counterShards {
				t.Errorf("shardOf() = %d, want < %d", s, counterShards)
			}
		})
	}
	wg.Wait()
}
