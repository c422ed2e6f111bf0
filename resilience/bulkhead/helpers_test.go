package bulkhead_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience/bulkhead"
)

var errDown = errors.New("dependency down")

// newBulkhead returns a bulkhead with c, failing the test if c is invalid.
func newBulkhead(t *testing.T, c bulkhead.Config) *bulkhead.Bulkhead {
	t.Helper()
	b, err := bulkhead.New(c)
	require.NoError(t, err)
	return b
}

// gate is a Func that blocks until it is opened, counting its calls and
// the calls running at once.
type gate struct {
	open    chan struct{}
	entered chan string // receives each call's name as it enters, if not nil
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

// fn returns a Func named name that waits for the gate, or for its ctx.
func (g *gate) fn(name string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if g.entered != nil {
			g.entered <- name
		}
		select {
		case <-g.open:
			return name, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// result is what a call returned.
type result struct {
	v   string
	err error
}

// start calls f with ctx in a goroutine and returns the channel that
// receives its result.
func start(ctx context.Context, f func(context.Context) (string, error)) <-chan result {
	ch := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		ch <- result{v, err}
	}()
	return ch
}

// returned reports whether ch has a result now, and that result.
func returned(ch <-chan result) (result, bool) {
	select {
	case r := <-ch:
		return r, true
	default:
		return result{}, false
	}
}
