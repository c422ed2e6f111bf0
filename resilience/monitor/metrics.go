package monitor

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/internal/clock"
	"github.com/steadyhq/steady/resilience"
)

// Default is the Metrics that [github.com/steadyhq/steady/httpx.MonitoredOperation]
// records into, named "default" and logging to [slog.Default].
var Default = NewMetrics(Name("default"))

// Metrics counts calls: how many ended in each outcome, how long they took
// (exact mean and max, estimated percentiles) and the timeout rate; it
// evaluates alert rules on the timeout rate and logs timeouts and alerts.
// Calls a policy rejected without calling the dependency are only counted
// (see [Stats.Rejected]). [Monitor] records every call of a pipeline into
// one; [Metrics.Record] records by hand; [Metrics.Snapshot] reads the
// figures.
//
// The zero value is ready to record, unnamed, with no alert rules, logging
// to [slog.Default]; [New] and [NewMetrics] make one with options. A
// Metrics is safe for concurrent use, is shared by pipelines of any result
// type, and must not be copied after first use. Recording neither allocates
// nor waits on a lock (see [Metrics.Record] for the rare exceptions): the
// counters are atomics, spread over shards so that goroutines on different
// CPUs rarely touch the same cache line.
//
// The methods of a nil *Metrics do nothing (Snapshot returns a zero Stats),
// and Err reports the nil pointer.
type Metrics struct {
	// Read on every call; set by newMetrics and never changed after (but
	// for home's own bookkeeping).
	name   string
	logger *slog.Logger // nil: slog.Default()
	err    error
	rules  []*rule
	home   sync.Pool // of *shard; see shard

	// Keeps what is written now and then off the lines read on every call.
	_ [cacheLine]byte

	abandoned Gauge
	logNext   atomic.Int64           // clock reading before which timeouts are not logged; 0: none logged yet
	logCount  atomic.Int64           // timeouts counted (ever) when the last timeout line was logged
	base      atomic.Pointer[totals] // what Reset subtracts; nil: nothing
	notify    notifier
	nextShard atomic.Uint32 // the last shard handed out when home was empty

	_      [cacheLine]byte
	shards [numShards]shard
}

const (
	// numShards is the number of counter shards: one per CPU on machines
	// of up to 8, while a Metrics stays under 40 KiB.
	numShards = 8
	cacheLine = 64
)

// Outcome slots in a shard.
const (
	idxSuccess = iota
	idxFailure
	idxTimeout // OutcomeTimeout and OutcomeDeadline
	idxCanceled
	idxRejected // counted only: no duration, not in the alert windows
	numOutcomes
)

// shard holds one share of the counters. Each is written with atomic adds,
// and the padding keeps neighbouring shards on separate cache lines.
type shard struct {
	n       [numOutcomes]atomic.Int64
	sumLo   atomic.Uint64 // summed durations in ns, low 64 bits ...
	sumHi   atomic.Uint64 // ... and carries out of them, so the sum cannot overflow
	max     atomic.Int64  // longest duration in ns
	buckets [numBuckets]atomic.Int64
	_       [cacheLine]byte
}

// New returns a Metrics configured by opts, or the first bad option (a nil
// [Logger], an [AlertRule] field out of range, a nil Option) as a
// [*resilience.ConfigError] (errors.Is(err, [resilience.ErrInvalidConfig])
// is true) and a nil Metrics. Use it when the options come from
// configuration; a Metrics from New has no configuration error
// ([Metrics.Err] is nil).
func New(opts ...Option) (*Metrics, error) {
	m := newMetrics(opts)
	if m.err != nil {
		return nil, m.err
	}
	return m, nil
}

// NewMetrics returns a Metrics configured by opts. It is the form for
// package-level variables and options that are constants, such as
// [Default]; where the options come from configuration, prefer [New],
// which returns the configuration error.
//
// NewMetrics cannot fail, so a bad option is kept as the Metrics'
// configuration error: check it with [Metrics.Err]. [Monitor] turns it
// into the error of every call, so the mistake shows at once rather than
// hiding behind a default. The returned Metrics still records, with the
// valid options applied.
func NewMetrics(opts ...Option) *Metrics {
	return newMetrics(opts)
}

func newMetrics(opts []Option) *Metrics {
	var o options
	for i, opt := range opts {
		if opt == nil {
			o.fail(nilOptionError(i))
			continue
		}
		opt.apply(&o)
	}
	m := &Metrics{name: o.name, logger: o.logger, err: o.err}
	for _, r := range o.rules {
		m.rules = append(m.rules, newRule(r))
	}
	return m
}

// Err returns the configuration error of m: the first bad option given to
// [NewMetrics], as a [*resilience.ConfigError] (errors.Is(err,
// [resilience.ErrInvalidConfig]) is true), or nil. For a nil m it returns a
// ConfigError too, naming the argument of [Monitor] (Monitor(m)).
func (m *Metrics) Err() error {
	if m == nil {
		return errNilMetrics
	}
	return m.err
}

var errNilMetrics = &resilience.ConfigError{Pkg: "monitor", Field: "Monitor(m)", Want: "a *Metrics (New, NewMetrics or a zero Metrics)"}

