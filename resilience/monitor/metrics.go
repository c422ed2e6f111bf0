package monitor

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/internal/events"
	"github.com/steadyhq/steady/internal/shard"
	"github.com/steadyhq/steady/resilience"
)

// Default is the Metrics that [github.com/steadyhq/steady/httpx.MonitoredOperation]
// records into: named "default", with no Logger and no alert rules.
var Default = newMetrics(Config{Name: "default"})

// Metrics counts calls: how many ended in each outcome, how long they took
// and the timeout rate, as [Metrics.Snapshot] reports them in [Stats]. It
// evaluates the [AlertRule] values of its [Config] and logs to its Logger.
//
// The zero value is ready to record, unnamed, with no alert rules, logging
// nothing; [NewMetrics] makes a configured one. A Metrics is safe for
// concurrent use, is shared by pipelines of any result type, and must not
// be copied after first use. The methods of a nil *Metrics do nothing
// (Snapshot returns a zero Stats).
type Metrics struct {
	// Read on every call, set by newMetrics and never changed after.
	name   string
	logger *slog.Logger // nil: log nothing
	rules  []*rule

	// Keeps what is written now and then off the lines read on every call.
	_ [cacheLine]byte

	abandoned Gauge
	logNext   atomic.Int64           // clock reading before which timeouts are not logged; 0: none logged yet
	logCount  atomic.Uint64          // timeouts counted (ever) when the last timeout line was logged
	base      atomic.Pointer[totals] // what Reset subtracts; nil: nothing
	alerts    events.Queue[alert]

	_      [cacheLine]byte
	shards shard.Set[counters]
}

const (
	shardCount = shard.N
	cacheLine  = 64
)

// Outcome slots in counters.
const (
	idxSuccess = iota
	idxFailure
	idxTimeout    // OutcomeTimeout: a limit inside the call fired
	idxDeadline   // OutcomeDeadline: the caller's own deadline passed
	idxPropagated // OutcomeDeadline, from a deadline an upstream caller sent
	idxCanceled
	idxRejected // counted only: no duration, not in the alert windows
	numOutcomes
)

// counters are one shard's share of the counts, written with atomic adds.
type counters struct {
	n       [numOutcomes]atomic.Int64
	sumLo   atomic.Uint64 // summed durations in ns (timeouts apart, below), low 64 bits ...
	sumHi   atomic.Uint64 // ... and carries out of them, so the sum cannot overflow
	max     atomic.Int64  // longest duration in ns, timeouts included
	buckets [numBuckets]atomic.Int64

	// timeouts holds the durations of the shard's timed-out calls, which
	// sumLo, sumHi and buckets above leave out, so that exporters can tell
	// them apart (error.type=timeout) and both parts only grow. It is made
	// on the shard's first timeout, so a Metrics that never sees one does
	// not pay its 4 KB per shard.
	timeouts atomic.Pointer[durations]
}

// durations is a histogram of durations with their sum, written with
// atomic adds.
type durations struct {
	sumLo, sumHi atomic.Uint64
	buckets      [numBuckets]atomic.Int64
}

// timeoutDurations returns the shard's histogram of timed-out calls,
// making it on first use.
func (s *counters) timeoutDurations() *durations {
	if td := s.timeouts.Load(); td != nil {
		return td
	}
	td := new(durations)
	if s.timeouts.CompareAndSwap(nil, td) {
		return td
	}
	return s.timeouts.Load()
}

// Abandoned returns the gauge of calls that a timeout in abandon mode
// returned from while their work goes on. Pass it to
// [github.com/steadyhq/steady/resilience/timeout.Track];
// [Stats.Abandoned] reports it. A nil m returns a nil *Gauge, which does
// nothing.
func (m *Metrics) Abandoned() *Gauge {
	if m == nil {
		return nil
	}
	return &m.abandoned
}

// Record records one call that took d and ended in outcome o, for callers
// that measure by hand; [Monitor] records every call of a pipeline.
//
// A negative d counts as 0, and an Outcome that is none of resilience's
// counts as a failure. Record does not allocate, and takes a lock only on
// the first call of an alert rule's tick, to evaluate the rule; it may
// then log and call OnAlert, after counting the call.
func (m *Metrics) Record(d time.Duration, o resilience.Outcome) {
	if m == nil {
		return
	}
	var now time.Duration
	if len(m.rules) > 0 || m.logger != nil && isTimeout(outcomeIndex(o)) {
		now = clock.Now()
	}
	m.record(context.Background(), now, d, o, nil)
}

