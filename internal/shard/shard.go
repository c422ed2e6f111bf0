// Package shard spreads counters over cache lines so that goroutines on
// different CPUs rarely write the same one.
package shard

import (
	"sync"
	"sync/atomic"
)

// N is the number of shards in a [Set].
const N = 8

// Set is N values of type S, each on cache lines of its own. [Set.Get] hands
// a goroutine the shard of the CPU slot (the runtime's P) it runs on, and
// [Set.Put] gives it back.
//
// A shard picked at random on each call is written by every CPU in turn, and
// its cache line moves between CPUs on about every other write, which is
// slower from 2 CPUs than from one. sync.Pool keeps one item per P and hands
// it back to the goroutine running there, so each P keeps a shard of its own
// without a lock. When the pool is empty (at first, after a GC, or while a
// preempted goroutine holds the shard) the next shard in turn is handed out.
//
// So two goroutines can hold the same shard at once: the round-robin
// fallback may hand out a shard that another goroutine got from the pool,
// or from the fallback itself. S must be safe for concurrent writes, e.g.
// atomics, as in [Counter].
//
// The zero value is ready. A Set must not be copied after first use.
type Set[S any] struct {
	pool   sync.Pool
	next   atomic.Uint32
	_      [64]byte // keeps the first shard off the line of pool and next
	shards [N]struct {
		v S
		_ [64]byte
	}
}

// Get returns a shard to write to. Give it back with Put when done.
func (s *Set[S]) Get() *S {
	if p, ok := s.pool.Get().(*S); ok {
		return p
	}
	return &s.shards[s.next.Add(1)%N].v
}

// Put gives back a shard from Get.
func (s *Set[S]) Put(p *S) { s.pool.Put(p) }

// At returns shard i, for 0 <= i < N, to read the shards one by one.
func (s *Set[S]) At(i int) *S { return &s.shards[i].v }

// Counter is a sharded count. The zero value is 0 and ready.
type Counter struct{ set Set[atomic.Uint64] }

// Add adds n.
func (c *Counter) Add(n uint64) {
	p := c.set.Get()
	p.Add(n)
	c.set.Put(p)
}

// Load returns the sum of the shards.
func (c *Counter) Load() uint64 {
	var sum uint64
	for i := range N {
		sum += c.set.At(i).Load()
	}
	return sum
}
