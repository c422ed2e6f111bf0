package monitor

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/steadyhq/steady/internal/clock"
)

// Stats is a point-in-time summary of the calls a [Metrics] recorded, as
// [Metrics.Snapshot] returns it: a plain value, to copy, compare or print.
// "What is counted" in the package documentation says which calls count
// where. Total is always Successes + Failures + Timeouts + Canceled +
// Rejected.
type Stats struct {
	Total     int64 // all calls recorded
	Successes int64 // calls that returned a nil error
	Failures  int64 // calls that failed otherwise (or panicked, under [Monitor])
	Timeouts  int64 // calls that timed out: LimitTimeouts + DeadlineTimeouts + PropagatedTimeouts
	Canceled  int64 // calls the caller canceled
	Rejected  int64 // calls a policy rejected

	// The timeouts by cause, so that a dependency's slowness is told apart
	// from callers running out of time. LimitTimeouts ended on a limit
	// inside the call ([resilience.OutcomeTimeout]: a timeout policy, an
	// attempt's limit); DeadlineTimeouts on the caller's own deadline
	// ([resilience.OutcomeDeadline]); PropagatedTimeouts on the caller's
	// deadline when it came from an upstream service (its context's cause
	// is [resilience.ErrPropagatedDeadline]; counted under [Monitor] and
	// [Metrics.RecordContext]).
	LimitTimeouts, DeadlineTimeouts, PropagatedTimeouts int64

	// Abandoned is the value of the [Metrics.Abandoned] gauge.
	Abandoned int64

	// Mean and Max are the exact mean and longest duration of the calls
	// that have one (all but the rejected); zero when there are none.
	Mean, Max time.Duration

	// P50, P90 and P99 are percentiles of the same durations, estimated
	// within the bounds the package documentation states, and never more
	// than Max; zero when there are none.
	P50, P90, P99 time.Duration

	// TimeoutRate is Timeouts / (Total - Canceled - Rejected), in [0, 1];
	// zero when there are no such calls.
	TimeoutRate float64
}

// String returns a one-line summary of s, for logs and command-line
// output, e.g.
//
//	total=4 ok=2 failed=1 timeouts=0 canceled=0 rejected=1 abandoned=0 mean=3ms p50=2ms p90=6ms p99=6ms max=6ms timeout_rate=0.0%
//
// Durations are rounded for reading (to the microsecond from 1ms, to the
// millisecond from 1s); the fields of s are exact.
func (s Stats) String() string {
	var b strings.Builder
	b.Grow(176)
	field := func(key string, v int64) {
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(v, 10))
		b.WriteByte(' ')
	}
	dur := func(key string, d time.Duration) {
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(roundForDisplay(d).String())
		b.WriteByte(' ')
	}
	field("total", s.Total)
	field("ok", s.Successes)
	field("failed", s.Failures)
	field("timeouts", s.Timeouts)
	field("canceled", s.Canceled)
	field("rejected", s.Rejected)
	field("abandoned", s.Abandoned)
	dur("mean", s.Mean)
	dur("p50", s.P50)
	dur("p90", s.P90)
	dur("p99", s.P99)
	dur("max", s.Max)
	b.WriteString("timeout_rate=")
	b.WriteString(strconv.FormatFloat(s.TimeoutRate*100, 'f', 1, 64))
	b.WriteByte('%')
	return b.String()
}

func roundForDisplay(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	default:
		return d
	}
}

