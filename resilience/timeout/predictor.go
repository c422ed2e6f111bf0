package timeout

import (
	"context"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/steadyhq/steady/internal/attempt"
	"github.com/steadyhq/steady/resilience"
)

// PredictorConfig configures [NewPredictor]. Max and Features are
// required; the other fields are as in [AdaptiveConfig], whose defaults
// they share, and configure the fallback as well.
type PredictorConfig struct {
	// TargetRate is the share of calls that should time out, in (0, 0.5);
	// 0 means [DefaultTargetRate].
	TargetRate float64
	// Min and Max bound every limit: 0 <= Min <= Max, Max > 0. Min 0
	// means 1 microsecond.
	Min, Max time.Duration
	// Features is how many numbers describe a call, in [1, 64]: the length
	// of the slice that WithPredicted's features func returns.
	Features int
	// Warmup is the fallback's warm-up, as [AdaptiveConfig.Warmup].
	Warmup int
	// Step is the gain of both learners, as [AdaptiveConfig.Step].
	Step float64
}

// maxFeatures bounds PredictorConfig.Features.
const maxFeatures = 64

// Validate reports the first invalid field as a [*resilience.ConfigError]
// (errors.Is(err, [resilience.ErrInvalidConfig])), or nil.
func (c PredictorConfig) Validate() error {
	if c.Features < 1 || c.Features > maxFeatures {
		return &resilience.ConfigError{Pkg: "timeout", Field: "PredictorConfig.Features", Value: c.Features, Want: "in [1, 64]"}
	}
	return c.adaptive().validate("PredictorConfig")
}

func (c PredictorConfig) adaptive() AdaptiveConfig {
	return AdaptiveConfig{TargetRate: c.TargetRate, Min: c.Min, Max: c.Max, Warmup: c.Warmup, Step: c.Step}
}

// Predictor is a timeout whose limit depends on the call: an online
// quantile regression of the log of the limit on numbers that describe the
// call (its payload size, its route, the hour), learned, like [Adaptive],
// from whether calls time out. Where those numbers explain the latency,
// its limits are shorter than one limit for all at the same timeout rate.
// It carries an [Adaptive] as its fallback, and uses the fallback's limit
// whenever its own limits are not the shorter ones. Make one with
// [NewPredictor] and use it through [WithPredicted]; see "Predicted
// timeouts" in the package documentation.
//
// A Predictor is safe for concurrent use. Its zero value is not usable.
type Predictor struct {
	fb       *Adaptive
	n        int
	rate     float64
	eta      float64
	min, max float64 // ns

	// The model: ln(limit in ns) = b + Σ w[i]·z[i], z[i] = (x[i]-mean[i]) /
	// sd[i]. Every number is a float64 in an atomic, written by the
	// calls as they end (lock-free, last writer wins).
	b    atomic.Uint64
	w    []atomic.Uint64
	mean []atomic.Uint64
	vari []atomic.Uint64
	seen atomic.Uint64 // calls whose features updated mean and vari

	started atomic.Bool   // b set from the fallback's first estimate
	using   atomic.Bool   // calls get the model's limit
	calls   atomic.Uint64 // every call, to pick the probes
	// adv is the mean of ln(model limit / fallback limit) over recent
	// probes, and rateEMA the model's timeout rate over recent calls
	// where it is known; both decide using.
	adv, rateEMA atomic.Uint64

	taught, timeouts atomic.Uint64 // calls that taught the model
}

// NewPredictor returns a Predictor configured by cfg, or cfg's
// [PredictorConfig.Validate] error.
func NewPredictor(cfg PredictorConfig) (*Predictor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ac := cfg.adaptive().withDefaults()
	p := &Predictor{
		fb:   newAdaptive(ac),
		n:    cfg.Features,
		rate: ac.TargetRate,
		eta:  ac.Step,
		min:  float64(ac.Min),
		max:  float64(ac.Max),
		w:    make([]atomic.Uint64, cfg.Features),
		mean: make([]atomic.Uint64, cfg.Features),
		vari: make([]atomic.Uint64, cfg.Features),
	}
	p.b.Store(math.Float64bits(math.Log(p.max)))
	p.rateEMA.Store(math.Float64bits(p.rate))
	return p, nil
}

func load(u *atomic.Uint64) float64     { return math.Float64frombits(u.Load()) }
func store(u *atomic.Uint64, v float64) { u.Store(math.Float64bits(v)) }

