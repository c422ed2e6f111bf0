package chaos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Kind is what a [Fault] does to a request.
type Kind uint8

// The kinds of fault. The first four act before the dependency is called
// (the request never reaches it, or reaches it late); the body kinds change
// a response on its way back; Overload decides whether a request is served
// at all.
const (
	KindLatency  Kind = iota + 1 // a delay before the request is served
	KindScale                    // every delay multiplied by a factor (a latency step)
	KindStatus                   // an error status instead of the response (500, 503, 429...)
	KindHang                     // no answer until the client gives up (bounded)
	KindReset                    // the connection is reset
	KindSlowBody                 // the body trickles in, a few bytes at a time
	KindTruncate                 // the body stops short of its Content-Length
	KindOversize                 // a body far larger than the handler's
	KindOverload                 // beyond a concurrency limit requests queue, then get 503
	numKinds
)

var kindNames = [numKinds]string{"", "latency", "scale", "status", "hang", "reset", "slow-body", "truncate", "oversize", "overload"}

// String returns the kind's name, e.g. "reset".
func (k Kind) String() string {
	if k > 0 && k < numKinds {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// terminal reports whether a fault of kind k answers the request itself, so
// that the dependency is not called.
func (k Kind) terminal() bool { return k == KindStatus || k == KindHang || k == KindReset }

// body reports whether a fault of kind k changes the response body.
func (k Kind) body() bool { return k == KindSlowBody || k == KindTruncate || k == KindOversize }

// Dist is a distribution of delays for [Latency]: [Fixed], [Uniform] or
// [LogNormal]. The zero Dist is not valid.
type Dist struct {
	kind  uint8 // distFixed, distUniform, distLogNormal
	a, b  time.Duration
	sigma float64
	bad   string // the wrong call, e.g. "Fixed(-1s)", or ""
	want  string // what would be right, when bad is set
}

const (
	distFixed = iota + 1
	distUniform
	distLogNormal
)

// Fixed is a delay of exactly d (d >= 0).
func Fixed(d time.Duration) Dist {
	x := Dist{kind: distFixed, a: d}
	if d < 0 {
		x.fail(fmt.Sprintf("Fixed(%v)", d), "a delay >= 0")
	}
	return x
}

// Uniform is a delay drawn uniformly from [lo, hi] (0 <= lo <= hi).
func Uniform(lo, hi time.Duration) Dist {
	x := Dist{kind: distUniform, a: lo, b: hi}
	if lo < 0 || hi < lo {
		x.fail(fmt.Sprintf("Uniform(%v, %v)", lo, hi), "0 <= lo <= hi")
	}
	return x
}

// LogNormal is a delay whose logarithm is normal: half the delays are below
// median, and sigma (the standard deviation of the log) sets the tail. With
// sigma 0.6, one delay in a hundred is above about 4× the median. Draws are
// capped at 1000× the median, so one draw cannot stall a run. median > 0,
// 0 <= sigma <= 4.
func LogNormal(median time.Duration, sigma float64) Dist {
	x := Dist{kind: distLogNormal, a: median, sigma: sigma}
	if median <= 0 || !(sigma >= 0 && sigma <= 4) {
		x.fail(fmt.Sprintf("LogNormal(%v, %v)", median, sigma), "median > 0 and 0 <= sigma <= 4")
	}
	return x
}

// sample draws a delay from x.
func (x Dist) sample(r *rand.Rand) time.Duration {
	switch x.kind {
	case distUniform:
		if x.b == x.a {
			return x.a
		}
		return x.a + time.Duration(r.Int64N(int64(x.b-x.a)+1))
	case distLogNormal:
		f := math.Exp(x.sigma * r.NormFloat64())
		return time.Duration(float64(x.a) * math.Min(f, 1000))
	}
	return x.a
}

// String describes x, e.g. "uniform 1ms-5ms".
func (x Dist) String() string {
	switch x.kind {
	case distFixed:
		return x.a.String()
	case distUniform:
		return fmt.Sprintf("uniform %v-%v", x.a, x.b)
	case distLogNormal:
		return fmt.Sprintf("lognormal median %v sigma %v", x.a, x.sigma)
	}
	return "no delay"
}

// Fault is one kind of misbehaviour, with the share of requests it hits and
// the time window in which it is active. Build one with a constructor
// ([Latency], [Stragglers], [LatencyStep], [Status], [Throttle],
// [ThrottleDate], [Hang], [Reset], [Outage], [SlowBody], [Truncate],
// [Oversize], [Overload]) and refine it with [Fault.Rate], [Fault.After],
// [Fault.Until] or [Fault.Between]; each returns a new Fault. A Fault is a
// description: it holds no state, and one value may be used in many
// Injectors. Mistakes (a negative delay, a rate above 1) are reported by
// [New], naming the fault.
type Fault struct {
	kind     Kind
	rate     float64 // share of requests hit, in [0, 1]
	from, to time.Duration
	bounded  bool // to is set: active in [from, to)

	dist     Dist          // KindLatency
	factor   float64       // KindScale
	status   int           // KindStatus
	after    time.Duration // KindStatus: Retry-After, if throttle
	throttle bool          // KindStatus: send Retry-After
	date     bool          // KindStatus: Retry-After as an HTTP date
	hold     time.Duration // KindHang: longest hold
	chunk    int           // KindSlowBody: bytes per write
	every    time.Duration // KindSlowBody: pause between writes
	size     int64         // KindOversize: body bytes
	capacity int           // KindOverload: requests served at once
	queue    int           // KindOverload: requests waiting at most

	bad  string // the wrong part of the fault, e.g. "Rate(1.5)", or ""
	want string // what would be right, when bad is set
}

func newFault(k Kind) Fault { return Fault{kind: k, rate: 1} }

// Latency delays every request it hits by a draw from d, before the request
// is served. Latencies of several faults add up.
func Latency(d Dist) Fault {
	f := newFault(KindLatency)
	f.dist = d
	switch {
	case d.kind == 0:
		f.fail("Latency(Dist{})", "a Dist from Fixed, Uniform or LogNormal")
	case d.bad != "":
		f.fail("Latency("+d.bad+")", d.want)
	}
	return f
}

// Stragglers delays a share of requests by d: Latency(Fixed(d)).Rate(share).
func Stragglers(share float64, d time.Duration) Fault {
	return Latency(Fixed(d)).Rate(share)
}

// LatencyStep multiplies every request's latency (the sum of the Latency
// faults that hit it) by factor from at on: LatencyStep(4*time.Second, 4) is
// a dependency that becomes four times slower after 4 s. factor > 0.
func LatencyStep(at time.Duration, factor float64) Fault {
	f := newFault(KindScale)
	f.factor = factor
	if !(factor > 0) || math.IsInf(factor, 0) {
		f.fail(fmt.Sprintf("LatencyStep(%v, %v)", at, factor), "factor > 0")
	}
	return f.After(at)
}

// Status answers the requests it hits with the status code (400-599) at
// once, without calling the handler: Status(503).Rate(0.3) is a dependency
// failing 30% of requests.
func Status(code int) Fault {
	f := newFault(KindStatus)
	f.status = code
	if code < 400 || code > 599 {
		f.fail(fmt.Sprintf("Status(%d)", code), "a code in 400-599")
	}
	return f
}

// Throttle answers 429 Too Many Requests with Retry-After: after, in whole
// seconds (rounded up; after >= 0).
func Throttle(after time.Duration) Fault {
	f := Status(http.StatusTooManyRequests)
	f.after, f.throttle = after, true
	if after < 0 {
		f.fail(fmt.Sprintf("Throttle(%v)", after), ">= 0")
	}
	return f
}

// ThrottleDate answers 429 Too Many Requests with Retry-After given as an
// HTTP date, after from the moment of the answer (rounded up to the second,
// the resolution of the format; after >= 0).
func ThrottleDate(after time.Duration) Fault {
	f := Throttle(after)
	f.date = true
	return f
}

// Hang holds the requests it hits without answering, until the client gives
// up, the [Injector] is closed, or hold passes (hold > 0); a request still
// held after hold is answered 504 Gateway Timeout, as a proxy in front of a
// stuck server would.
func Hang(hold time.Duration) Fault {
	f := newFault(KindHang)
	f.hold = hold
	if hold <= 0 {
		f.fail(fmt.Sprintf("Hang(%v)", hold), "> 0: a hang must end")
	}
	return f
}

// Reset resets the connection of the requests it hits (a TCP RST, through
// [http.Hijacker]; on a connection that cannot be hijacked, as in HTTP/2,
// the stream is aborted). On the client side it is an error that wraps
// syscall.ECONNRESET.
func Reset() Fault { return newFault(KindReset) }

// Outage resets every connection from from to to after the start: a
// dependency that is down. For a dependency behind a load balancer that
// answers 503 instead, use Status(503).Between(from, to).
func Outage(from, to time.Duration) Fault { return Reset().Between(from, to) }

// SlowBody trickles the response body: chunk bytes at a time (chunk >= 1),
// with a pause of every between them (every > 0).
func SlowBody(chunk int, every time.Duration) Fault {
	f := newFault(KindSlowBody)
	f.chunk, f.every = chunk, every
	if chunk < 1 || every <= 0 {
		f.fail(fmt.Sprintf("SlowBody(%d, %v)", chunk, every), "chunk >= 1 and every > 0")
	}
	return f
}

// Truncate cuts the response body short: the response declares the whole
// body's Content-Length but only the first half arrives, then the
// connection closes (the client reads io.ErrUnexpectedEOF).
func Truncate() Fault { return newFault(KindTruncate) }

// Oversize replaces the response body with size bytes (size >= 1), sent
// without a Content-Length, to check that a client bounds what it reads.
func Oversize(size int64) Fault {
	f := newFault(KindOversize)
	f.size = size
	if size < 1 {
		f.fail(fmt.Sprintf("Oversize(%d)", size), ">= 1")
	}
	return f
}

// Overload models a server with capacity workers (capacity >= 1) and a
// queue of queue places (queue >= 0): up to capacity requests are served at
// once, the next queue ones wait for a worker (so latency grows with the
// load), and beyond that requests are answered 503 at once. A waiting
// request whose client gives up leaves the queue. Overload hits every
// request while it is active, so it takes no Rate; an Injector has at most
// one.
func Overload(capacity, queue int) Fault {
	f := newFault(KindOverload)
	f.capacity, f.queue = capacity, queue
	if capacity < 1 || queue < 0 {
		f.fail(fmt.Sprintf("Overload(%d, %d)", capacity, queue), "capacity >= 1 and queue >= 0")
	}
	return f
}

// Rate returns f hitting a share p of the requests (0 <= p <= 1) instead
// of all of them. Each request draws for each fault on its own, from the
// seed; see [Config] for how faults combine.
func (f Fault) Rate(p float64) Fault {
	f.rate = p
	if !(p >= 0 && p <= 1) {
		f.fail(fmt.Sprintf("Rate(%v)", p), "0 <= rate <= 1")
	}
	return f
}

// After returns f active only from t after the start on.
func (f Fault) After(t time.Duration) Fault {
	f.from = t
	if t < 0 {
		f.fail(fmt.Sprintf("After(%v)", t), ">= 0")
	}
	return f
}

// Until returns f active only until t after the start.
func (f Fault) Until(t time.Duration) Fault {
	f.to, f.bounded = t, true
	if t <= 0 {
		f.fail(fmt.Sprintf("Until(%v)", t), "> 0")
	}
	return f
}

// Between returns f active only from from to to after the start:
// f.After(from).Until(to).
func (f Fault) Between(from, to time.Duration) Fault {
	f = f.After(from).Until(to)
	if to <= from {
		f.fail(fmt.Sprintf("Between(%v, %v)", from, to), "from < to")
	}
	return f
}

// fail records what is wrong with f, unless something already is.
func (f *Fault) fail(bad, want string) {
	if f.bad == "" {
		f.bad, f.want = bad, want
	}
}

// fail records what is wrong with x.
func (x *Dist) fail(bad, want string) { x.bad, x.want = bad, want }

// Kind returns what f does.
func (f Fault) Kind() Kind { return f.kind }

// active reports whether f is active at since after the start.
func (f Fault) active(since time.Duration) bool {
	return since >= f.from && (!f.bounded || since < f.to)
}

// String describes f, e.g. "status 503, 30% of requests, from 3s to 6s".
func (f Fault) String() string {
	var s string
	switch f.kind {
	case KindLatency:
		s = "latency " + f.dist.String()
	case KindScale:
		s = "latency ×" + strconv.FormatFloat(f.factor, 'g', -1, 64)
	case KindStatus:
		s = "status " + strconv.Itoa(f.status)
		if f.throttle {
			s += " (Retry-After " + strconv.Itoa(retryAfterSeconds(f.after))
			if f.date {
				s += " s, as a date)"
			} else {
				s += " s)"
			}
		}
	case KindHang:
		s = "hang up to " + f.hold.String()
	case KindReset:
		s = "connection reset"
	case KindSlowBody:
		s = fmt.Sprintf("slow body (%d B every %v)", f.chunk, f.every)
	case KindTruncate:
		s = "truncated body"
	case KindOversize:
		s = fmt.Sprintf("oversize body (%d B)", f.size)
	case KindOverload:
		s = fmt.Sprintf("overload (capacity %d, queue %d)", f.capacity, f.queue)
	default:
		return "no fault"
	}
	if f.rate < 1 {
		s += ", " + strconv.FormatFloat(f.rate*100, 'g', 4, 64) + "% of requests"
	}
	switch {
	case f.bounded:
		s += fmt.Sprintf(", from %v to %v", f.from, f.to)
	case f.from > 0:
		s += fmt.Sprintf(", from %v", f.from)
	}
	return s
}

// retryAfterSeconds rounds d up to whole seconds.
func retryAfterSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
