package resilience_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
)

// tag returns a policy that appends name to *trace before and after next.
func tag(trace *[]string, name string) resilience.Policy[int] {
	return func(next resilience.Func[int]) resilience.Func[int] {
		return func(ctx context.Context) (int, error) {
			*trace = append(*trace, name+">")
			v, err := next(ctx)
			*trace = append(*trace, "<"+name)
			return v + 1, err
		}
	}
}

func TestDo_firstPolicyIsOutermost(t *testing.T) {
	var trace []string
	fn := func(context.Context) (int, error) {
		trace = append(trace, "fn")
		return 40, nil
	}
	v, err := resilience.Do(t.Context(), fn, tag(&trace, "a"), tag(&trace, "b"))
	require.NoError(t, err)
	assert.Equal(t, 42, v)
	assert.Equal(t, []string{"a>", "b>", "fn", "<b", "<a"}, trace)
}

func TestDo_noPolicies(t *testing.T) {
	want := errors.New("boom")
	v, err := resilience.Do(t.Context(), func(context.Context) (int, error) { return 7, want })
	assert.Equal(t, 7, v)
	assert.Same(t, want, err)
}

func TestDo_passesContext(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "v")
	_, err := resilience.Do(ctx, func(ctx context.Context) (int, error) {
		assert.Equal(t, "v", ctx.Value(key{}))
		return 0, nil
	}, tag(new([]string), "a"))
	require.NoError(t, err)
}

func TestDo_badInput(t *testing.T) {
	called := false
	fn := func(context.Context) (int, error) { called = true; return 1, nil }

	var nilCtx context.Context // the bad input under test
	_, err := resilience.Do(nilCtx, fn)
	assert.ErrorIs(t, err, resilience.ErrNilContext)

	_, err = resilience.Do[int](t.Context(), nil)
	assert.ErrorIs(t, err, resilience.ErrNilFunc)

	assert.PanicsWithError(t, "resilience: policies[0] is nil", func() {
		_, _ = resilience.Do(t.Context(), fn, nil)
	})
	assert.False(t, called, "fn must not run when the input is bad")
}

func TestCompose_matchesNesting(t *testing.T) {
	var got, want []string
	fn := func(context.Context) (int, error) { return 0, nil }

	_, _ = resilience.Compose(tag(&got, "a"), tag(&got, "b"), tag(&got, "c"))(fn)(t.Context())
	_, _ = tag(&want, "a")(tag(&want, "b")(tag(&want, "c")(fn)))(t.Context())
	assert.Equal(t, want, got)
}

func TestCompose_empty(t *testing.T) {
	fn := func(context.Context) (int, error) { return 3, nil }
	v, err := resilience.Compose[int]()(fn)(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, v)
}

// panicValue returns what f panicked with, or nil.
func panicValue(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

func TestCompose_nilPolicyPanicsWhenBuilt(t *testing.T) {
	var trace []string
	fn := func(context.Context) (int, error) { return 0, nil }

	err, _ := panicValue(func() { resilience.Compose(tag(&trace, "a"), nil) }).(error)
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	assert.EqualError(t, err, "resilience: policies[1] is nil")

	err, _ = panicValue(func() { resilience.Compose(tag(&trace, "a"))(nil) }).(error)
	assert.ErrorIs(t, err, resilience.ErrNilFunc)

	returnsNil := func(resilience.Func[int]) resilience.Func[int] { return nil }
	err, _ = panicValue(func() { resilience.Compose(tag(&trace, "a"), returnsNil)(fn) }).(error)
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	assert.EqualError(t, err, "resilience: policies[1] returned a nil Func")
	assert.Empty(t, trace, "nothing was called")
}

func TestMisuseErrors_areRejectionsNeverRetried(t *testing.T) {
	for _, err := range []error{
		resilience.ErrNilContext, resilience.ErrNilFunc, resilience.ErrNilPolicy,
		&resilience.ConfigError{Pkg: "retry", Field: "Config.BaseDelay", Value: -1, Want: ">= 0"},
	} {
		assert.Equal(t, resilience.OutcomeRejected, resilience.Classify(t.Context(), err), "%v", err)
		r, ok := err.(resilience.RetryableError)
		require.True(t, ok, "%v", err)
		assert.False(t, r.Retryable(), "%v", err)
	}
}

func TestCompose_callerSliceReuseDoesNotChangePipeline(t *testing.T) {
	var trace []string
	ps := []resilience.Policy[int]{tag(&trace, "a")}
	p := resilience.Compose(ps...)
	ps[0] = tag(&trace, "z")
	_, _ = p(func(context.Context) (int, error) { return 0, nil })(t.Context())
	assert.Equal(t, []string{"a>", "<a"}, trace)
}

func TestCompose_concurrentUse(t *testing.T) {
	counting := func(next resilience.Func[int]) resilience.Func[int] {
		return func(ctx context.Context) (int, error) {
			v, err := next(ctx)
			return v * 2, err
		}
	}
	call := resilience.Compose(counting, counting)(func(context.Context) (int, error) { return 1, nil })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				v, err := call(context.Background())
				if err != nil || v != 4 {
					t.Errorf("got %d, %v; want 4, nil", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestConfigError(t *testing.T) {
	err := error(&resilience.ConfigError{Pkg: "retry", Field: "Config.Multiplier", Value: 0.5, Want: ">= 1"})
	assert.EqualError(t, err, "retry: Config.Multiplier is 0.5, want >= 1")
	assert.ErrorIs(t, err, resilience.ErrInvalidConfig)

	err = &resilience.ConfigError{Pkg: "httpx", Field: "operation", Want: "a function"}
	assert.EqualError(t, err, "httpx: operation is nil, want a function")
}
