package resilience

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// ErrNilContext is returned when a call is made with a nil context.Context.
// Like every error of misuse, it is a rejection ([IsRejected]): no policy
// counts it against the dependency.
var ErrNilContext error = misuseError("resilience: nil context.Context")

// ErrNilFunc is returned by [Do] for a nil fn, and is the panic value of a
// policy applied to a nil Func.
var ErrNilFunc error = misuseError("resilience: nil Func")

// ErrNilPolicy is wrapped by the panic value of [Compose] when a policy is
// nil or returns a nil Func.
var ErrNilPolicy error = misuseError("resilience: nil Policy")

// misuseError is an error in the caller's code, not the dependency's: a
// rejection that is never retried.
type misuseError string

func (e misuseError) Error() string   { return string(e) }
func (e misuseError) Rejected() bool  { return true }
func (e misuseError) Retryable() bool { return false }

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
// Constructors and Validate methods return it; combinators that cannot
// return an error panic with it when the pipeline is built (see "Bad
// configuration" in the package documentation). Test for it with
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

// Rejected returns true: a configuration error is the caller's mistake, and
// no policy counts it against the dependency, which was never called.
func (e *ConfigError) Rejected() bool { return true }

// Retryable returns false: the same configuration fails the same way.
func (e *ConfigError) Retryable() bool { return false }

// ErrPropagatedDeadline is the cause, as [context.Cause] reports it, of a
// context that ended at a deadline an upstream caller sent with its
// request (HTTP's Grpc-Timeout header through httpx.Deadlines, gRPC's own
// deadline through contrib/grpc's server interceptor), as opposed to a
// limit this process set itself, whose cause is plain
// [context.DeadlineExceeded]. errors.Is(ErrPropagatedDeadline,
// context.DeadlineExceeded) holds. Monitoring counts a call that ran out of
// such a deadline as a propagated timeout (monitor's
// Stats.PropagatedTimeouts), so that a service that gives up on behalf of
// its callers is told apart from one whose dependency is slow.
var ErrPropagatedDeadline error = propagatedDeadline{}

// propagatedDeadline is the type of ErrPropagatedDeadline: a comparable
// value wrapping context.DeadlineExceeded, with no fields to change.
type propagatedDeadline struct{}

func (propagatedDeadline) Error() string {
	return "the caller's propagated deadline passed: context deadline exceeded"
}
func (propagatedDeadline) Unwrap() error { return context.DeadlineExceeded }

// Timeout reports true, as context.DeadlineExceeded does.
func (propagatedDeadline) Timeout() bool { return true }
