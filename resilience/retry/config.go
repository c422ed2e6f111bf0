package retry

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/steadyhq/steady/internal/typednil"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/budget"
)

// The values that zero fields of [Config] stand for.
const (
	defaultMaxAttempts = 3
	defaultBaseDelay   = 100 * time.Millisecond
	defaultMaxDelay    = 30 * time.Second
	defaultMultiplier  = 2.0

	// jitterFactor is the backoff RandomizationFactor used when
	// Config.Jitter is set: each delay is drawn from [d/2, 3d/2].
	jitterFactor = 0.5
)

// Config describes how [Retry] retries. A zero field means its default, as
// each field's doc says; a value out of range is an error (see
// [Config.Validate]), never silently replaced.
//
// The zero Config is valid and means 3 attempts, 100ms first delay doubling
// up to 30s, without jitter. [DefaultConfig] returns the same values with
// Jitter on, which is what most callers want: many clients failing at once
// should not retry in lockstep.
//
// The delay before retry n (n = 1 after the first failed attempt) is
// BaseDelay * Multiplier^(n-1), capped at MaxDelay. With Jitter, each delay
// is instead drawn at random from [d/2, 3d/2] around that value, and still
// capped at MaxDelay.
type Config struct {
	// MaxAttempts is the total number of attempts, including the first:
	// 1 means no retries. Default (0): 3. Range: >= 0.
	MaxAttempts int

	// BaseDelay is the delay before the first retry. Default (0): 100ms.
	// Range: >= 0, and at most MaxDelay. 0 is the default, not "no
	// delay": for (near-)immediate retries set BaseDelay and MaxDelay to
	// time.Nanosecond; delays under a microsecond arm no timer.
	BaseDelay time.Duration

	// MaxDelay caps every delay computed from BaseDelay and Multiplier,
	// with or without Jitter. Default (0): 30s. Range: >= 0, and at least
	// BaseDelay (after defaults: a BaseDelay above 30s needs an explicit
	// MaxDelay).
	MaxDelay time.Duration

	// Multiplier is the growth factor of the delay from one retry to the
	// next: 1 keeps it constant. Default (0): 2. Range: >= 1 and finite.
	Multiplier float64

	// Jitter, when true, draws each delay at random from [d/2, 3d/2]
	// around the computed delay d (and caps it at MaxDelay), so that
	// clients that failed together do not retry together. The zero Config
	// has no jitter; [DefaultConfig] turns it on.
	Jitter bool

	// MaxRetryAfter caps a delay requested by the server: when an error in
	// a failed attempt's chain has a method RetryAfter() time.Duration that
	// returns more than 0 (as httpx's StatusError does for a Retry-After
	// header), that value, capped at MaxRetryAfter, replaces the computed
	// delay for that wait. Default (0): MaxDelay. Range: >= 0.
	MaxRetryAfter time.Duration

	// ShouldRetry, if not nil, decides whether a failed attempt's error is
	// retried, replacing the default rule (an error in the chain with a
	// Retryable() bool method decides; otherwise retry; see [IsRetryable],
	// which a ShouldRetry can call to extend the default). It is not asked
	// about the caller's own cancellation or deadline, nor about errors
	// marked with [Permanent] or wrapped in a [RetryableError]: those are
	// decided before it. It is called once for every other failed attempt,
	// the last one included (its answer picks the error returned), in the
	// caller's goroutine, and concurrently when the Func is called
	// concurrently. If it panics, the error is not retried (see "Hooks" in
	// the package documentation).
	ShouldRetry func(err error) bool

	// OnRetry, if not nil, is called before each wait, in the caller's
	// goroutine, with the 1-based number of the attempt that just failed,
	// its error, and the delay about to be waited. It is not called when
	// Retry gives up instead of waiting. It must be safe for concurrent
	// use if the Func is called concurrently, and should return quickly:
	// the wait starts when it returns. A panic in it is recovered (see
	// "Hooks" in the package documentation).
	OnRetry func(attempt int, err error, delay time.Duration)

	// Budget, if not nil, limits retries across calls: each call is
	// recorded with Budget.Request, each retry needs Budget.Retry's
	// permission, and each attempt's outcome is reported to Budget.Done
	// (see [budget.Budget]). A denied retry ends the call at once with a
	// [*Error] that wraps the last attempt's error and matches
	// [budget.ErrExhausted]. One budget may serve many policies, of any
	// result type. nil: no budget, every retry that the other fields
	// allow is made.
	Budget budget.Budget

	// Logger receives the report of a panic in ShouldRetry or OnRetry (see
	// "Hooks" in the package documentation). Retry logs nothing else. nil:
	// such a report goes to [slog.Default].
	Logger *slog.Logger
}

