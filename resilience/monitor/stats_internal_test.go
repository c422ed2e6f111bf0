package monitor

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestCollect_carriesIntoHighWord adds up shards whose low words sum past
// 2^64, as they do when the calls recorded into different shards.
func TestCollect_carriesIntoHighWord(t *testing.T) {
	var m Metrics
	for i := range 3 {
		// 4 calls summing to 2^64 - 2 in each shard.
		m.shards.At(i).sumLo.Store(math.MaxUint64 - 1)
		m.shards.At(i).n[idxSuccess].Store(4)
	}
	m.shards.At(3).sumHi.Store(1) // and 2^64 more, over 4 more calls
	m.shards.At(3).n[idxFailure].Store(4)

	var tot totals
	m.collect(&tot)
	// 3 × (2^64 - 2) + 2^64 = 3 × 2^64 + (2^64 - 6)
	assert.Equal(t, uint64(3), tot.sumHi)
	assert.Equal(t, uint64(math.MaxUint64-5), tot.sumLo)

	s := m.Snapshot()
	assert.Equal(t, int64(16), s.Total)
	assert.Equal(t, time.Duration(1)<<62-1, s.Mean, "(4 × 2^64 - 6) / 16, rounded down")
}

// TestTotalsSub_borrowsFromHighWord subtracts a baseline whose low word is
// above the total's.
func TestTotalsSub_borrowsFromHighWord(t *testing.T) {
	tot := totals{sumHi: 2, sumLo: 1}
	tot.sub(&totals{sumHi: 0, sumLo: 3})
	assert.Equal(t, uint64(1), tot.sumHi)
	assert.Equal(t, uint64(math.MaxUint64-1), tot.sumLo, "2 × 2^64 + 1 - 3 = 2^64 + (2^64 - 2)")
}

func TestMean_exactRoundedDownAndClamped(t *testing.T) {
	assert.Equal(t, time.Duration(1)<<62, mean(1, 0, 4))
	assert.Equal(t, time.Duration(3), mean(0, 10, 3), "rounded down")
	assert.Equal(t, time.Duration(math.MaxInt64), mean(0, math.MaxUint64, 1), "clamped, not negative")
	assert.Equal(t, time.Duration(math.MaxInt64), mean(5, 0, 5), "a quotient past 64 bits is clamped too")
}
