package monitor

import (
	"log/slog"
	"strconv"

	"github.com/steadyhq/steady/resilience"
)

// Option configures a [Metrics] made by [New] or [NewMetrics]. The options
// are [Name], [Logger] and [Alert]; only this package can make one.
type Option interface {
	apply(*options)
}

// optionFunc adapts a function to the Option interface.
type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// options is what the Options of one New or NewMetrics call add up to.
type options struct {
	name   string
	logger *slog.Logger
	rules  []AlertRule
	err    error // the first configuration error; later ones are dropped
}

func (o *options) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// Name labels the Metrics in its log lines and in the [AlertEvent] values it
// delivers (the "name" attribute). The default is "" (no label); the last
// Name given wins.
func Name(name string) Option {
	return optionFunc(func(o *options) { o.name = name })
}

// Logger sets where the Metrics logs timeouts and alerts. The default is
// [slog.Default], looked up each time a line is logged, so a later
// [slog.SetDefault] takes effect.
//
// A nil l is a configuration error (see [New]), not a way to switch
// logging off: pass slog.New(slog.DiscardHandler) for that.
func Logger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l == nil {
			o.fail(&resilience.ConfigError{Pkg: "monitor", Field: "Logger(l)", Want: "a *slog.Logger (slog.New(slog.DiscardHandler) silences)"})
			return
		}
		o.logger = l
	})
}

// Alert adds an alert rule on the timeout rate: see [AlertRule] for when it
// fires. It may be given several times, for several rules (say a fast one
// over 30s and a slow one over 10m). A rule with a field out of range is a
// configuration error (see [New]) and is not installed.
func Alert(rule AlertRule) Option {
	return optionFunc(func(o *options) {
		r, err := rule.normalize()
		if err != nil {
			o.fail(err)
			return
		}
		o.rules = append(o.rules, r)
	})
}

// nilOptionError reports a nil Option given to New or NewMetrics.
func nilOptionError(i int) error {
	return &resilience.ConfigError{Pkg: "monitor", Field: "opts[" + strconv.Itoa(i) + "]", Want: "an Option"}
}
