package hedge

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// The adaptive delay.
//
// The delay D that hedges a share r of calls is the (1-r) quantile of the
// first attempt's latency. Two things make the obvious estimators wrong:
//
//   - Censoring. Once a hedge wins, the first attempt is canceled: its
//     latency is only known to be at least D. An estimator fed the winners'
//     durations (or min(latency, D)) sees a faster dependency than there is
//     and hedges more than asked.
//   - Gaps. With 5% stragglers at 400 ms and the rest under 5 ms, every
//     delay from 5 ms to 400 ms hedges the same 5%; a hedge at 300 ms costs
//     as much as one at 5 ms and saves far less. A controller that only
//     steers the rate drifts anywhere in the gap.
//
// So the learner keeps a histogram of first attempts: the exact latencies
// of those that finished before the delay, and, for those still running
// at the delay (censored), the delay they outlived. From it the Kaplan-Meier
// estimator gives S(d), the share of first attempts slower than d, without
// bias, for every d up to the largest delay seen, whatever the delay was
// when each call ran. At the end of each window the learner moves the
// delay to where S crosses r (interpolated within a bucket), or, if a much
// smaller delay hedges nearly as few calls (a gap), to the low edge of the
// gap. Above the largest delay seen nothing is known: when S there is above
// r the delay steps up, a little if the excess could be noise, by half if
// it is clear, and the calls of the next window tell what lies above.
const (
	bucketBits       = 4 // 16 buckets per octave: 4.4% wide
	bucketsPerOctave = 1 << bucketBits
	octaves          = 24 // from 1µs (1024ns) to about 68s
	numBuckets       = bucketsPerOctave * octaves
	bucketShift      = 10 // buckets count in units of 1024ns

	// The first estimate waits for about firstSlow calls slower than the
	// target quantile (5/r calls, at least 20), and the windows double
	// from there to about 200/r calls: the first estimate comes soon, and
	// later ones are steady.
	firstSlow = 5
	lastSlow  = 200
	// tooMany is how far above r the share at the current delay must be
	// (and two standard deviations above, in count) before the delay
	// steps up blind; and how far above r the share at the low edge of a
	// gap may be for the delay to go there.
	tooMany = 1.25
	stepUp  = 1.5
)

// bucketOf returns the histogram bucket of latency d.
func bucketOf(d time.Duration) int {
	x := uint64(max(d, 0)) >> bucketShift
	if x < bucketsPerOctave {
		return int(x) // the first octave, linear
	}
	e := bits.Len64(x) - 1 // x in [2^e, 2^(e+1))
	m := int(x>>(e-bucketBits)) & (bucketsPerOctave - 1)
	i := (e-bucketBits+1)*bucketsPerOctave + m
	return min(i, numBuckets-1)
}

// upperBound returns the smallest latency above every latency of bucket i.
func upperBound(i int) time.Duration {
	if i < bucketsPerOctave {
		return time.Duration(i+1) << bucketShift
	}
	e := i/bucketsPerOctave + bucketBits - 1
	m := uint64(i % bucketsPerOctave)
	return time.Duration(((bucketsPerOctave + m + 1) << (e - bucketBits)) << bucketShift)
}

// learner learns the adaptive delay. Observing is lock-free; the estimate
// at the end of a window is made by one caller under mu (the others do not
// wait for it).
type learner struct {
	rate     float64
	min, max time.Duration

	delay    atomic.Int64 // the current delay, in ns
	seen     atomic.Int64 // observations in this window
	lateSeen atomic.Int64 // of which outlived the delay
	window   atomic.Int64 // the observations this window waits for
	exact    [numBuckets]atomic.Int64
	cens     [numBuckets]atomic.Int64 // by the bucket of the delay they outlived

	mu sync.Mutex // held while estimating
}

func (l *learner) init(rate float64, lo, hi time.Duration) {
	l.rate, l.min, l.max = rate, lo, hi
	l.delay.Store(int64(hi))
	l.window.Store(l.firstWindow())
}

func (l *learner) firstWindow() int64 { return max(20, int64(math.Ceil(firstSlow/l.rate))) }

// changeWindow is the window after a clear change: about one call slower
// than the target quantile, enough to see a change as large again.
func (l *learner) changeWindow() int64 { return max(20, int64(math.Ceil(1/l.rate))) }
func (l *learner) lastWindow() int64   { return max(20, int64(math.Ceil(lastSlow/l.rate))) }

// current returns the delay.
func (l *learner) current() time.Duration { return time.Duration(l.delay.Load()) }

// finished records a first attempt that ended after d, before the delay.
func (l *learner) finished(d time.Duration) {
	l.exact[bucketOf(d)].Add(1)
	l.observed()
}

// late records a first attempt still running when the delay d passed.
func (l *learner) late(d time.Duration) {
	l.cens[bucketOf(d)].Add(1)
	l.lateSeen.Add(1)
	l.observed()
}

