package dashboard

import "time"

// Snapshot is the dashboard's state at one tick, as /snapshot.json serves
// it and as the first event of a stream carries it. The package
// documentation lists the JSON fields; durations are in seconds.
type Snapshot struct {
	// Title is Config.Title.
	Title string `json:"title"`
	// Epoch is random per Dashboard: a new one means a new server.
	Epoch string `json:"epoch"`
	// Seq numbers the ticks from 1 (0 before the first).
	Seq uint64 `json:"seq"`
	// Time is when the tick's figures were read.
	Time time.Time `json:"time"`
	// Tick and History are the Config's, in seconds.
	Tick    float64 `json:"tick"`
	History float64 `json:"history"`
	// Cards holds one Card per registered name, sorted by name.
	Cards []Card `json:"cards"`
}

// Card is what a dashboard shows for one registered name: the figures of
// the last tick from each of its [Parts]. A field whose part is absent,
// or that has no value in the tick (a latency with no calls), is nil and
// encodes as null.
type Card struct {
	// Name is the name given to [Dashboard.Register].
	Name string `json:"name"`
	// Health is "ok", "warn" or "bad"; the package documentation says
	// when.
	Health string `json:"health"`

	// From Parts.Metrics. Total is cumulative (every call recorded);
	// the others are over the last tick. Rate is calls per second;
	// Success is successes / (calls - canceled), in [0, 1]; TimeoutRate is
	// timeouts / (calls - canceled - rejected); P50 and P99 are seconds.
	Total       *int64    `json:"total"`
	Rate        *float64  `json:"rate"`
	Success     *float64  `json:"success"`
	TimeoutRate *float64  `json:"timeout_rate"`
	Timeouts    *Timeouts `json:"timeouts"`
	P50         *float64  `json:"p50"`
	P99         *float64  `json:"p99"`
	// Alerts are the alert rules of Parts.Metrics that are firing now;
	// empty when none is (or without Metrics).
	Alerts []Alert `json:"alerts"`

	// Limit is Parts.Adaptive's current limit, in seconds.
	Limit *float64 `json:"limit"`

	Breaker  *Breaker  `json:"breaker"`
	Hedge    *Hedge    `json:"hedge"`
	Budget   *Budget   `json:"budget"`
	Bulkhead *Bulkhead `json:"bulkhead"`

	// History holds the sparklines: one point per tick, oldest first,
	// the last one being this tick's. Only in a Snapshot and in the first
	// event of a stream; the later events carry this tick's point only
	// (Rate and P99).
	History *History `json:"history,omitempty"`
}

// Timeouts splits the timeouts of a tick by cause (see monitor.Stats).
type Timeouts struct {
	Total      int64 `json:"total"`      // all timeouts in the tick
	Limit      int64 `json:"limit"`      // a limit inside the call fired
	Deadline   int64 `json:"deadline"`   // the caller's own deadline passed
	Propagated int64 `json:"propagated"` // a deadline sent by an upstream caller passed
}

// Alert is a firing alert rule of a monitor.Metrics: the window it last
// decided.
type Alert struct {
	Rate      float64 `json:"rate"`      // timeouts / calls in the window
	Threshold float64 `json:"threshold"` // the rule's
	Window    float64 `json:"window"`    // seconds
	Calls     int64   `json:"calls"`
	Timeouts  int64   `json:"timeouts"`
}

// Breaker is a circuit breaker's state.
type Breaker struct {
	// State is "closed", "open" or "half-open".
	State string `json:"state"`
	// Rejected counts the calls it rejected in the tick.
	Rejected int64 `json:"rejected"`
	// Transitions are its last changes of state (10 at most), oldest
	// first, as the dashboard saw them from tick to tick.
	Transitions []Transition `json:"transitions"`
}

// Transition is a change of a breaker's state, timed at the tick that saw
// it.
type Transition struct {
	Time time.Time `json:"time"`
	From string    `json:"from"`
	To   string    `json:"to"`
}

// Hedge is what a hedger did in the tick.
type Hedge struct {
	// Rate is hedges started / calls in the tick; nil with no calls.
	Rate   *float64 `json:"rate"`
	Hedges int64    `json:"hedges"` // hedges started in the tick
	Wins   int64    `json:"wins"`   // hedges that won their call in the tick
	Delay  float64  `json:"delay"`  // the hedge delay now, seconds
}

// Budget is a retry budget's room now and what it refused in the tick.
type Budget struct {
	Headroom   float64 `json:"headroom"`    // budget.Stats.Headroom
	RejectRate float64 `json:"reject_rate"` // budget.Stats.RejectRate
	Retries    int64   `json:"retries"`     // extra attempts allowed in the tick
	Denied     int64   `json:"denied"`      // refused in the tick
}

// Bulkhead is a bulkhead's occupancy now and what it refused in the tick.
type Bulkhead struct {
	InFlight      int   `json:"in_flight"`
	Queued        int   `json:"queued"`
	MaxConcurrent int   `json:"max_concurrent"`
	MaxQueue      int   `json:"max_queue"`
	Rejected      int64 `json:"rejected"` // in the tick
}

// History is a card's sparklines: one value per tick, oldest first. A
// tick with no calls has a null P99.
type History struct {
	Rate []float64  `json:"rate"` // calls per second
	P99  []*float64 `json:"p99"`  // seconds
}
