package registry_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/internal/registry"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/monitor"
)

var errDup = errors.New("x: name already registered")

func TestAdd(t *testing.T) {
	var r registry.Registry
	m := new(monitor.Metrics)
	require.NoError(t, r.Add("x", errDup, registry.Part{Kind: registry.Metrics, Name: "a", Metrics: m}))
	require.NoError(t, r.Add("x", errDup, registry.Part{Kind: registry.Budget, Name: "a", Budget: budget.Unlimited()}), "another kind may share the name")

	err := r.Add("x", errDup, registry.Part{Kind: registry.Metrics, Name: "a", Metrics: m})
	assert.ErrorIs(t, err, errDup)
	assert.EqualError(t, err, `x: name already registered: a monitor.Metrics named "a"`)

	err = r.Add("x", errDup, registry.Part{Kind: registry.Metrics, Name: "b"})
	assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "a *monitor.Metrics")
	var nilRatio *budget.Ratio
	err = r.Add("x", errDup, registry.Part{Kind: registry.Budget, Name: "b", Budget: nilRatio})
	assert.ErrorIs(t, err, resilience.ErrInvalidConfig, "a nil pointer inside the interface")
	assert.Contains(t, err.Error(), "a budget.Budget")
	err = r.Add("x", errDup, registry.Part{Kind: registry.Metrics, Metrics: m})
	assert.ErrorIs(t, err, resilience.ErrInvalidConfig, "an empty name")

	parts := r.Parts()
	require.Len(t, parts, 2)
	assert.Equal(t, registry.Metrics, parts[0].Kind, "in the order added")
	assert.False(t, parts[0].Added.IsZero())
	assert.True(t, r.Remove("a"), "both of its parts")
	assert.Empty(t, r.Parts())
	assert.False(t, r.Remove("a"))
}
