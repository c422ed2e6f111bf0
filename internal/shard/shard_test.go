package shard_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/internal/shard"
)

func TestCounter_concurrentAddsAllCounted(t *testing.T) {
	var c shard.Counter
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10000 {
				c.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, uint64(80000), c.Load())
}

func TestSet_getReturnsAShard(t *testing.T) {
	var s shard.Set[int]
	p := s.Get()
	*p += 3
	s.Put(p)
	sum := 0
	for i := range shard.N {
		sum += *s.At(i)
	}
	assert.Equal(t, 3, sum)
}
