package httpx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/chaos"
	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience/budget"
	"github.com/steadyhq/steady/resilience/retry"
)

// callMany makes n calls from 50 goroutines and returns how many succeeded.
func callMany(n int, call func() error) int {
	var ok atomic.Int64
	var wg sync.WaitGroup
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 50 {
		wg.Go(func() {
			for range next {
				if call() == nil {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(ok.Load())
}

// An outage is not amplified: APICallWithRetry's calls to a host share a
// budget that clamps retries once they keep failing.
func TestAPICallWithRetry_budgetDoesNotAmplifyAnOutage(t *testing.T) {
	t.Parallel()
	srv, hits := server(t, statuses(503))
	const calls = 1000
	var exhausted atomic.Int64
	ok := callMany(calls, func() error {
		_, err := httpx.APICallWithRetry(t.Context(), srv.URL, time.Second, 3)
		if errors.Is(err, budget.ErrExhausted) {
			exhausted.Add(1)
		}
		return err
	})
	assert.Zero(t, ok)
	t.Logf("%d calls: %d requests (%.3f per call), %d ended by the budget", calls, hits.Load(), float64(hits.Load())/calls, exhausted.Load())
	// Without a budget: 4,000. With it: the first 100 retries (the
	// budget's capacity), then one attempt per call.
	assert.LessOrEqual(t, hits.Load(), int64(calls+110))
	assert.Greater(t, exhausted.Load(), int64(calls/2))
}

// Transient faults are still retried: 30% random 503s. With 5 attempts a
// call fails with probability 0.3^5 = 0.24%, so 99% leaves room for noise
// (with 4 attempts, 0.8% would fail even without a budget).
func TestAPICallWithRetry_budgetRetriesTransientFaults(t *testing.T) {
	t.Parallel()
	in, err := chaos.New(chaos.Config{Seed: 4, Faults: []chaos.Fault{chaos.Status(503).Rate(0.3)}})
	require.NoError(t, err)
	srv := httptest.NewServer(in.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	t.Cleanup(srv.Close)
	const calls = 1000
	ok := callMany(calls, func() error {
		_, err := httpx.APICallWithRetry(t.Context(), srv.URL, time.Second, 4)
		return err
	})
	sent := in.Snapshot().Requests
	t.Logf("%d of %d calls succeeded, %d requests (%.3f per call)", ok, calls, sent, float64(sent)/calls)
	assert.GreaterOrEqual(t, ok, calls*99/100)
	assert.LessOrEqual(t, float64(sent)/calls, 1.45)
}

func TestClient_defaultBudgetPerHostAndUnlimited(t *testing.T) {
	t.Parallel()
	fast := retry.Config{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
	for _, tc := range []struct {
		name   string
		budget budget.Budget
		most   int64
	}{
		{"default", nil, 200 + 110},
		{"unlimited", budget.Unlimited(), 4 * 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, hits := server(t, statuses(503))
			c := httptestClient(t, httpx.Config{Retry: &fast, Budget: tc.budget})
			callMany(200, func() error {
				_, err := c.Get(t.Context(), srv.URL)
				return err
			})
			assert.LessOrEqual(t, hits.Load(), tc.most)
			if tc.budget != nil {
				assert.EqualValues(t, 4*200, hits.Load(), "no budget: every call makes its 4 attempts")
			}
			bs := c.Budgets()
			require.Len(t, bs, 1)
			for host, b := range bs {
				s := b.Snapshot()
				t.Logf("%s: %+v", host, s)
				assert.EqualValues(t, 200, s.Requests)
				if tc.budget == nil {
					assert.IsType(t, &budget.Adaptive{}, b, "each host's own Adaptive")
					assert.Positive(t, s.Denied)
				}
			}
		})
	}
}

func TestConfig_rejectsANilBudgetPointer(t *testing.T) {
	err := httpx.Config{Budget: (*budget.Adaptive)(nil)}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "httpx: Config.Budget is a nil *budget.Adaptive")
}