// Snapshot returns the figures of the calls recorded since the last
// [Metrics.Reset]. It also evaluates the alert rules whose tick has come,
// so a rule may fire, and call its OnAlert, from Snapshot.
//
// Snapshot takes no lock that Record waits for. With Records running
// concurrently it is not one atomic picture: a call in flight may show in
// some fields and not yet in others. Once Records stop, it is exact.
func (m *Metrics) Snapshot() Stats {
	if m == nil {
		return Stats{}
	}
	if len(m.rules) > 0 && m.evaluate(clock.Now()) {
		m.deliver()
	}
	// Load the baseline before adding up the shards. Reset stores a
	// baseline only after collecting it, and the counters never go down,
	// so the shards read after it hold at least as much: a Reset running
	// concurrently can make this Snapshot old or new, never negative.
	b := m.base.Load()
	t := new(totals)
	m.collect(t)
	if b != nil {
		t.sub(b)
	}
	s := Stats{
		Successes: t.n[idxSuccess],
		Failures:  t.n[idxFailure],
		Timeouts:  t.n[idxTimeout] + t.n[idxDeadline] + t.n[idxPropagated],
		Canceled:  t.n[idxCanceled],
		Rejected:  t.n[idxRejected],
		Abandoned: m.abandoned.Value(),
		Max:       t.max,

		LimitTimeouts:      t.n[idxTimeout],
		DeadlineTimeouts:   t.n[idxDeadline],
		PropagatedTimeouts: t.n[idxPropagated],
	}
	s.Total = s.Successes + s.Failures + s.Timeouts + s.Canceled + s.Rejected
	timed := s.Total - s.Rejected // the calls with a duration
	if timed <= 0 {
		return s
	}
	s.Mean = mean(t.sumHi, t.sumLo, timed)
	var ps [3]time.Duration
	quantiles(&t.buckets, []float64{0.50, 0.90, 0.99}, ps[:], t.max)
	s.P50, s.P90, s.P99 = ps[0], ps[1], ps[2]
	if answered := timed - s.Canceled; answered > 0 {
		s.TimeoutRate = float64(s.Timeouts) / float64(answered)
	}
	return s
}

// totals is the sum of all shards.
type totals struct {
	n            [numOutcomes]int64
	sumLo, sumHi uint64 // every duration, timeouts included
	max          time.Duration
	buckets      [numBuckets]int64 // every duration, timeouts included
	timeouts     dist              // the timed-out calls' durations alone
}

// dist is a histogram of durations with their 128-bit sum, as read.
type dist struct {
	sumLo, sumHi uint64
	buckets      [numBuckets]int64
}

// collect adds up the shards into t, reading the outcome counts first (see
// record for why).
func (m *Metrics) collect(t *totals) {
	for i := range shardCount {
		s := m.shards.At(i)
		for k := range s.n {
			t.n[k] += s.n[k].Load()
		}
	}
	var carry uint64
	for i := range shardCount {
		s := m.shards.At(i)
		t.sumLo, carry = bits.Add64(t.sumLo, s.sumLo.Load(), 0)
		t.sumHi += s.sumHi.Load() + carry
		t.max = max(t.max, time.Duration(s.max.Load()))
		for k := range s.buckets {
			t.buckets[k] += s.buckets[k].Load()
		}
		if td := s.timeouts.Load(); td != nil {
			t.timeouts.sumLo, carry = bits.Add64(t.timeouts.sumLo, td.sumLo.Load(), 0)
			t.timeouts.sumHi += td.sumHi.Load() + carry
			for k := range td.buckets {
				t.timeouts.buckets[k] += td.buckets[k].Load()
			}
		}
	}
	// Every duration: the others and the timeouts.
	t.sumLo, carry = bits.Add64(t.sumLo, t.timeouts.sumLo, 0)
	t.sumHi += t.timeouts.sumHi + carry
	for k := range t.buckets {
		t.buckets[k] += t.timeouts.buckets[k]
	}
}

// sub subtracts the baseline b from t (except max, which Reset zeroes).
func (t *totals) sub(b *totals) {
	for k := range t.n {
		t.n[k] -= b.n[k]
	}
	var borrow uint64
	t.sumLo, borrow = bits.Sub64(t.sumLo, b.sumLo, 0)
	t.sumHi -= b.sumHi + borrow
	for k := range t.buckets {
		t.buckets[k] -= b.buckets[k]
	}
	t.timeouts.sumLo, borrow = bits.Sub64(t.timeouts.sumLo, b.timeouts.sumLo, 0)
	t.timeouts.sumHi -= b.timeouts.sumHi + borrow
	for k := range t.timeouts.buckets {
		t.timeouts.buckets[k] -= b.timeouts.buckets[k]
	}
}

// mean returns the 128-bit sum hi:lo divided by n (n > 0), exactly, rounded
// down to the nanosecond, and at most math.MaxInt64.
//
// Each duration is below 2^63, so the true mean is too. Only a Snapshot
// racing with Records can see a sum past n * 2^63: the sums are read after
// the counts and may hold calls not yet counted, and a shard's sum may be
// read between the wrap of its low word and the carry into its high one.
// The quotient is then clamped; with hi >= n it would not fit in 64 bits
// (bits.Div64 panics), and it is at least 2^64 anyway.
func mean(hi, lo uint64, n int64) time.Duration {
	if hi >= uint64(n) {
		return time.Duration(math.MaxInt64)
	}
	q, _ := bits.Div64(hi, lo, uint64(n))
	return time.Duration(min(q, math.MaxInt64))
}
