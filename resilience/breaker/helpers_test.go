package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

var (
	errDown     = errors.New("dependency down")
	errNotFound = errors.New("not found")
	// errTimedOut is what a timeout inside the breaker returns: a timeout
	// while the caller's context is live.
	errTimedOut = fmt.Errorf("attempt: %w", context.DeadlineExceeded)
)

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

// newBreaker returns a breaker with s (quiet unless s.Logger is set).
func newBreaker(t *testing.T, s breaker.Settings) *breaker.CircuitBreaker {
	t.Helper()
	if s.Logger == nil {
		s.Logger = quiet
	}
	cb, err := breaker.New(s)
	require.NoError(t, err)
	return cb
}

// op is one kind of call the tests make through a breaker.
type op int

const (
	opOK       op = iota // succeeds at once
	opFail               // fails with errDown
	opTimeout            // fails with a timeout (the caller's ctx is live)
	opSlow               // succeeds after slowFor (use inside synctest)
	opCanceled           // the caller cancels its ctx; fn returns ctx.Err()
	opDeadline           // the caller's own deadline passes
	opNotFound           // fails with errNotFound (see isFailure)
)

func (o op) String() string {
	return [...]string{"ok", "fail", "timeout", "slow", "canceled", "deadline", "notFound"}[o]
}

// slowFor is how long opSlow takes.
const slowFor = 2 * time.Second

// isFailure is a Settings.IsFailure that does not hold errNotFound against
// the dependency.
func isFailure(err error) bool { return !errors.Is(err, errNotFound) }

// caller makes calls of each op through one breaker and counts how often
// fn actually ran.
type caller struct {
	call resilience.Func[op]
	mu   sync.Mutex
	ran  int
}

func newCaller(cb *breaker.CircuitBreaker) *caller {
	c := &caller{}
	c.call = breaker.Breaker[op](cb)(func(ctx context.Context) (op, error) {
		c.mu.Lock()
		c.ran++
		c.mu.Unlock()
		o := ctx.Value(opKey{}).(op)
		switch o {
		case opFail:
			return o, errDown
		case opTimeout:
			return o, errTimedOut
		case opSlow:
			time.Sleep(slowFor)
		case opCanceled, opDeadline:
			<-ctx.Done()
			return o, ctx.Err()
		case opNotFound:
			return o, errNotFound
		}
		return o, nil
	})
	return c
}

type opKey struct{}

// do makes one call of o and returns its error.
func (c *caller) do(o op) error {
	ctx := context.WithValue(context.Background(), opKey{}, o)
	switch o {
	case opCanceled:
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		cancel()
	case opDeadline:
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
	}
	_, err := c.call(ctx)
	return err
}

// calls returns how many times fn ran.
func (c *caller) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ran
}

// transitions records what OnStateChange reports.
type transitions struct {
	mu  sync.Mutex
	got []string
}

func (tr *transitions) hook(name string, from, to breaker.State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.got = append(tr.got, from.String()+"->"+to.String())
}

func (tr *transitions) list() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.got...)
}
