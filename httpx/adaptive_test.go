package httpx_test

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience/hedge"
	"github.com/steadyhq/steady/resilience/timeout"
)

func TestConfig_adaptiveTimeoutNeedsACeiling(t *testing.T) {
	for _, tc := range []struct {
		cfg  httpx.Config
		want string
	}{
		{httpx.Config{AdaptiveTimeout: &timeout.AdaptiveConfig{}}, "httpx: Config.AdaptiveTimeout.Max is 0s, want > 0, or Config.Timeout set (the ceiling)"},
		{httpx.Config{Timeout: time.Second, AdaptiveTimeout: &timeout.AdaptiveConfig{Max: 2 * time.Second}}, "httpx: Config.AdaptiveTimeout.Max is 2s, want <= Config.Timeout (1s), the ceiling"},
	} {
		err := tc.cfg.Validate()
		require.Error(t, err)
		assert.Equal(t, tc.want, err.Error())
	}
	require.NoError(t, httpx.Config{Timeout: time.Second, AdaptiveTimeout: &timeout.AdaptiveConfig{}}.Validate())
}

// Each host learns its limit: after a warm-up at the ceiling (2s) on a
// fast host, a hung request is cut at the learned limit, far below it.
func TestAdaptiveTimeout_learnsPerHostAndCutsAHang(t *testing.T) {
	t.Parallel()
	for _, viaTransport := range []bool{false, true} {
		name := "client"
		if viaTransport {
			name = "transport"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, hits := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
				if r.URL.Path == "/hang" {
					sleep(r, 10*time.Second)
					return
				}
				_, _ = w.Write([]byte("ok"))
			})
			// Min keeps a loaded test machine from timing out calls that
			// loopback usually answers in a millisecond.
			cfg := httpx.Config{Timeout: 2 * time.Second, AdaptiveTimeout: &timeout.AdaptiveConfig{TargetRate: 0.01, Min: 100 * time.Millisecond, Warmup: 100}}
			var get func(path string) error
			var adaptives func() map[string]*timeout.Adaptive
			if viaTransport {
				tr, err := httpx.NewTransport(nil, cfg)
				require.NoError(t, err)
				hc := &http.Client{Transport: tr}
				get = func(path string) error {
					resp, err := hc.Get(srv.URL + path)
					if err != nil {
						return err
					}
					defer resp.Body.Close()
					_, err = io.ReadAll(resp.Body)
					return err
				}
				adaptives = tr.AdaptiveTimeouts
			} else {
				c := httptestClient(t, cfg)
				get = func(path string) error {
					_, err := c.Get(t.Context(), srv.URL+path)
					return err
				}
				adaptives = c.AdaptiveTimeouts
			}
			failed := 0
			for range 300 {
				if get("/") != nil {
					failed++ // the 1% the limit is for, or a stall of the machine
				}
			}
			assert.Less(t, failed, 30)
			as := adaptives()
			require.Len(t, as, 1)
			var a *timeout.Adaptive
			for _, x := range as {
				a = x
			}
			limit := a.Current()
			t.Logf("learned %v after %d calls: %+v", limit, hits.Load(), a.Snapshot())
			require.Less(t, limit, time.Second, "the limit came down from the 2s ceiling")
			start := time.Now()
			err := get("/hang")
			took := time.Since(start)
			require.Error(t, err)
			var te *timeout.Error
			assert.True(t, errors.As(err, &te), "a *timeout.Error: %v", err)
			assert.Less(t, took, 1500*time.Millisecond, "cut at the learned limit, not at the 2s ceiling")
			assert.GreaterOrEqual(t, a.Snapshot().Timeouts, uint64(1), "the hang taught the limit")
		})
	}
}

// With Hedge too, a Client's learned limit bounds each hedged group and
// learns from every call, hedged or not, so it does not drift down to the
// hedge delay; a Transport takes one of the two.
func TestAdaptiveTimeout_withHedge(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if n.Add(1)%10 == 0 {
			sleep(r, 50*time.Millisecond) // a straggler: the hedge answers for it
		}
		_, _ = w.Write([]byte("ok"))
	})
	cfg := httpx.Config{
		Timeout:         2 * time.Second,
		AdaptiveTimeout: &timeout.AdaptiveConfig{TargetRate: 0.01, Min: 100 * time.Millisecond, Warmup: 50},
		Hedge:           &hedge.Config{Delay: 10 * time.Millisecond},
	}
	c := httptestClient(t, cfg)
	for range 100 {
		_, _ = c.Get(t.Context(), srv.URL)
	}
	for _, a := range c.AdaptiveTimeouts() {
		s := a.Snapshot()
		assert.Zero(t, s.Skipped, "hedged calls teach the limit too: %+v", s)
		assert.EqualValues(t, 100, s.Calls)
	}
	_, err := httpx.NewTransport(nil, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.AdaptiveTimeout")
}