// DefaultConfig returns the recommended configuration: 3 attempts, a first
// delay of 100ms doubling up to 30s, with jitter. Adjust its fields as
// needed:
//
//	cfg := retry.DefaultConfig()
//	cfg.MaxAttempts = 5
func DefaultConfig() Config {
	return Config{
		MaxAttempts: defaultMaxAttempts,
		BaseDelay:   defaultBaseDelay,
		MaxDelay:    defaultMaxDelay,
		Multiplier:  defaultMultiplier,
		Jitter:      true,
	}
}

// Validate reports the first field of c, in declaration order, that is out
// of range, as a [*resilience.ConfigError] naming the field and its value,
// e.g. "retry: Config.Multiplier is 0.5, want >= 1". It returns nil if
// [Retry] accepts c. Use it on configuration read at run time.
func (c Config) Validate() error {
	_, err := c.settings()
	return err
}

// settings is a validated Config with its defaults filled in: what a
// policy built by Retry runs with. It is read-only once built.
type settings struct {
	maxAttempts   int
	baseDelay     time.Duration
	maxDelay      time.Duration
	maxRetryAfter time.Duration
	multiplier    float64
	jitter        float64 // backoff RandomizationFactor: 0 or jitterFactor
	shouldRetry   func(error) bool
	onRetry       func(int, error, time.Duration)
	budget        budget.Budget
	logger        *slog.Logger
}

func configError(field string, value any, want string) error {
	return &resilience.ConfigError{Pkg: "retry", Field: "Config." + field, Value: value, Want: want}
}

// settings validates c and fills in its defaults.
func (c Config) settings() (settings, error) {
	s := settings{
		maxAttempts:   c.MaxAttempts,
		baseDelay:     c.BaseDelay,
		maxDelay:      c.MaxDelay,
		maxRetryAfter: c.MaxRetryAfter,
		multiplier:    c.Multiplier,
		shouldRetry:   c.ShouldRetry,
		onRetry:       c.OnRetry,
		budget:        c.Budget,
		logger:        c.Logger,
	}
	switch {
	case c.MaxAttempts < 0:
		return s, configError("MaxAttempts", c.MaxAttempts, ">= 0")
	case c.MaxAttempts == 0:
		s.maxAttempts = defaultMaxAttempts
	}
	switch {
	case c.BaseDelay < 0:
		return s, configError("BaseDelay", c.BaseDelay, ">= 0")
	case c.BaseDelay == 0:
		s.baseDelay = defaultBaseDelay
	}
	switch {
	case c.MaxDelay < 0:
		return s, configError("MaxDelay", c.MaxDelay, ">= 0")
	case c.MaxDelay == 0:
		s.maxDelay = defaultMaxDelay
		if s.maxDelay < s.baseDelay {
			return s, configError("MaxDelay", "0 (default 30s)", ">= Config.BaseDelay ("+s.baseDelay.String()+")")
		}
	case c.MaxDelay < s.baseDelay:
		return s, configError("MaxDelay", c.MaxDelay, ">= Config.BaseDelay ("+s.baseDelay.String()+")")
	}
	switch {
	case math.IsNaN(c.Multiplier), c.Multiplier < 0, c.Multiplier > 0 && c.Multiplier < 1:
		return s, configError("Multiplier", c.Multiplier, ">= 1")
	case math.IsInf(c.Multiplier, 1):
		return s, configError("Multiplier", c.Multiplier, "finite, >= 1")
	case c.Multiplier == 0:
		s.multiplier = defaultMultiplier
	}
	switch {
	case c.MaxRetryAfter < 0:
		return s, configError("MaxRetryAfter", c.MaxRetryAfter, ">= 0")
	case c.MaxRetryAfter == 0:
		s.maxRetryAfter = s.maxDelay
	}
	if c.Jitter {
		s.jitter = jitterFactor
	}
	if c.Budget != nil {
		// A nil *budget.Adaptive in the interface would panic on the
		// first call instead of now.
		if typednil.Is(c.Budget) {
			return s, configError("Budget", fmt.Sprintf("a nil %T", c.Budget), "a budget from package budget, or nil")
		}
	}
	return s, nil
}
