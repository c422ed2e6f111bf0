package monitor

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// Config configures a [Metrics] made by [NewMetrics]. The zero Config is
// valid: an unnamed Metrics that logs nothing and has no alert rules.
type Config struct {
	// Name labels the Metrics' log lines and [AlertEvent] values.
	Name string
	// Logger receives the timeout and alert lines described in the package
	// documentation. nil (the default) logs nothing.
	Logger *slog.Logger
	// Alerts are rules on the timeout rate; see [AlertRule].
	Alerts []AlertRule
}

// Validate returns nil if c is valid, or else its first bad field as a
// [*resilience.ConfigError], e.g.
//
//	monitor: Config.Alerts[1].Threshold is 1.5, want > 0 and < 1
func (c Config) Validate() error {
	for i, r := range c.Alerts {
		if err := r.validate("Config.Alerts[" + strconv.Itoa(i) + "]."); err != nil {
			return err
		}
	}
	return nil
}

// NewMetrics returns a Metrics configured by cfg, or cfg's first bad field
// as a [*resilience.ConfigError] (see [Config.Validate]) and a nil Metrics.
func NewMetrics(cfg Config) (*Metrics, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newMetrics(cfg), nil
}

// newMetrics returns a Metrics for a valid cfg.
func newMetrics(cfg Config) *Metrics {
	m := &Metrics{name: cfg.Name, logger: cfg.Logger}
	for _, r := range cfg.Alerts {
		m.rules = append(m.rules, newRule(r.withDefaults(), cfg.Name))
	}
	return m
}

const (
	defaultWindow   = 30 * time.Second
	minWindow       = time.Millisecond
	defaultMinCalls = 10
)

// validate checks r's ranges, naming a bad field with prefix.
func (r AlertRule) validate(prefix string) error {
	bad := func(field string, v any, want string) error {
		return &resilience.ConfigError{Pkg: "monitor", Field: prefix + field, Value: v, Want: want}
	}
	switch {
	case r.Window != 0 && r.Window < minWindow:
		return bad("Window", r.Window, "0 (30s) or >= 1ms")
	case r.MinCalls < 0:
		return bad("MinCalls", r.MinCalls, "0 (10) or > 0")
	case !(r.Threshold > 0 && r.Threshold < 1): // also rejects NaN
		return bad("Threshold", r.Threshold, "> 0 and < 1")
	case r.Cooldown < 0:
		return bad("Cooldown", r.Cooldown, "0 (Window) or > 0")
	}
	return nil
}

// withDefaults returns r with its zero fields set to their defaults.
func (r AlertRule) withDefaults() AlertRule {
	if r.Window == 0 {
		r.Window = defaultWindow
	}
	if r.MinCalls == 0 {
		r.MinCalls = defaultMinCalls
	}
	if r.Cooldown == 0 {
		r.Cooldown = r.Window
	}
	return r
}
