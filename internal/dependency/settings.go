package dependency

import (
	"fmt"
	"time"

	"github.com/steadyhq/steady/internal/typednil"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// Settings are the fields that httpx.Config and contrib/grpc's Config
// share, as their Validate checks them: Pkg names the package in the
// errors ("httpx: Config.Timeout is -1s, want >= 0").
type Settings struct {
	Pkg             string
	Timeout         time.Duration
	AdaptiveTimeout *timeout.AdaptiveConfig
	Retry           *retry.Config
	Breaker         *breaker.Settings
	Hedge           *hedge.Config
	Budget          budget.Budget
}

// Validate returns nil if s is valid, or else its first bad field as a
// *resilience.ConfigError.
func (s Settings) Validate() error {
	if s.Timeout < 0 {
		return &resilience.ConfigError{Pkg: s.Pkg, Field: "Config.Timeout", Value: s.Timeout, Want: ">= 0"}
	}
	if _, err := s.Adaptive(); err != nil {
		return err
	}
	if s.Retry != nil {
		if err := s.Retry.Validate(); err != nil {
			return err
		}
	}
	if s.Breaker != nil {
		if err := s.Breaker.Validate(); err != nil {
			return err
		}
	}
	if s.Hedge != nil {
		if err := s.Hedge.Validate(); err != nil {
			return err
		}
	}
	if s.Budget != nil && typednil.Is(s.Budget) {
		return &resilience.ConfigError{Pkg: s.Pkg, Field: "Config.Budget", Value: fmt.Sprintf("a nil %T", s.Budget), Want: "a budget from package budget, or nil"}
	}
	return nil
}

// Adaptive returns AdaptiveTimeout with Max defaulted to Timeout (the
// ceiling), or nil when there is none.
func (s Settings) Adaptive() (*timeout.AdaptiveConfig, error) {
	if s.AdaptiveTimeout == nil {
		return nil, nil
	}
	ac := *s.AdaptiveTimeout
	switch {
	case ac.Max == 0 && s.Timeout == 0:
		return nil, &resilience.ConfigError{Pkg: s.Pkg, Field: "Config.AdaptiveTimeout.Max", Value: ac.Max, Want: "> 0, or Config.Timeout set (the ceiling)"}
	case s.Timeout > 0 && ac.Max > s.Timeout:
		return nil, &resilience.ConfigError{Pkg: s.Pkg, Field: "Config.AdaptiveTimeout.Max", Value: ac.Max, Want: "<= Config.Timeout (" + s.Timeout.String() + "), the ceiling"}
	case ac.Max == 0:
		ac.Max = s.Timeout
	}
	if err := ac.Validate(); err != nil {
		return nil, err
	}
	return &ac, nil
}
