package monitor

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuckets_tileWithStatedWidths checks the bucket layout the percentile bound rests on: the
// buckets tile [0, maxBucketed) without gaps, each duration falls in the
// bucket whose bounds hold it, and from 512ns on no bucket is wider than
// 1/16 of its lower bound.
func TestBuckets_tileWithStatedWidths(t *testing.T) {
	var end time.Duration
	for i := range numBuckets {
		low, width := bucketBounds(i)
		require.Equal(t, end, low, "bucket %d starts where %d ends", i, i-1)
		end = low + width
		if low >= 512 {
			assert.LessOrEqual(t, width*16, low, "bucket %d [%v, +%v) too wide", i, low, width)
		} else {
			assert.Equal(t, time.Duration(32), width)
		}
		assert.Equal(t, i, bucketOf(low))
		assert.Equal(t, i, bucketOf(low+width-1))
	}
	assert.Equal(t, maxBucketed, end)
	assert.Greater(t, maxBucketed, time.Hour, "covers an hour")
	assert.Equal(t, numBuckets-1, bucketOf(maxBucketed))
	assert.Equal(t, numBuckets-1, bucketOf(math.MaxInt64))
	assert.Equal(t, 0, bucketOf(0))
}

func TestBucketOf_monotonic(t *testing.T) {
	prev := 0
	for d := time.Duration(0); d < 5*time.Millisecond; d += 7 {
		i := bucketOf(d)
		require.GreaterOrEqual(t, i, prev, "at %v", d)
		prev = i
	}
}

func TestQuantiles_emptyAndCapped(t *testing.T) {
	var b [numBuckets]int64
	out := []time.Duration{-1}
	quantiles(&b, []float64{0.5}, out, 0)
	assert.Equal(t, time.Duration(-1), out[0], "no data leaves out as it is")

	i := bucketOf(time.Millisecond)
	low, _ := bucketBounds(i)
	b[i] = 1
	out = make([]time.Duration, 2)
	quantiles(&b, []float64{0.5, 0.99}, out, low+1)
	assert.Equal(t, []time.Duration{low + 1, low + 1}, out, "capped at max")

	b = [numBuckets]int64{}
	b[numBuckets-1] = 3
	quantiles(&b, []float64{0.5}, out, 3*time.Hour)
	assert.Equal(t, 3*time.Hour, out[0], "past the last bucket, max is the best answer")
}

// TestQuantiles_setsEveryQuantile checks that the last ranks, q = 1
// included, land in the last non-empty bucket for awkward totals, past
// 2^53 too, where float64 cannot hold every count.
func TestQuantiles_setsEveryQuantile(t *testing.T) {
	qs := []float64{0.5, 0.9, 0.99, 0.999999, 1}
	for _, counts := range [][2]int64{{1, 2}, {3, 4}, {1, 1<<53 + 1}, {1<<53 + 1, 1}, {1<<62 - 1, 1<<62 - 3}} {
		var b [numBuckets]int64
		lo, hi := bucketOf(time.Millisecond), bucketOf(time.Second)
		b[lo], b[hi] = counts[0], counts[1]
		hiLow, _ := bucketBounds(hi)
		out := make([]time.Duration, len(qs))
		for i := range out {
			out[i] = -1
		}
		quantiles(&b, qs, out, time.Second)
		for i, v := range out {
			assert.Positive(t, v, "q=%v, counts %v", qs[i], counts)
		}
		assert.GreaterOrEqual(t, out[len(out)-1], hiLow, "q=1 is in the last bucket, counts %v", counts)
	}
}
