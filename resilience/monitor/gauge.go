package monitor

import "sync/atomic"

// Gauge is a level that goes up and down, such as the number of abandoned
// calls still running (see [Metrics.Abandoned]).
//
// The zero value is a gauge at 0, ready to use. A Gauge is safe for
// concurrent use and must not be copied after first use. The methods of a
// nil *Gauge do nothing and report 0.
type Gauge struct {
	v atomic.Int64
}

// Add adds delta (which may be negative) to the gauge.
func (g *Gauge) Add(delta int64) {
	if g == nil {
		return
	}
	g.v.Add(delta)
}

// Value returns the gauge's current value.
func (g *Gauge) Value() int64 {
	if g == nil {
		return 0
	}
	return g.v.Load()
}
