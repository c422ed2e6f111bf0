package timeout

import (
	"math"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// DefaultTargetRate is the share of calls an [Adaptive] lets time out when
// [AdaptiveConfig.TargetRate] is 0: one in a thousand.
const DefaultTargetRate = 0.001

// minAdaptive is the floor of an adaptive limit when AdaptiveConfig.Min is 0.
const minAdaptive = time.Microsecond

// defaultStep is the gain of the control loop when AdaptiveConfig.Step is 0.
const defaultStep = 0.05

// AdaptiveConfig configures [NewAdaptive]. Only Max is required.
type AdaptiveConfig struct {
	// TargetRate is the share of calls that should time out, in (0, 0.5).
	// The limit settles at the latency that about this share of calls
	// exceeds: 0.001 (the default, for 0) is the 99.9th percentile.
	TargetRate float64

	// Min is the shortest limit, >= 0. 0 means 1 microsecond.
	Min time.Duration

	// Max is the longest limit, > 0, and the limit until the warm-up ends.
	// It is also the ceiling the limit climbs to when the dependency gets
	// slower than every limit below it.
	Max time.Duration

	// Warmup is how many calls run at Max before the first estimate, >= 0.
	// 0 means ceil(10 / TargetRate): enough calls for about ten of them to
	// be slower than the estimated limit (10,000 for the default rate).
	Warmup int

	// Step is the gain of the control loop, in (0, 1]: a call that times
	// out raises the limit by a factor of e^(Step*(1-TargetRate)), any
	// other call lowers it by e^(-Step*TargetRate). 0 means 0.05. A larger
	// Step follows a change sooner and wobbles more.
	Step float64
}

// Validate reports the first invalid field as a [*resilience.ConfigError]
// (errors.Is(err, [resilience.ErrInvalidConfig])), or nil.
func (c AdaptiveConfig) Validate() error {
	return c.validate("AdaptiveConfig")
}

func (c AdaptiveConfig) validate(name string) error {
	bad := func(field string, v any, want string) error {
		return &resilience.ConfigError{Pkg: "timeout", Field: name + "." + field, Value: v, Want: want}
	}
	switch {
	case math.IsNaN(c.TargetRate) || c.TargetRate < 0 || c.TargetRate >= 0.5:
		return bad("TargetRate", c.TargetRate, "in (0, 0.5), or 0 for the default 0.001")
	case c.Min < 0:
		return bad("Min", c.Min, ">= 0")
	case c.Max <= 0:
		return bad("Max", c.Max, "> 0")
	case c.Min > c.Max:
		return bad("Min", c.Min, "<= Max ("+c.Max.String()+")")
	case c.Warmup < 0:
		return bad("Warmup", c.Warmup, ">= 0")
	case math.IsNaN(c.Step) || c.Step < 0 || c.Step > 1:
		return bad("Step", c.Step, "in (0, 1], or 0 for the default 0.05")
	}
	return nil
}

// withDefaults returns c with its zero fields set to their defaults. c must
// be valid.
func (c AdaptiveConfig) withDefaults() AdaptiveConfig {
	if c.TargetRate == 0 {
		c.TargetRate = DefaultTargetRate
	}
	if c.Min == 0 {
		c.Min = min(minAdaptive, c.Max)
	}
	if c.Warmup == 0 {
		c.Warmup = int(math.Ceil(10 / c.TargetRate))
	}
	if c.Step == 0 {
		c.Step = defaultStep
	}
	return c
}
