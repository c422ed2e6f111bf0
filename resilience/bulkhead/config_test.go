package bulkhead_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/bulkhead"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		c     bulkhead.Config
		field string // "" when valid
	}{
		{"one slot, no queue", bulkhead.Config{MaxConcurrent: 1}, ""},
		{"queue without timeout", bulkhead.Config{MaxConcurrent: 10, MaxQueue: 100}, ""},
		{"queue with timeout", bulkhead.Config{MaxConcurrent: 10, MaxQueue: 100, QueueTimeout: time.Second}, ""},
		{"largest", bulkhead.Config{MaxConcurrent: 1<<31 - 1, MaxQueue: 1<<31 - 1}, ""},
		{"zero Config", bulkhead.Config{}, "Config.MaxConcurrent"},
		{"negative MaxConcurrent", bulkhead.Config{MaxConcurrent: -1}, "Config.MaxConcurrent"},
		{"MaxConcurrent above 32 bits", bulkhead.Config{MaxConcurrent: 1 << 31}, "Config.MaxConcurrent"},
		{"negative MaxQueue", bulkhead.Config{MaxConcurrent: 1, MaxQueue: -1}, "Config.MaxQueue"},
		{"MaxQueue above 32 bits", bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1 << 31}, "Config.MaxQueue"},
		{"negative QueueTimeout", bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1, QueueTimeout: -time.Second}, "Config.QueueTimeout"},
		{"QueueTimeout without a queue", bulkhead.Config{MaxConcurrent: 1, QueueTimeout: time.Second}, "Config.QueueTimeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			b, newErr := bulkhead.New(tc.c)
			if tc.field == "" {
				require.NoError(t, err)
				require.NoError(t, newErr)
				assert.NotNil(t, b)
				return
			}
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "bulkhead", ce.Pkg)
			assert.Equal(t, tc.field, ce.Field)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
			assert.True(t, resilience.IsRejected(err))
			assert.Equal(t, err, newErr, "New returns Validate's error")
			assert.Nil(t, b)
		})
	}
}

func TestConfigError_message(t *testing.T) {
	err := bulkhead.Config{MaxConcurrent: 1, QueueTimeout: time.Second}.Validate()
	assert.EqualError(t, err, "bulkhead: Config.QueueTimeout is 1s, want 0 when MaxQueue is 0 (no call ever waits)")
	err = bulkhead.Config{}.Validate()
	assert.EqualError(t, err, "bulkhead: Config.MaxConcurrent is 0, want in [1, 2147483647]")
}

// Combinators with a missing part panic when the pipeline is built, with
// an error that names the part.
func TestNilArguments(t *testing.T) {
	b := newBulkhead(t, bulkhead.Config{MaxConcurrent: 1})
	panicsWithField := func(t *testing.T, field string, f func()) {
		t.Helper()
		defer func() {
			t.Helper()
			r := recover()
			err, ok := r.(error)
			require.True(t, ok, "panic value %v is not an error", r)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, field, ce.Field)
		}()
		f()
	}
	panicsWithField(t, "Limit(b)", func() { bulkhead.Limit[int](nil) })
	panicsWithField(t, "Coalesce(key)", func() { bulkhead.Coalesce[int](nil) })
	panicsWithField(t, "Fallback(fn)", func() { bulkhead.Fallback[int](nil) })

	policies := map[string]resilience.Policy[int]{
		"Limit":    bulkhead.Limit[int](b),
		"Coalesce": bulkhead.Coalesce[int](func(context.Context) string { return "k" }),
		"Fallback": bulkhead.Fallback(func(context.Context, error) (int, error) { return 0, nil }),
	}
	for name, p := range policies {
		t.Run(name, func(t *testing.T) {
			assert.PanicsWithValue(t, resilience.ErrNilFunc, func() { p(nil) })
			called := false
			f := p(func(context.Context) (int, error) { called = true; return 1, nil })
			_, err := f(nil)
			assert.ErrorIs(t, err, resilience.ErrNilContext)
			assert.False(t, called)
		})
	}
}
