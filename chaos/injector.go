package chaos

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// Config is what an [Injector] injects, and how it draws.
//
// Each request (or call) gets a sequence number, 0 for the first one after
// the start. What happens to it is a function of the seed, its number and
// how long after the start it arrives, so a run that sends the same
// requests in the same order meets the same faults. For each request every
// fault draws on its own whether it hits (with its Rate, if it is active at
// that moment), then:
//
//   - the delays of the Latency faults that hit add up, and the LatencyStep
//     factors that hit multiply the sum;
//   - of the faults that answer in place of the dependency (Status,
//     Throttle, Hang, Reset, Outage) the first one in Faults that hits
//     wins, after the delay; the others do not happen and are not counted;
//   - otherwise the request is served, and the body faults that hit
//     (SlowBody, Truncate, Oversize) change its response;
//   - an active Overload decides first whether the request is served at all:
//     a request refused by it meets no other fault.
//
// So Status(503).Rate(0.3) placed before Throttle(time.Second).Rate(0.2)
// fails 30% of requests with 503 and 20% of the other 70% (14% in all) with
// 429. [Stats] counts what did happen.
type Config struct {
	// Seed makes the draws reproducible. Two Injectors with one seed and
	// one list of faults treat request n alike.
	Seed uint64

	// Faults are the faults to inject, in order of precedence. An empty list
	// injects nothing (the Injector still counts requests).
	Faults []Fault

	// Start is the moment the schedule is measured from (After, Until,
	// Between, Outage, LatencyStep). Zero means when New is called.
	// [Injector.Restart] moves it to now.
	Start time.Time
}

// maxFaults is the most faults one Injector takes: a plan marks the faults
// that hit a request in one 64-bit word.
const maxFaults = 64

// Validate reports the first fault that is wrong, as a
// *resilience.ConfigError naming it, e.g.
//
//	chaos: Config.Faults[1] is Rate(1.5), want 0 <= rate <= 1
func (c Config) Validate() error {
	if len(c.Faults) > maxFaults {
		return &resilience.ConfigError{Pkg: "chaos", Field: "Config.Faults", Value: strconv.Itoa(len(c.Faults)) + " faults", Want: "at most " + strconv.Itoa(maxFaults)}
	}
	overloads := 0
	for i, f := range c.Faults {
		field := "Config.Faults[" + strconv.Itoa(i) + "]"
		switch {
		case f.kind == 0:
			return &resilience.ConfigError{Pkg: "chaos", Field: field, Value: "Fault{}", Want: "a Fault built by a constructor such as chaos.Status(503)"}
		case f.bad != "":
			return &resilience.ConfigError{Pkg: "chaos", Field: field, Value: f.bad, Want: f.want}
		case f.kind == KindOverload && f.rate != 1:
			return &resilience.ConfigError{Pkg: "chaos", Field: field, Value: f.String(), Want: "no Rate: an overload hits every request while it is active"}
		case f.kind == KindOverload:
			overloads++
			if overloads > 1 {
				return &resilience.ConfigError{Pkg: "chaos", Field: field, Value: f.String(), Want: "at most one Overload per Injector"}
			}
		}
	}
	return nil
}

// Injector injects faults into requests: as HTTP middleware on the server
// side ([Injector.Middleware]), as an [http.RoundTripper] on the client side
// ([Injector.Transport]), or as a policy around any function ([Inject]).
// One Injector may serve all three at once; its request numbers, schedule
// and counts are shared. It is safe for concurrent use.
type Injector struct {
	seed   uint64
	faults []Fault
	ov     *overload // nil without an Overload fault

	start    atomic.Pointer[time.Time]
	seq      atomic.Uint64
	inFlight atomic.Int64
	peak     atomic.Int64
	clean    atomic.Int64
	counts   []atomic.Int64 // one per fault

	closeOnce sync.Once
	done      chan struct{} // closed by Close: hangs and queues end
}

// New returns an Injector for cfg, or a *resilience.ConfigError if a fault
// is wrong (see [Config.Validate]).
func New(cfg Config) (*Injector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	in := &Injector{
		seed:   cfg.Seed,
		faults: append([]Fault(nil), cfg.Faults...),
		counts: make([]atomic.Int64, len(cfg.Faults)),
		done:   make(chan struct{}),
	}
	for i, f := range in.faults {
		if f.kind == KindOverload {
			in.ov = &overload{index: i, queue: int64(f.queue), slots: make(chan struct{}, f.capacity)}
		}
	}
	start := cfg.Start
	if start.IsZero() {
		start = time.Now()
	}
	in.start.Store(&start)
	return in, nil
}

// Restart starts the schedule again from now and clears the counts: the
// next request is request 0 again. Requests in flight are not affected.
func (in *Injector) Restart() {
	now := time.Now()
	in.start.Store(&now)
	in.seq.Store(0)
	in.clean.Store(0)
	in.peak.Store(in.inFlight.Load())
	for i := range in.counts {
		in.counts[i].Store(0)
	}
}

// Close ends every hang and releases every request waiting in an overload
// queue (it is answered 503), now and from then on. It does not stop the
// other faults. It is safe to call more than once.
func (in *Injector) Close() {
	in.closeOnce.Do(func() { close(in.done) })
}

// Since returns how long ago the schedule started.
func (in *Injector) Since() time.Duration {
	return time.Since(*in.start.Load())
}

// plan is what happens to one request.
type plan struct {
	delay    time.Duration
	term     int // index of the terminal fault, or -1
	slow     int // index of the SlowBody fault, or -1
	truncate int // index of the Truncate fault, or -1
	oversize int // index of the Oversize fault, or -1
	overload bool
	hit      uint64 // bit i: fault i hit
}