// RecordContext is [Metrics.Record] for a call made with ctx: a call that
// ended on the caller's deadline ([resilience.OutcomeDeadline]) whose
// context's cause is [resilience.ErrPropagatedDeadline] counts in
// [Stats.PropagatedTimeouts], not in [Stats.DeadlineTimeouts]. [Monitor]
// does this for every call of a pipeline. ctx also goes to the Logger's
// handler with a timeout line. A nil ctx counts as context.Background().
func (m *Metrics) RecordContext(ctx context.Context, d time.Duration, o resilience.Outcome) {
	if m == nil {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var now time.Duration
	if len(m.rules) > 0 || m.logger != nil && isTimeout(outcomeIndex(o)) {
		now = clock.Now()
	}
	m.record(ctx, now, d, o, nil)
}

// record counts one call that ended at clock reading now. ctx and err only
// go to the timeout log line.
func (m *Metrics) record(ctx context.Context, now, d time.Duration, o resilience.Outcome, err error) {
	// Take the alert windows' snapshots before counting this call, so that
	// a tick's boundary falls between the calls before and after it.
	queued := false
	for _, r := range m.rules {
		if r.win.Due(now) {
			queued = m.evaluate(now)
			break
		}
	}
	if d < 0 {
		d = 0
	}
	i := outcomeIndex(o)
	if i == idxDeadline && propagated(ctx) {
		i = idxPropagated
	}
	s := m.shards.Get()
	if i != idxRejected { // a rejected call has no duration
		b := bucketOf(d)
		if isTimeout(i) {
			td := s.timeoutDurations()
			td.buckets[b].Add(1)
			if lo := td.sumLo.Add(uint64(d)); lo < uint64(d) {
				td.sumHi.Add(1)
			}
		} else {
			s.buckets[b].Add(1)
			if lo := s.sumLo.Add(uint64(d)); lo < uint64(d) {
				s.sumHi.Add(1)
			}
		}
		for {
			cur := s.max.Load()
			if int64(d) <= cur || s.max.CompareAndSwap(cur, int64(d)) {
				break
			}
		}
	}
	// Count the outcome last: Snapshot reads the outcome counts first, so
	// every call it counts is also in the durations it reads after.
	s.n[i].Add(1)
	m.shards.Put(s)
	if isTimeout(i) {
		m.logTimeout(ctx, now, d, o, err)
	}
	if queued {
		m.deliver()
	}
}

func outcomeIndex(o resilience.Outcome) int {
	switch o {
	case resilience.OutcomeSuccess:
		return idxSuccess
	case resilience.OutcomeTimeout:
		return idxTimeout
	case resilience.OutcomeDeadline:
		return idxDeadline
	case resilience.OutcomeCanceled:
		return idxCanceled
	case resilience.OutcomeRejected:
		return idxRejected
	default:
		return idxFailure
	}
}

// isTimeout reports whether the outcome slot i counts in Stats.Timeouts.
func isTimeout(i int) bool {
	return i == idxTimeout || i == idxDeadline || i == idxPropagated
}

// propagated reports whether a call that ended on its caller's deadline
// ended on a deadline an upstream caller sent: the context's cause is
// resilience.ErrPropagatedDeadline (which a context derived from such a
// context inherits). Only calls that ran out of their deadline pay for the
// look.
func propagated(ctx context.Context) bool {
	return ctx != nil && context.Cause(ctx) == resilience.ErrPropagatedDeadline
}

// Reset sets the counts and durations back to zero, for per-phase reports
// and tests. It leaves the Abandoned gauge and the alert windows alone.
//
// Calls recorded while Reset runs may be counted in the new phase or
// dropped, and a concurrent Snapshot may see some fields reset and others
// not, but no count below zero. With no concurrent Records, the next
// Snapshot is exactly the calls recorded after Reset.
func (m *Metrics) Reset() {
	if m == nil {
		return
	}
	t := new(totals)
	m.collect(t)
	for i := range shardCount {
		m.shards.At(i).max.Store(0)
	}
	m.base.Store(t)
}
