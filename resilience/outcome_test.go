package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/resilience"
)

type timeoutErr struct{ timeout bool }

type rejectedErr struct{}

func (rejectedErr) Error() string  { return "rejected" }
func (rejectedErr) Rejected() bool { return true }
func (rejectedErr) Timeout() bool  { return true }

func (e timeoutErr) Error() string { return "net-ish" }
func (e timeoutErr) Timeout() bool { return e.timeout }

// netTimeout returns the error of a read on a loopback connection whose
// deadline has passed: a *net.OpError whose Timeout method is true.
func netTimeout(t *testing.T) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline returned %v, want a net.Error timeout", err)
	}
	return err
}

func TestIsTimeout(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},
		{"context.DeadlineExceeded", context.DeadlineExceeded, true},
		{"wrapped DeadlineExceeded", fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		{"os.ErrDeadlineExceeded", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), true},
		{"Timeout() true", fmt.Errorf("x: %w", timeoutErr{true}), true},
		{"Timeout() false", timeoutErr{false}, false},
		{"joined", errors.Join(errors.New("a"), timeoutErr{true}), true},
		{"joined without", errors.Join(errors.New("a"), errors.New("b")), false},
		{"context.Canceled", context.Canceled, false},
		{"net read timeout", netTimeout(t), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, resilience.IsTimeout(tc.err))
		})
	}
}

func TestClassify(t *testing.T) {
	live := context.Background()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	boom := errors.New("boom")
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want resilience.Outcome
	}{
		{"success", live, nil, resilience.OutcomeSuccess},
		{"success after cancel", canceled, nil, resilience.OutcomeSuccess},
		{"failure", live, boom, resilience.OutcomeFailure},
		{"inner timeout", live, fmt.Errorf("attempt: %w", context.DeadlineExceeded), resilience.OutcomeTimeout},
		{"caller canceled", canceled, context.Canceled, resilience.OutcomeCanceled},
		{"caller canceled, fn said something else", canceled, boom, resilience.OutcomeCanceled},
		{"caller deadline", expired, context.DeadlineExceeded, resilience.OutcomeDeadline},
		{"nil ctx", nil, boom, resilience.OutcomeFailure},
		{"rejected", live, fmt.Errorf("call: %w", rejectedErr{}), resilience.OutcomeRejected},
		{"rejected after the caller canceled", canceled, rejectedErr{}, resilience.OutcomeCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, resilience.Classify(tc.ctx, tc.err))
		})
	}
}

func TestOutcome_String(t *testing.T) {
	assert.Equal(t, "success", resilience.OutcomeSuccess.String())
	assert.Equal(t, "timeout", resilience.OutcomeTimeout.String())
	assert.Equal(t, "deadline", resilience.OutcomeDeadline.String())
	assert.Equal(t, "rejected", resilience.OutcomeRejected.String())
	assert.Equal(t, "outcome(9)", resilience.Outcome(9).String())
}

func TestIsRejected(t *testing.T) {
	assert.True(t, resilience.IsRejected(fmt.Errorf("x: %w", rejectedErr{})))
	assert.True(t, resilience.IsRejected(errors.Join(errors.New("a"), rejectedErr{})))
	assert.False(t, resilience.IsRejected(errors.New("boom")))
	assert.False(t, resilience.IsRejected(nil))
}
