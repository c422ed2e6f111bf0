package hedge

import (
	"testing"
	"time"
)

func TestBuckets_orderedAndTight(t *testing.T) {
	prev := time.Duration(0)
	for i := range numBuckets - 1 {
		ub := upperBound(i)
		if ub <= prev {
			t.Fatalf("upperBound(%d) = %v, not above upperBound(%d) = %v", i, ub, i-1, prev)
		}
		if bucketOf(ub-1) != i || bucketOf(ub) != i+1 {
			t.Fatalf("bucket %d: bucketOf(%v) = %d, bucketOf(%v) = %d", i, ub-1, bucketOf(ub-1), ub, bucketOf(ub))
		}
		if i > 2*bucketsPerOctave && float64(ub)/float64(prev) > 1.07 {
			t.Fatalf("bucket %d is %.1f%% wide", i, 100*(float64(ub)/float64(prev)-1))
		}
		prev = ub
	}
	if upperBound(numBuckets-2) < time.Minute {
		t.Errorf("the buckets end at %v, want past a minute", upperBound(numBuckets-2))
	}
	if bucketOf(time.Hour) != numBuckets-1 || bucketOf(-1) != 0 {
		t.Error("out-of-range latencies are not clamped")
	}
}
