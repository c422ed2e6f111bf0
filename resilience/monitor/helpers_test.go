package monitor_test

import (
	"log/slog"
	"math"
	"slices"
	"time"
)

var discard = slog.New(slog.DiscardHandler)

func sortedCopy(ds []time.Duration) []time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s
}

// nearestRank returns the q-quantile of sorted by the nearest-rank method.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// rejection is an error marked the way a policy marks a call it refused
// without calling the dependency.
type rejection struct{}

func (rejection) Error() string  { return "refused" }
func (rejection) Rejected() bool { return true }
