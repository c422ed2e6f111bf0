package main

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// quickFlaky is a flaky server whose delays are short and whose outage
// never comes, unless a test sets one.
var quickFlaky = flakyConfig{
	Seed:        7,
	Slow:        [2]time.Duration{2 * time.Millisecond, 4 * time.Millisecond},
	Hang:        30 * time.Millisecond,
	OutageStart: time.Hour,
	OutageLen:   time.Second,
}

func startTestFlaky(t *testing.T, cfg flakyConfig) *flakyServer {
	t.Helper()
	s, err := startFlaky(cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// get sends one GET to url and returns the status and Retry-After header.
func get(t *testing.T, hc *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := hc.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// statuses sends n GETs one after another and returns their statuses.
func statuses(t *testing.T, hc *http.Client, url string, n int) []int {
	t.Helper()
	var got []int
	for range n {
		code, retryAfter := get(t, hc, url)
		if code == http.StatusTooManyRequests {
			assert.Equal(t, "1", retryAfter, "a 429 says when to come back")
		}
		got = append(got, code)
	}
	return got
}

func TestFlaky_servesTheMix(t *testing.T) {
	s := startTestFlaky(t, quickFlaky)
	hc := &http.Client{Transport: newTransport(1)}
	t.Cleanup(hc.CloseIdleConnections)

	const n = 600
	count := map[int]int64{}
	for _, code := range statuses(t, hc, s.URL, n) {
		count[code]++
	}
	st := s.stats()
	assert.Equal(t, int64(n), st.Requests)
	// What the client saw is what the server counted...
	assert.Equal(t, st.Faults[faultHang].Injected, count[http.StatusGatewayTimeout], "hangs, released after Hang")
	assert.Equal(t, st.Faults[faultFailing].Injected, count[http.StatusServiceUnavailable])
	assert.Equal(t, st.Faults[faultThrottled].Injected, count[http.StatusTooManyRequests])
	assert.Equal(t, int64(n), count[200]+count[503]+count[504]+count[429], "no other status")
	assert.Equal(t, int64(n), st.Faults[faultBase].Injected, "every request takes 1-5ms")
	assert.Zero(t, st.Faults[faultOutage].Injected, "no outage yet")
	// ...and at about the mix's rates: each within 5 standard deviations.
	for _, c := range []struct {
		name    string
		got     int64
		percent float64
	}{
		{"slow", st.Faults[faultSlow].Injected, mix.slow},
		{"hang", count[504], mix.hang},
		{"503", count[503], mix.failing},
		{"429", count[429], mix.throttled},
	} {
		want := c.percent / 100 * n
		assert.InDelta(t, want, float64(c.got), 5*math.Sqrt(want), "%s: %d of %d", c.name, c.got, n)
	}
}

func TestFlaky_sameSeedSameSequence(t *testing.T) {
	run := func(seed uint64) []int {
		cfg := quickFlaky
		cfg.Seed = seed
		s := startTestFlaky(t, cfg)
		hc := &http.Client{Transport: newTransport(1)}
		t.Cleanup(hc.CloseIdleConnections)
		return statuses(t, hc, s.URL, 150)
	}
	a, b, other := run(7), run(7), run(8)
	assert.Equal(t, a, b, "one seed, one sequence")
	assert.NotEqual(t, a, other, "another seed, another sequence")
}

func TestFlaky_startPhaseRestartsTheSequence(t *testing.T) {
	s := startTestFlaky(t, quickFlaky)
	hc := &http.Client{Transport: newTransport(1)}
	t.Cleanup(hc.CloseIdleConnections)
	first := statuses(t, hc, s.URL, 60)
	s.startPhase()
	assert.Zero(t, s.stats().Requests, "a new phase starts from zero")
	assert.Equal(t, first, statuses(t, hc, s.URL, 60), "a new phase starts the sequence again")
}

func TestFlaky_outage(t *testing.T) {
	cfg := quickFlaky
	cfg.OutageStart, cfg.OutageLen = 0, 500*time.Millisecond
	s := startTestFlaky(t, cfg)
	hc := &http.Client{Transport: newTransport(1)}
	t.Cleanup(hc.CloseIdleConnections)

	before := time.Now()
	s.startPhase()
	after := time.Now()
	checked := 0
	for range 20 {
		code, _ := get(t, hc, s.URL)
		// Answered within the outage as the server counts it: the server
		// saw the request before we got the answer, and started the phase
		// after "before".
		if time.Since(before) < cfg.OutageLen {
			require.Equal(t, http.StatusServiceUnavailable, code, "every request fails during the outage")
			checked++
		}
	}
	require.NotZero(t, checked, "the machine is too slow for this test")
	assert.GreaterOrEqual(t, s.stats().Faults[faultOutage].Injected, int64(checked))

	time.Sleep(time.Until(after.Add(cfg.OutageLen)))
	down0 := s.stats().Faults[faultOutage].Injected
	for range 100 {
		get(t, hc, s.URL)
	}
	assert.Equal(t, down0, s.stats().Faults[faultOutage].Injected, "the outage is over")
}

func TestFlaky_hangReleasedWhenClientLeaves(t *testing.T) {
	cfg := quickFlaky
	cfg.Hang = time.Minute
	s := startTestFlaky(t, cfg)
	hc := &http.Client{Transport: newTransport(1)}
	t.Cleanup(hc.CloseIdleConnections)

	// Requests take at most 5+4ms unless they hang: the first one still
	// unanswered after 1 s is a hang.
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "no hang in 1000 requests")
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		cancel()
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			continue
		}
		require.True(t, errors.Is(err, context.DeadlineExceeded), "request %d: %v", i, err)
		break
	}
	require.Eventually(t, func() bool { return s.stats().InFlight == 0 }, 10*time.Second, 5*time.Millisecond,
		"the hung handler returns when its client goes away, long before the minute is up")
	assert.Equal(t, int64(1), s.stats().Faults[faultHang].Injected)
}

func TestFlaky_describe(t *testing.T) {
	assert.Equal(t, "1-5ms, 8% slower by 200ms-500ms; 3% hang (5s), 9% 503, 5% 429 (Retry-After: 1); "+
		"outage (every request 503) from 1.5s to 3.5s into each phase", demoFlaky.describe())
}
