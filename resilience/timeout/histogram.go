package timeout

import (
	"math"
	"sync/atomic"
	"time"
)

// histogram counts latencies in buckets of equal width on a log scale,
// histSub per doubling, from 1ns to 2^histOctaves ns (about 9.8 hours). An
// [Adaptive] fills one during its warm-up, where every call has the same
// limit (Max), so that a timeout is simply a latency above every bucket
// (over). The quantile it gives is at most 1/histSub of a doubling (9%)
// above the true one.
type histogram struct {
	buckets [histOctaves * histSub]atomic.Uint64
	over    atomic.Uint64 // latencies of at least the limit
	total   atomic.Uint64 // every count, over included
}

const (
	histSub     = 8
	histOctaves = 45
)

// add counts one latency below the limit.
func (h *histogram) add(d time.Duration) {
	i := 0
	if d > 1 {
		i = int(math.Log2(float64(d)) * histSub)
	}
	if i >= len(h.buckets) {
		i = len(h.buckets) - 1
	}
	h.buckets[i].Add(1)
	h.total.Add(1)
}

// addOver counts one latency of at least the limit.
func (h *histogram) addOver() {
	h.over.Add(1)
	h.total.Add(1)
}

// quantile returns the upper edge of the bucket that holds the q quantile
// of the counts, in nanoseconds, or limit when it lies in over.
func (h *histogram) quantile(q float64, limit float64) float64 {
	var n uint64
	for i := range h.buckets {
		n += h.buckets[i].Load()
	}
	n += h.over.Load()
	rank := uint64(math.Ceil(q * float64(n)))
	var sum uint64
	for i := range h.buckets {
		if sum += h.buckets[i].Load(); sum >= rank && sum > 0 {
			return math.Exp2(float64(i+1) / histSub)
		}
	}
	return limit
}
