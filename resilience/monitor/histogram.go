package monitor

import (
	"math/bits"
	"time"
)

// Durations are counted in a log-linear histogram: every power of two is
// split into subCount equal, linear sub-buckets, so a bucket is never wider
// than 1/subCount of its lower bound. Below 2^(unitShift+subBits) ns (512ns)
// the buckets are a flat 32ns wide. Durations of 2^(unitShift+maxExp+1) ns
// (about 73 minutes) and more share the last bucket.
//
// An estimate interpolated inside a bucket is off by at most one bucket
// width, which gives the bound stated in the package doc: within 6.25% of
// the true value from 512ns to about 73 minutes, within 32ns below that.
const (
	subBits    = 4
	subCount   = 1 << subBits // linear sub-buckets per power of two
	unitShift  = 5            // the finest bucket is 1<<unitShift = 32ns wide
	maxExp     = 36           // highest power of two (in 32ns units) with its own buckets
	numBuckets = (maxExp - subBits + 2) * subCount

	// maxBucketed is the first duration that falls in the last bucket only
	// because it is too long for the others.
	maxBucketed = time.Duration(1) << (maxExp + 1 + unitShift)
)

// bucketOf returns the index of the bucket that counts d (d >= 0).
func bucketOf(d time.Duration) int {
	u := uint64(d) >> unitShift
	if u < subCount {
		return int(u)
	}
	e := bits.Len64(u) - 1 // u is in [2^e, 2^(e+1))
	if e > maxExp {
		return numBuckets - 1
	}
	return (e-subBits+1)*subCount + int(u>>(e-subBits)) - subCount
}

// bucketBounds returns the lower bound and the width of bucket i.
func bucketBounds(i int) (low, width time.Duration) {
	if i < subCount {
		return time.Duration(i) << unitShift, 1 << unitShift
	}
	e := i/subCount + subBits - 1
	m := uint64(i%subCount + subCount)
	shift := uint(e-subBits) + unitShift
	return time.Duration(m << shift), time.Duration(uint64(1) << shift)
}

// quantiles fills out[k] with the qs[k]-quantile of the durations counted in
// b (len(out) == len(qs)), interpolating linearly inside the bucket where
// the rank falls, and capping at max (the exact largest duration). qs must
// be ascending and in [0, 1]. With no durations counted, out is left as it
// is.
//
// Every out[k] is set: at the last non-empty bucket cum+c is at least
// total, and float64 rounding is monotonic, so no rank qs[k]*total, at most
// total, is past it.
func quantiles(b *[numBuckets]int64, qs []float64, out []time.Duration, max time.Duration) {
	var total int64
	for _, c := range b {
		total += c
	}
	if total <= 0 {
		return
	}
	k := 0
	var cum int64
	for i, c := range b {
		if c <= 0 {
			continue
		}
		for k < len(qs) {
			rank := qs[k] * float64(total)
			if float64(cum+c) < rank {
				break
			}
			low, width := bucketBounds(i)
			frac := (rank - float64(cum)) / float64(c)
			v := low + time.Duration(frac*float64(width))
			if i == numBuckets-1 || v > max {
				v = max
			}
			out[k] = v
			k++
		}
		if k == len(qs) {
			return
		}
		cum += c
	}
}