// Abandoned returns the gauge of abandoned calls that are still running:
// calls that a timeout in abandon mode returned from while the work went on
// in its goroutine. Pass it to the timeout policy with
// [github.com/steadyhq/steady/resilience/timeout.Track], as in
// timeout.WithTimeout(d, timeout.Abandon(), timeout.Track(m.Abandoned())):
// the policy adds 1 when it abandons a call and subtracts 1 when that work
// ends; [Stats.Abandoned] reports it. A nil m returns a nil *Gauge, which
// does nothing.
func (m *Metrics) Abandoned() *Gauge {
	if m == nil {
		return nil
	}
	return &m.abandoned
}

// Record records one call that took d and ended in outcome o, for callers
// that measure by hand; [Monitor] calls it for every call of a pipeline.
//
// A negative d counts as 0, and an Outcome that is none of resilience's
// counts as a failure. A rejected call ([resilience.OutcomeRejected]: a
// policy refused it without calling the dependency) is only counted, in
// [Stats.Rejected]: d is ignored, and the call stays out of the durations,
// the timeout rate and the alert windows.
//
// Record neither allocates nor takes a lock, with two rare exceptions.
// The first call of each new tick of an [AlertRule] (a rejected one too)
// evaluates the rule under the rule's own lock and, if it fires or
// resolves, logs the event and calls its OnAlert (after unlocking). And a
// timeout may log a line, at most once a second per Metrics.
func (m *Metrics) Record(d time.Duration, o resilience.Outcome) {
	if m == nil {
		return
	}
	var now time.Duration
	if len(m.rules) > 0 || outcomeIndex(o) == idxTimeout {
		now = clock.Now()
	}
	m.record(context.Background(), now, d, o, nil)
}

// record counts one call that ended at clock reading now. ctx and err only
// go to the timeout log line.
func (m *Metrics) record(ctx context.Context, now, d time.Duration, o resilience.Outcome, err error) {
	// Evaluate alert rules before counting this call, so that a window
	// boundary falls exactly between the calls before and after it.
	for _, r := range m.rules {
		if int64(now) >= r.nextAt.Load() {
			m.evaluate(now)
			break
		}
	}
	if d < 0 {
		d = 0
	}
	i := outcomeIndex(o)
	s := m.shard()
	if i == idxRejected {
		// No duration: the dependency was not called.
		s.n[i].Add(1)
		m.home.Put(s)
		return
	}
	s.buckets[bucketOf(d)].Add(1)
	if lo := s.sumLo.Add(uint64(d)); lo < uint64(d) {
		s.sumHi.Add(1)
	}
	for {
		cur := s.max.Load()
		if int64(d) <= cur || s.max.CompareAndSwap(cur, int64(d)) {
			break
		}
	}
	// Count the outcome last: Snapshot reads the outcome counts first, so
	// every call it counts is also in the durations it reads after.
	s.n[i].Add(1)
	m.home.Put(s)
	if i == idxTimeout {
		m.logTimeout(ctx, now, d, o, err)
	}
}

// shard returns a shard to record into; record gives it back to m.home
// when done.
//
// Goroutines on different CPUs should record into different shards and
// keep to them: a shard picked at random each time is written by every CPU
// in turn, and its cache lines move between CPUs on about every other call,
// which made recording from 2 CPUs slower than from 1. sync.Pool keeps one
// item per P (the runtime's CPU slot) and hands it back to the goroutine
// running there, so it gives each P a shard of its own without a lock. When
// the pool is empty (at first, after a GC, or when a goroutine was
// preempted while holding one) the next shard in turn is handed out.
func (m *Metrics) shard() *shard {
	if s, ok := m.home.Get().(*shard); ok {
		return s
	}
	return &m.shards[m.nextShard.Add(1)%numShards]
}

func outcomeIndex(o resilience.Outcome) int {
	switch o {
	case resilience.OutcomeSuccess:
		return idxSuccess
	case resilience.OutcomeTimeout, resilience.OutcomeDeadline:
		return idxTimeout
	case resilience.OutcomeCanceled:
		return idxCanceled
	case resilience.OutcomeRejected:
		return idxRejected
	default:
		return idxFailure
	}
}

// Reset sets the counts and durations back to zero, for per-phase reports
// and tests. It does not touch the Abandoned gauge (that work is still
// running) or the alert windows (an ongoing alert stays what it is).
//
// Reset does not stop concurrent Records: a call recorded while Reset runs
// may be counted in the new phase or dropped, and may be missing from Max,
// and a Snapshot taken at the same time may see some fields reset and
// others not (but no count below zero). With no concurrent Records, the next Snapshot is exactly the
// calls recorded after Reset.
func (m *Metrics) Reset() {
	if m == nil {
		return
	}
	t := new(totals)
	m.collect(t)
	for i := range m.shards {
		m.shards[i].max.Store(0)
	}
	m.base.Store(t)
}

// log returns the logger to use now.
func (m *Metrics) log() *slog.Logger {
	if m.logger != nil {
		return m.logger
	}
	return slog.Default()
}
