package dashboard

import (
	"log/slog"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// Config configures a [Dashboard] made by [New]. The zero Config is valid:
// a tick of 1s, two minutes of history, 32 viewers at most, titled
// "steady", logging nothing.
type Config struct {
	// Tick is how often the dashboard reads its parts and pushes the
	// figures to the viewers. The default (0) is 1s; otherwise it must be
	// at least 10ms.
	Tick time.Duration

	// History is how far back the sparklines reach, and so how many
	// ticks of them are kept and sent to a new viewer (History/Tick,
	// rounded up). The default (0) is 2m; otherwise it must be at least
	// Tick and at most 10000 ticks.
	History time.Duration

	// MaxViewers is how many event streams may be open at once; one more
	// is answered 503 with Retry-After. The default (0) is 32; it must not
	// be negative.
	MaxViewers int

	// Title is the page's title. The default ("") is "steady".
	Title string

	// Logger receives a line when a viewer is turned away and when a
	// stream fails. nil (the default) logs nothing.
	Logger *slog.Logger
}

const (
	defaultTick       = time.Second
	minTick           = 10 * time.Millisecond
	defaultHistory    = 2 * time.Minute
	maxPoints         = 10000
	defaultMaxViewers = 32
	defaultTitle      = "steady"
)

// Validate returns nil if c is valid, or else its first bad field as a
// [*resilience.ConfigError], e.g.
//
//	dashboard: Config.Tick is 1ms, want 0 (1s) or >= 10ms
func (c Config) Validate() error {
	bad := func(field string, v any, want string) error {
		return &resilience.ConfigError{Pkg: "dashboard", Field: "Config." + field, Value: v, Want: want}
	}
	d := c.withDefaults()
	switch {
	case c.Tick != 0 && c.Tick < minTick:
		return bad("Tick", c.Tick, "0 (1s) or >= 10ms")
	case c.History < 0:
		return bad("History", c.History, "0 (2m) or >= Tick")
	case c.History != 0 && c.History < d.Tick:
		return bad("History", c.History, "0 (2m) or >= Tick ("+d.Tick.String()+")")
	case d.points() > maxPoints:
		return bad("History", c.History, "at most 10000 ticks of "+d.Tick.String())
	case c.MaxViewers < 0:
		return bad("MaxViewers", c.MaxViewers, "0 (32) or > 0")
	}
	return nil
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Tick == 0 {
		c.Tick = defaultTick
	}
	if c.History == 0 {
		c.History = defaultHistory
	}
	if c.MaxViewers == 0 {
		c.MaxViewers = defaultMaxViewers
	}
	if c.Title == "" {
		c.Title = defaultTitle
	}
	return c
}

// points returns the number of ticks History holds, rounded up (c with
// defaults).
func (c Config) points() int {
	n := c.History / c.Tick
	if c.History%c.Tick != 0 {
		n++
	}
	return int(min(n, maxPoints+1))
}