func (l *learner) observed() {
	n := l.seen.Add(1)
	switch {
	case n >= l.window.Load():
		if l.mu.TryLock() {
			l.estimate()
			l.mu.Unlock()
		}
	case n%l.changeWindow() == 0 && l.clearlyLate(n):
		// Windows grow long once the delay is steady; a dependency
		// that slows down meanwhile would be hedged at the old delay
		// until the window ended, every slow call a hedge. Look every
		// changeWindow calls for that, and step up at once.
		if l.mu.TryLock() {
			if l.seen.Load() >= n { // no estimate came in between
				l.stepUp(float64(l.lateSeen.Load()) / float64(l.seen.Load()))
			}
			l.mu.Unlock()
		}
	}
}

// clearlyLate reports whether the first n calls of this window outlived
// the delay clearly more often than r: by tooMany, and by two standard
// deviations.
func (l *learner) clearlyLate(n int64) bool {
	late, expected := float64(l.lateSeen.Load()), l.rate*float64(n)
	return late > expected*tooMany && late > expected+2*math.Sqrt(expected)
}

// stepUp raises the delay for a share s of calls outliving it (s > r), by
// more the further off the mark, up to 4× at once, forgets the past faster
// and starts a short window; l.mu is held.
func (l *learner) stepUp(s float64) {
	d := l.current()
	next := min(time.Duration(float64(d)*min(4, max(stepUp, math.Sqrt(s/l.rate)))), l.max)
	for i := range l.exact {
		l.exact[i].Store(l.exact[i].Load() / 4)
		l.cens[i].Store(l.cens[i].Load() / 4)
	}
	l.delay.Store(int64(next))
	l.seen.Store(0)
	l.lateSeen.Store(0)
	l.window.Store(l.changeWindow())
}

// estimate moves the delay at the end of a window; l.mu is held.
func (l *learner) estimate() {
	if l.seen.Load() < l.window.Load() {
		return // another caller has just done it
	}
	var exact, cens [numBuckets]int64
	for i := range exact {
		exact[i], cens[i] = l.exact[i].Load(), l.cens[i].Load()
	}
	// Kaplan-Meier: surv[i] = S(upperBound(i)). A call censored in
	// bucket i is at risk up to and including bucket i.
	var surv [numBuckets]float64
	atRisk := int64(0)
	for i := range exact {
		atRisk += exact[i] + cens[i]
	}
	n := atRisk
	if n == 0 {
		return
	}
	s := 1.0
	for i := range exact {
		if atRisk > 0 {
			s *= 1 - float64(exact[i])/float64(atRisk)
		}
		surv[i] = s
		atRisk -= exact[i] + cens[i]
	}
	d := l.current()
	r := l.rate
	top := bucketOf(d)
	atD := surv[top]
	next := d
	expected := r * float64(n)
	// A clear miss (two standard deviations) means the dependency has
	// changed: forget the past faster and look again soon.
	slack := 2 * math.Sqrt(expected)
	changed := math.Abs(atD*float64(n)-expected) > slack && (atD > r*tooMany || atD < r/tooMany)
	switch {
	case changed && atD > r:
		// Clearly too many hedges, as when the dependency slows down
		// (overload: every call queues). Nothing is known above d, and
		// each hedge meanwhile adds load where it hurts: step up by
		// more the further off the mark, up to 4× at once.
		next = time.Duration(float64(d) * min(4, max(stepUp, math.Sqrt(atD/r))))
	case atD > r:
		next = time.Duration(float64(d) * math.Pow(atD/r, 0.25)) // perhaps noise
	default:
		// Where S crosses r: S linearly, the delay logarithmically.
		prevS, prevB := 1.0, time.Duration(0)
		for i := 0; i <= top; i++ {
			if surv[i] > r {
				prevS, prevB = surv[i], upperBound(i)
				continue
			}
			next = min(upperBound(i), d)
			if prevB > 0 && prevS > surv[i] && next > prevB {
				t := (prevS - r) / (prevS - surv[i])
				next = time.Duration(float64(prevB) * math.Pow(float64(next)/float64(prevB), t))
			}
			break
		}
	}
	// A gap: a much smaller delay hedges nearly as few calls. Take its low
	// edge: a later hedge costs the same load and saves less time.
	for i := 0; i <= top && upperBound(i) < next/2; i++ {
		if surv[i] <= r*tooMany {
			next = upperBound(i)
			break
		}
	}
	next = min(max(next, l.min), l.max)
	// Halve the counts, so that old calls fade; after a change, quarter
	// them and start again from a short window.
	keep, window := int64(2), min(l.window.Load()*2, l.lastWindow())
	if changed {
		keep, window = 4, l.changeWindow()
	}
	for i := range exact {
		l.exact[i].Store(exact[i] / keep)
		l.cens[i].Store(cens[i] / keep)
	}
	l.delay.Store(int64(next))
	l.seen.Store(0)
	l.lateSeen.Store(0)
	l.window.Store(window)
}
