package resilience

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrNilContext is returned when a call is made with a nil context.Context.
var ErrNilContext = errors.New("resilience: nil context.Context")

// ErrNilFunc is returned when a nil Func is called through [Do] or given to a
// policy.
var ErrNilFunc = errors.New("resilience: nil Func")

// ErrNilPolicy is wrapped by the error returned from pipelines that contain
// a nil Policy (or a Policy that returned a nil Func).
var ErrNilPolicy = errors.New("resilience: nil Policy")

// ErrInvalidConfig is wrapped by every [*ConfigError], so callers can test
// for bad configuration of any policy with [errors.Is].
var ErrInvalidConfig = errors.New("resilience: invalid configuration")

type nilPolicyError struct {
	index       int
	returnedNil bool
}

func (e *nilPolicyError) Error() string {
	if e.returnedNil {
		return "resilience: policies[" + strconv.Itoa(e.index) + "] returned a nil Func"
	}
	return "resilience: policies[" + strconv.Itoa(e.index) + "] is nil"
}

func (e *nilPolicyError) Unwrap() error { return ErrNilPolicy }

// ConfigError reports a configuration value that is out of range, naming the
// field, the value and what was wanted, e.g.
//
//	retry: Config.Multiplier is 0.5, want >= 1
//
// It is returned by constructors (and, for combinators without an error
// result, by every call of the Funcs they build). Test for it with
// [errors.As], or for any configuration error with
// errors.Is(err, [ErrInvalidConfig]).
type ConfigError struct {
	Pkg   string // the package that rejected the value, e.g. "retry"
	Field string // the field or argument, e.g. "Config.Multiplier"
	Value any    // the rejected value
	Want  string // the valid range, e.g. ">= 1"
}

// Error returns "<Pkg>: <Field> is <Value>, want <Want>".
func (e *ConfigError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("%s: %s is nil, want %s", e.Pkg, e.Field, e.Want)
	}
	return fmt.Sprintf("%s: %s is %v, want %s", e.Pkg, e.Field, e.Value, e.Want)
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }
