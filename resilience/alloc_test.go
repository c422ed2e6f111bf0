//go:build !race

package resilience_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/steadyhq/steady/resilience"
)

func TestClassify_doesNotAllocate(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", timeoutErr{true})
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		_ = resilience.Classify(ctx, err)
		_ = resilience.IsTimeout(err)
		_ = resilience.IsRejected(err)
	})
	assert.Zero(t, allocs)
}