// add adds d to the float in u.
func add(u *atomic.Uint64, d float64) {
	for {
		old := u.Load()
		if u.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// valid reports whether x has the configured length and only finite
// numbers.
func (p *Predictor) valid(x []float64) bool {
	if len(x) != p.n {
		return false
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// z returns the standardized feature i of x.
func (p *Predictor) z(x []float64, i int) float64 {
	sd := math.Sqrt(load(&p.vari[i]))
	if !(sd > 1e-12) {
		return 0 // a constant feature explains nothing
	}
	return (x[i] - load(&p.mean[i])) / sd
}

// model returns the model's limit for x in ns, within [min, max].
func (p *Predictor) model(x []float64) float64 {
	l := load(&p.b)
	for i := range x {
		l += load(&p.w[i]) * p.z(x, i)
	}
	return min(p.max, max(p.min, math.Exp(l)))
}

// Predict returns the limit that a call described by x gets now: the
// model's when it is in use, else the fallback's (a probe, one call in 16
// or 4, gets the longer of the two). An x of the wrong length, or with a
// NaN or infinity, gets the fallback's.
func (p *Predictor) Predict(x []float64) time.Duration {
	if p.using.Load() && p.valid(x) {
		return time.Duration(p.model(x))
	}
	return p.fb.Current()
}

// Fallback returns the Adaptive whose limit calls get while the model's
// are not the shorter ones.
func (p *Predictor) Fallback() *Adaptive { return p.fb }

// PredictorSnapshot is what a [Predictor] has learned, from
// [Predictor.Snapshot].
type PredictorSnapshot struct {
	// Intercept and Weights are the model, in the units of the features:
	// ln(limit in seconds) = Intercept + Σ Weights[i]·x[i], before the
	// clamp to [Min, Max]. A weight of 1 on ln(size) says the limit grows
	// in proportion to the size.
	Intercept float64
	Weights   []float64
	// Predicting is true while calls get the model's limit, false while
	// they get the fallback's.
	Predicting bool
	// Advantage is the mean of ln(model's limit / fallback's limit) over
	// recent calls: below 0 when the model's limits are shorter.
	Advantage float64
	// Calls is how many calls taught the model, Timeouts how many of them
	// exceeded the model's limit, Rate the share.
	Calls, Timeouts uint64
	Rate            float64
	// Fallback is the fallback's snapshot. Its Skipped counts the calls
	// that taught neither learner.
	Fallback AdaptiveSnapshot
}

// Snapshot returns what p has learned. The numbers are read one after
// another while calls go on.
func (p *Predictor) Snapshot() PredictorSnapshot {
	s := PredictorSnapshot{
		Intercept:  load(&p.b) - math.Log(float64(time.Second)),
		Weights:    make([]float64, p.n),
		Predicting: p.using.Load(),
		Advantage:  load(&p.adv),
		Calls:      p.taught.Load(),
		Timeouts:   p.timeouts.Load(),
		Fallback:   p.fb.Snapshot(),
	}
	for i := range s.Weights {
		sd := math.Sqrt(load(&p.vari[i]))
		if !(sd > 1e-12) {
			continue
		}
		w := load(&p.w[i]) / sd
		s.Weights[i] = w
		s.Intercept -= w * load(&p.mean[i])
	}
	if s.Calls > 0 {
		s.Rate = float64(s.Timeouts) / float64(s.Calls)
	}
	return s
}

// observe folds x into the running mean and variance of the features: exact
// for the first calls, then an average over about the last 4,096.
func (p *Predictor) observe(x []float64) {
	alpha := max(1/float64(p.seen.Add(1)), 1.0/4096)
	for i, v := range x {
		m := load(&p.mean[i])
		d := v - m
		store(&p.mean[i], m+alpha*d)
		store(&p.vari[i], (1-alpha)*(load(&p.vari[i])+alpha*d*d))
	}
}

// teach moves the model for one call described by x whose indicator at
// the model's limit was timedOut: a step of pinball-loss SGD on the log
// of the limit, which needs only the indicator. The intercept's step is
// η(1{timeout}-r), as the Adaptive's, so that the model times out r of the
// calls it learns from; the weights' steps are scaled by 1/(1+|z|²) so that
// no call moves its own prediction by more than twice that.
func (p *Predictor) teach(x []float64, timedOut bool) {
	g := -p.rate
	if timedOut {
		g = 1 - p.rate
		p.timeouts.Add(1)
	}
	p.taught.Add(1)
	var norm float64
	for i := range x {
		z := p.z(x, i)
		norm += z * z
	}
	step := p.eta * g
	add(&p.b, step)
	for i := range x {
		add(&p.w[i], step*p.z(x, i)/(1+norm))
	}
	// The model's timeout rate, over about the last 20/r calls.
	ind := 0.0
	if timedOut {
		ind = 1
	}
	a := p.rate / 20
	store(&p.rateEMA, load(&p.rateEMA)*(1-a)+a*ind)
}

// compare updates the advantage of the model over the fallback with one
// probe's limits (ns), and decides which limits calls get: the model's
// once its limits have been 10% shorter and its timeout rate at most twice
// the target; the fallback's again when they are less than 2% shorter or
// its rate goes above that.
//
// The wide gap keeps the switches rare, and it must: each learner learns
// faster while its own limit is in use, so a switch that followed their
// wobbles would favour whichever learner was low at the time, and make a
// model that knows nothing look a few percent better than the fallback.
func (p *Predictor) compare(model, fallback float64) {
	const a = 1.0 / 256
	adv := load(&p.adv)*(1-a) + a*math.Log(model/fallback)
	store(&p.adv, adv)
	ok := load(&p.rateEMA) <= 2*p.rate && p.taught.Load() >= p.fb.warmup
	switch {
	case ok && adv < enterAdvantage:
		p.using.Store(true)
	case !ok || adv >= leaveAdvantage:
		p.using.Store(false)
	}
}

// The advantages (mean ln(model/fallback)) at which calls switch to the
// model's limits and back.
var (
	enterAdvantage = math.Log(0.9)
	leaveAdvantage = math.Log(0.98)
)

// Probe periods: one call in probeUsing (while the model's limit is in
// use) or probeFallback (while it is not) gets the longer of the two
// limits, so that both learners see whether the call would have timed out
// under their own limit.
const (
	probeUsing    = 16
	probeFallback = 4
)

// WithPredicted returns a Policy that gives each call the limit that p
// predicts from features(ctx) and teaches p from the call's outcome. It is
// otherwise [WithAdaptive]: the caller's shorter deadline wins, and a call
// whose limit fires returns an [*Error] naming its limit. When features
// returns a slice of the wrong length, or with a NaN or infinity, the call
// fails at once with a [*resilience.ConfigError], without calling fn. A nil
// p or features panics with a [*resilience.ConfigError] when the policy is
// made.
func WithPredicted[T any](p *Predictor, features func(ctx context.Context) []float64) resilience.Policy[T] {
	if p == nil {
		panic(&resilience.ConfigError{Pkg: "timeout", Field: "WithPredicted(p)", Want: "a *Predictor from NewPredictor"})
	}
	if features == nil {
		panic(&resilience.ConfigError{Pkg: "timeout", Field: "WithPredicted(features)", Want: "a func"})
	}
	return func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			panic(resilience.ErrNilFunc)
		}
		return func(ctx context.Context) (T, error) {
			if ctx == nil {
				var zero T
				return zero, resilience.ErrNilContext
			}
			x := features(ctx)
			if !p.valid(x) {
				var zero T
				return zero, p.badFeatures(x)
			}
			return predicted(ctx, p, x, next)
		}
	}
}

func (p *Predictor) badFeatures(x []float64) error {
	e := &resilience.ConfigError{Pkg: "timeout", Field: "WithPredicted(features) result", Value: x,
		Want: strconv.Itoa(p.n) + " finite numbers"}
	if len(x) != p.n {
		e.Value = "a slice of " + strconv.Itoa(len(x))
	}
	return e
}

// predicted runs one call under p's limit for x.
func predicted[T any](ctx context.Context, p *Predictor, x []float64, next resilience.Func[T]) (T, error) {
	p.observe(x)
	fb := p.fb
	qa := float64(fb.Current())
	fbWarming := fb.hist.Load() != nil
	if !fbWarming && !p.started.Load() && p.started.CompareAndSwap(false, true) {
		// The model starts as the fallback: its first estimate as the
		// intercept, no weights.
		store(&p.b, math.Log(qa))
	}
	qm := p.model(x)
	using := p.using.Load()

	period := uint64(probeFallback)
	if using {
		period = probeUsing
	}
	probe := p.started.Load() && p.calls.Add(1)%period == 0

	var d float64
	switch {
	case probe:
		d = max(qm, qa)
	case using:
		d = qm
	default:
		d = qa
	}
	v, o, err := runLimited(ctx, time.Duration(d), fb.cause, probe || fbWarming, next)
	if !o.teach || attempt.Excluded(ctx) {
		fb.skipped.Add(1)
		return v, err
	}
	// What the call says about each learner's own limit: known for the
	// learner whose limit the call had, and for both on a probe, whose
	// limit was the longer one (a timeout there exceeds both; a latency
	// within it is known).
	switch {
	case probe:
		fb.observe(o.timedOut || o.took > time.Duration(qa), o.took)
		p.teach(x, o.timedOut || o.took > time.Duration(qm))
		p.compare(qm, qa)
	case using:
		p.teach(x, o.timedOut)
	default:
		fb.observe(o.timedOut, o.took)
	}
	return v, err
}
