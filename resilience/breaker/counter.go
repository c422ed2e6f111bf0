package breaker

import (
	"sync/atomic"
	"unsafe"
)

// counterShards is how many cache lines a counter is spread over:
// 1<<shardBits, as shardOf picks a shard with the top shardBits bits of a
// hash.
const (
	shardBits     = 4
	counterShards = 1 << shardBits
)

// counter is a uint64 counter that many goroutines can add to at once
// without all of them writing one cache line. Every call that an open
// breaker rejects adds to one, at the moment load is highest, and a single
// shared atomic made a rejection on 2 CPUs cost 3-4 times what it costs on
// one (BenchmarkOpenParallel). The zero value is ready; Load sums the
// shards.
type counter struct {
	shards [counterShards]struct {
		n atomic.Uint64
		_ [56]byte // one shard per cache line
	}
}

// Add adds 1 to the shard of the calling goroutine.
func (c *counter) Add() {
	c.shards[shardOf()].n.Add(1)
}

// Load returns the sum of the shards.
func (c *counter) Load() uint64 {
	var sum uint64
	for i := range c.shards {
		sum += c.shards[i].n.Load()
	}
	return sum
}

// shardOf picks a shard from the address of a variable on the calling
// goroutine's stack: stable for a goroutine (until its stack moves, which
// is harmless) and different for goroutines running side by side on
// different CPUs, at the cost of a multiplication. The address is only
// hashed, never turned back into a pointer.
func shardOf() uint64 {
	var marker byte
	addr := uint64(uintptr(unsafe.Pointer(&marker)))
	// Stacks are at least 2 KiB apart; Fibonacci hashing spreads their
	// addresses over the shards.
	return ((addr >> 11) * 0x9E3779B97F4A7C15) >> (64 - shardBits)
}
