package monitor

import (
	"iter"
	"math"
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

// Histogram is the distribution of call durations that a [Metrics] counts,
// copied out by [Metrics.Histogram]: the buckets of the log-linear
// histogram described in the package documentation (16 linear buckets per
// power of two), their sum and their count. Rejected calls have no
// duration and are not in it.
//
// It is a plain value of about 4 KB, for exporters (a Prometheus or
// OpenTelemetry histogram) and for figures over a recent stretch of time:
// read one now and one later, Sub the first from the second, and the
// result holds the calls recorded in between. The zero value is an empty
// histogram. Its methods do not allocate.
type Histogram struct {
	counts       [numBuckets]int64
	sumLo, sumHi uint64
	// max caps Quantile: the exact longest duration when the histogram
	// came from Metrics.Histogram, 0 (unknown) after Sub.
	max time.Duration
}

// Histogram copies into h the durations recorded since the last
// [Metrics.Reset]. With Records running concurrently it may hold a call in
// some buckets' sums and not yet in its count, as Snapshot may. A nil m
// gives an empty histogram.
func (m *Metrics) Histogram(h *Histogram) {
	*h = Histogram{}
	if m == nil {
		return
	}
	b := m.base.Load()
	t := new(totals)
	m.collect(t)
	if b != nil {
		t.sub(b)
	}
	h.counts = t.buckets
	h.sumLo, h.sumHi, h.max = t.sumLo, t.sumHi, t.max
}

// Histograms copies into others and timeouts, from one reading, the
// durations recorded since the last [Metrics.Reset] of the calls that did
// not time out and of those that did (of every cause: Stats.Timeouts).
// Together they are what [Metrics.Histogram] holds. They are kept apart
// as they are recorded, so each only grows from one reading to the next,
// as a cumulative histogram must: exporters report them as two series,
// the timeouts with OpenTelemetry's error.type=timeout. The longest
// duration of each is not kept (see [Histogram.Quantile]). A nil m gives
// two empty histograms.
func (m *Metrics) Histograms(others, timeouts *Histogram) {
	*others, *timeouts = Histogram{}, Histogram{}
	if m == nil {
		return
	}
	b := m.base.Load()
	t := new(totals)
	m.collect(t)
	if b != nil {
		t.sub(b)
	}
	timeouts.counts = t.timeouts.buckets
	timeouts.sumLo, timeouts.sumHi = t.timeouts.sumLo, t.timeouts.sumHi
	others.counts = t.buckets
	others.sumLo, others.sumHi = t.sumLo, t.sumHi
	others.Sub(timeouts)
}

// Count returns the number of durations in h.
func (h *Histogram) Count() int64 {
	var n int64
	for _, c := range h.counts {
		n += c
	}
	return n
}

// Sum returns the sum of the durations in h, exact to the nanosecond, or
// the largest Duration (about 292 years) if it is larger.
func (h *Histogram) Sum() time.Duration {
	if h.sumHi != 0 || h.sumLo > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(h.sumLo)
}

// Quantile returns the q-quantile (q in [0, 1], clamped into it) of the
// durations in h, within the error bounds of the package documentation,
// and 0 if h is empty. Like [Stats.P99], it never exceeds the longest
// duration when that is known (a Histogram from [Metrics.Histogram]);
// after [Histogram.Sub], the top of the highest non-empty bucket bounds it.
func (h *Histogram) Quantile(q float64) time.Duration {
	if math.IsNaN(q) {
		return 0
	}
	q = min(max(q, 0), 1)
	top := h.max
	if top <= 0 {
		for i := numBuckets - 1; i >= 0; i-- {
			if h.counts[i] > 0 {
				top = bucketUpper(i)
				break
			}
		}
	}
	var out [1]time.Duration
	quantiles(&h.counts, []float64{q}, out[:], top)
	return out[0]
}

// Sub subtracts prev from h, so that h holds the durations recorded after
// prev was read and up to when h was: both should come from the same
// Metrics, prev first. A bucket that would go below zero (a Reset in
// between) is set to zero. The longest duration is unknown afterwards (see
// [Histogram.Quantile]).
func (h *Histogram) Sub(prev *Histogram) {
	for i := range h.counts {
		h.counts[i] = max(h.counts[i]-prev.counts[i], 0)
	}
	var borrow uint64
	h.sumLo, borrow = bits.Sub64(h.sumLo, prev.sumLo, 0)
	h.sumHi, borrow = bits.Sub64(h.sumHi, prev.sumHi, borrow)
	if borrow != 0 {
		h.sumLo, h.sumHi = 0, 0
	}
	h.max = 0
}

// Buckets returns an iterator over the non-empty buckets of h, shortest
// durations first: each bucket's upper bound, the longest duration it
// counts (so a duration d is in the first bucket whose bound is at least
// d, as Prometheus's "le" has it), and its count, not cumulative. The last
// bucket, for durations of about 73 minutes and more, has the bound
// math.MaxInt64.
func (h *Histogram) Buckets() iter.Seq2[time.Duration, int64] {
	return func(yield func(time.Duration, int64) bool) {
		for i, c := range h.counts {
			if c > 0 && !yield(bucketUpper(i), c) {
				return
			}
		}
	}
}

// bucketUpper returns the upper bound of bucket i: the longest duration it
// counts.
func bucketUpper(i int) time.Duration {
	if i == numBuckets-1 {
		return math.MaxInt64
	}
	low, width := bucketBounds(i)
	return low + width - 1
}
