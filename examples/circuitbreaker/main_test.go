package main

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	// In a synctest bubble the 3s run takes no real time, and the timing
	// is exact: the only randomness left is the breaker's jitter, which
	// decides whether a probe lands before or after the service recovers.
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		rep, err := run(t.Context(), defaultConfig(), &out)
		require.NoError(t, err)
		t.Log("\n" + out.String())

		// closed → open, any number of failed probes, then a recovery.
		seq := strings.Join(rep.Transitions, " ")
		assert.Regexp(t, regexp.MustCompile(
			`^closed->open( open->half-open half-open->open)* open->half-open half-open->closed$`), seq)
		assert.Equal(t, breaker.StateClosed, rep.Final.State)
		assert.Equal(t, uint64(1), rep.Final.Transitions.Trips)
		assert.Equal(t, uint64(1), rep.Final.Transitions.Closes)

		// The breaker shed load: rejected calls never reached the service.
		assert.Positive(t, rep.Rejected)
		assert.Equal(t, rep.Calls-rep.Rejected, rep.Served)
		assert.Equal(t, uint64(rep.Rejected), rep.Final.Rejected)
		assert.Positive(t, rep.TimedOut)
		assert.Positive(t, rep.OK)

		// The narration explains each change with its counts.
		assert.Regexp(t, `closed -> OPEN: \d+ of \d+ calls in the window timed out \(rate 0\.\d\d >= TimeoutRate 0\.50`, out.String())
		assert.Contains(t, out.String(), "open -> HALF-OPEN: open timeout passed; letting 2 probe calls through")
		assert.Contains(t, out.String(), "half-open -> CLOSED: 2 probes answered")
		assert.Contains(t, out.String(), "service recovered")
	})
}

func TestRun_badSettings(t *testing.T) {
	cfg := defaultConfig()
	cfg.Breaker.TimeoutRate = 50 // a percentage where a fraction belongs
	_, err := run(t.Context(), cfg, &bytes.Buffer{})
	require.ErrorIs(t, err, resilience.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "Settings.TimeoutRate")
}

// A run that ends while the service still hangs ends with the breaker open
// or half-open: nothing may narrate or record a recovery that did not
// happen, neither in the run nor after it returns.
func TestRun_endsWhileTheServiceStillHangs(t *testing.T) {
	tests := []struct {
		name        string
		openTimeout time.Duration
	}{
		{"probes keep failing", defaultConfig().Breaker.OpenTimeout},
		// The run ends open, and the open timer fires after run returned.
		{"still open when the run ends", 10 * defaultConfig().Duration},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := defaultConfig()
				cfg.HangFor = 2 * cfg.Duration
				cfg.Breaker.OpenTimeout = tc.openTimeout
				var out bytes.Buffer
				rep, err := run(t.Context(), cfg, &out)
				require.NoError(t, err)
				t.Log("\n" + out.String())

				seq := strings.Join(rep.Transitions, " ")
				assert.Regexp(t, regexp.MustCompile(
					`^closed->open( open->half-open half-open->open)*( open->half-open)?$`), seq)
				assert.NotEqual(t, breaker.StateClosed, rep.Final.State)
				assert.Zero(t, rep.Final.Transitions.Closes)
				assert.Zero(t, rep.Final.Transitions.Resets)
				assert.NotContains(t, out.String(), "CLOSED")
				assert.NotContains(t, out.String(), "probes answered")
				assert.NotContains(t, out.String(), "service recovered")

				// A probe timer left by the run may fire after run has
				// returned: the report and the narration are final by then.
				narrated, transitions := out.String(), slices.Clone(rep.Transitions)
				time.Sleep(2 * tc.openTimeout)
				synctest.Wait()
				assert.Equal(t, narrated, out.String())
				assert.Equal(t, transitions, rep.Transitions)
			})
		})
	}
}