// begin numbers a request, counts it in flight and draws its plan. The
// caller must call end when the request is over.
func (in *Injector) begin() plan {
	n := in.seq.Add(1) - 1
	cur := in.inFlight.Add(1)
	for {
		pk := in.peak.Load()
		if cur <= pk || in.peak.CompareAndSwap(pk, cur) {
			break
		}
	}
	return in.draw(n, in.Since())
}

func (in *Injector) end() { in.inFlight.Add(-1) }

// draw returns the plan of request n arriving at since after the start.
// Every fault draws from its own stream, seeded by the seed, the fault's
// place and n, so adding a fault does not change the draws of the others.
func (in *Injector) draw(n uint64, since time.Duration) plan {
	p := plan{term: -1, slow: -1, truncate: -1, oversize: -1}
	scale := 1.0
	var src rand.PCG
	r := rand.New(&src)
	for i := range in.faults {
		f := &in.faults[i]
		if !f.active(since) {
			continue
		}
		if f.kind == KindOverload {
			p.overload = true
			continue
		}
		src.Seed(in.seed^(uint64(i+1)*0x9e3779b97f4a7c15), n)
		if f.rate < 1 && r.Float64() >= f.rate {
			continue
		}
		switch k := f.kind; {
		case k == KindLatency:
			p.delay += f.dist.sample(r)
		case k == KindScale:
			scale *= f.factor
		case k.terminal():
			if p.term >= 0 {
				continue
			}
			p.term = i
		case k == KindSlowBody:
			p.slow = i
		case k == KindTruncate:
			p.truncate = i
		case k == KindOversize:
			p.oversize = i
		}
		p.hit |= 1 << i
	}
	if scale != 1 {
		p.delay = time.Duration(float64(p.delay) * scale)
	}
	return p
}

// count records what happened to a request that was served or answered by
// a fault. body reports whether the body faults applied (they do not when a
// terminal fault answered, or on the policy side, where there is no body).
func (in *Injector) count(p plan, body bool) {
	counted := false
	for i := range in.faults {
		if p.hit&(1<<i) == 0 {
			continue
		}
		k := in.faults[i].kind
		switch {
		case k.terminal() && i != p.term:
			continue
		case k.body() && (!body || p.term >= 0):
			continue
		}
		in.counts[i].Add(1)
		counted = true
	}
	if !counted {
		in.clean.Add(1)
	}
}

// sleep waits for d, and reports false if ctx ended first. A closed
// Injector ends hangs, not delays: Close ends the wait, and sleep reports
// whether ctx is still live.
func (in *Injector) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	return in.wait(ctx, d) == waited || ctx.Err() == nil
}

// hang holds a request until ctx ends, the Injector closes or hold passes,
// and reports whether hold passed.
func (in *Injector) hang(ctx context.Context, hold time.Duration) bool {
	return in.wait(ctx, hold) == waited
}

// How a wait ended.
const (
	waited = iota // d passed
	gaveUp        // ctx ended
	closed        // the Injector closed
)

// wait waits for d, ctx's end or the Injector's Close, whichever comes
// first, and says which.
func (in *Injector) wait(ctx context.Context, d time.Duration) int {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return waited
	case <-ctx.Done():
		return gaveUp
	case <-in.done:
		return closed
	}
}

// overload is the state of an Overload fault: a semaphore of workers and a
// bounded count of waiters.
type overload struct {
	index   int
	queue   int64
	slots   chan struct{}
	waiting atomic.Int64
}

// admit takes a worker for a request, waiting in the queue if there is a
// place, and reports whether it got one; release must follow a true answer.
// A request refused is counted against the Overload fault.
func (in *Injector) admit(ctx context.Context) bool {
	o := in.ov
	select {
	case o.slots <- struct{}{}:
		return true
	default:
	}
	if o.waiting.Add(1) > o.queue {
		o.waiting.Add(-1)
		in.counts[o.index].Add(1)
		return false
	}
	defer o.waiting.Add(-1)
	select {
	case o.slots <- struct{}{}:
		return true
	case <-ctx.Done():
	case <-in.done:
	}
	in.counts[o.index].Add(1)
	return false
}

func (in *Injector) release() { <-in.ov.slots }

// Stats is what an Injector has done since it started (or restarted).
type Stats struct {
	Requests     int64         // requests (or calls) seen
	Clean        int64         // requests no fault hit
	InFlight     int64         // requests being handled now
	PeakInFlight int64         // the most requests handled at once
	Faults       []FaultStats  // one per Config.Faults entry, in order
	Since        time.Duration // time since the schedule started
}

// FaultStats counts one fault.
type FaultStats struct {
	Fault    string // the fault's description
	Kind     Kind
	Injected int64 // requests it hit; for an Overload, requests it refused
}

// Injected returns how many times faults of kind k were injected.
func (s Stats) Injected(k Kind) int64 {
	var n int64
	for _, f := range s.Faults {
		if f.Kind == k {
			n += f.Injected
		}
	}
	return n
}

// Snapshot returns the counts so far. Counts taken while requests are in
// flight may lag by those requests.
func (in *Injector) Snapshot() Stats {
	s := Stats{
		Requests:     int64(in.seq.Load()),
		Clean:        in.clean.Load(),
		InFlight:     in.inFlight.Load(),
		PeakInFlight: in.peak.Load(),
		Faults:       make([]FaultStats, len(in.faults)),
		Since:        in.Since(),
	}
	for i, f := range in.faults {
		s.Faults[i] = FaultStats{Fault: f.String(), Kind: f.kind, Injected: in.counts[i].Load()}
	}
	return s
}
