package hedge

import (
	"fmt"
	"math"
	"time"

	"github.com/steadyhq/steady/internal/typednil"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/budget"
)

const (
	defaultTargetRate = 0.05
	defaultMaxDelay   = time.Second
	maxMaxHedges      = 5
)

// Config configures a [Hedger]. The zero Config is valid: an adaptive
// delay that hedges about 5% of calls, one hedge at most.
type Config struct {
	// Delay is how long an attempt may run before the next one starts.
	// 0 (the default) means adaptive: the Hedger learns the delay that
	// hedges about TargetRate of the calls. Must be >= 0.
	Delay time.Duration

	// TargetRate is, for an adaptive delay, the share of calls to hedge:
	// the extra load you accept to cut the tail. 0 means 0.05; otherwise
	// it must be in (0, 0.5]. It must be 0 with a fixed Delay.
	TargetRate float64

	// MaxHedges is how many extra attempts a call may start, one per
	// delay: the second after 2×Delay, and so on. 0 means 1; at most 5.
	MaxHedges int

	// MinDelay and MaxDelay bound an adaptive delay. MaxDelay is also the
	// delay before the Hedger has seen enough calls to learn one. The
	// defaults are 0 and 1s; 0 <= MinDelay < MaxDelay. They must be 0 with
	// a fixed Delay.
	MinDelay, MaxDelay time.Duration

	// Budget, if set, is asked before every hedge (share one with
	// retry.Config.Budget to bound all extra attempts together): a hedge
	// it refuses is not started, and the call goes on waiting for the
	// attempts it has. See "Budget" in the package documentation for what
	// it is told.
	Budget budget.Budget
}

// settings is a validated Config with its defaults filled in.
type settings struct {
	fixed     time.Duration // > 0: a fixed delay
	rate      float64
	maxHedges int
	minDelay  time.Duration
	maxDelay  time.Duration
	budget    budget.Budget
}

func configError(field string, value any, want string) error {
	return &resilience.ConfigError{Pkg: "hedge", Field: "Config." + field, Value: value, Want: want}
}

// Validate reports the first field of c that is out of range, as a
// *resilience.ConfigError naming it.
func (c Config) Validate() error {
	_, err := c.settings()
	return err
}

func (c Config) settings() (settings, error) {
	s := settings{fixed: c.Delay, rate: c.TargetRate, maxHedges: c.MaxHedges,
		minDelay: c.MinDelay, maxDelay: c.MaxDelay, budget: c.Budget}
	switch {
	case c.Delay < 0:
		return s, configError("Delay", c.Delay, ">= 0 (0: adaptive)")
	case c.MaxHedges < 0 || c.MaxHedges > maxMaxHedges:
		return s, configError("MaxHedges", c.MaxHedges, "0 to 5 (0: 1)")
	case math.IsNaN(c.TargetRate) || c.TargetRate < 0 || c.TargetRate > 0.5:
		return s, configError("TargetRate", c.TargetRate, "in (0, 0.5], or 0 for the default 0.05")
	case c.Delay > 0 && c.TargetRate != 0:
		return s, configError("TargetRate", c.TargetRate, "0 with a fixed Delay (it is for an adaptive one)")
	case c.Delay > 0 && (c.MinDelay != 0 || c.MaxDelay != 0):
		return s, configError("MinDelay", c.MinDelay, "0, with MaxDelay 0, for a fixed Delay (they bound an adaptive one)")
	case c.MinDelay < 0:
		return s, configError("MinDelay", c.MinDelay, ">= 0")
	case c.MaxDelay < 0:
		return s, configError("MaxDelay", c.MaxDelay, ">= 0 (0: 1s)")
	}
	if c.Budget != nil {
		// A nil *budget.Adaptive in the interface would panic on the
		// first hedge instead of now.
		if typednil.Is(c.Budget) {
			return s, configError("Budget", fmt.Sprintf("a nil %T", c.Budget), "a budget from package budget, or nil")
		}
	}
	if s.maxHedges == 0 {
		s.maxHedges = 1
	}
	if s.fixed > 0 {
		return s, nil
	}
	if s.rate == 0 {
		s.rate = defaultTargetRate
	}
	if s.maxDelay == 0 {
		s.maxDelay = defaultMaxDelay
	}
	if s.minDelay >= s.maxDelay {
		return s, configError("MinDelay", c.MinDelay, "< MaxDelay ("+s.maxDelay.String()+")")
	}
	return s, nil
}
