package main

import (
	"context"
	"fmt"
	"io"
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

func TestFlaky_mixPerHundred(t *testing.T) {
	s := &flakyServer{cfg: demoFlaky}
	for block := range uint64(5) {
		var got [numBehaviours]int
		for n := block * 100; n < (block+1)*100; n++ {
			b, d := s.behaviourOf(n)
			got[b]++
			switch b {
			case fast:
				assert.True(t, d >= time.Millisecond && d < 5*time.Millisecond, "fast request %d takes %v", n, d)
			case slow:
				assert.True(t, d >= demoFlaky.Slow[0] && d < demoFlaky.Slow[1], "slow request %d takes %v", n, d)
			}
		}
		for _, m := range mix {
			assert.Equal(t, m.n, got[m.b], "block %d: %v", block, m.b)
		}
		assert.Zero(t, got[down], "the outage is not in the mix")
	}
}

func TestFlaky_sameSeedSameSequence(t *testing.T) {
	a, b := &flakyServer{cfg: demoFlaky}, &flakyServer{cfg: demoFlaky}
	other := &flakyServer{cfg: demoFlaky}
	other.cfg.Seed++
	differs := false
	for n := range uint64(300) {
		ba, da := a.behaviourOf(n)
		bb, db := b.behaviourOf(n)
		require.Equal(t, ba, bb, "request %d", n)
		require.Equal(t, da, db, "request %d", n)
		if bo, _ := other.behaviourOf(n); bo != ba {
			differs = true
		}
	}
	assert.True(t, differs, "another seed deals another order")
}

func TestFlaky_servesTheMix(t *testing.T) {
	s := startTestFlaky(t, quickFlaky)
	hc := &http.Client{Transport: newTransport(1)}
	t.Cleanup(hc.CloseIdleConnections)

	statuses := map[int]int{}
	for n := range uint64(200) {
		code, retryAfter := get(t, hc, s.URL)
		statuses[code]++
		want, _ := s.behaviourOf(n)
		switch want {
		case fast, slow:
			assert.Equal(t, http.StatusOK, code, "request %d", n)
		case hang:
			assert.Equal(t, http.StatusGatewayTimeout, code, "request %d", n)
		case throttled:
			assert.Equal(t, http.StatusTooManyRequests, code, "request %d", n)
			assert.Equal(t, "1", retryAfter, "request %d", n)
		case failing:
			assert.Equal(t, http.StatusServiceUnavailable, code, "request %d", n)
		}
	}
	assert.Equal(t, map[int]int{200: 2 * 83, 504: 2 * 3, 503: 2 * 9, 429: 2 * 5}, statuses)

	c := s.counts()
	assert.Equal(t, [numBehaviours]int64{fast: 150, slow: 16, hang: 6, throttled: 10, failing: 18}, c)

	s.startPhase()
	assert.Equal(t, [numBehaviours]int64{}, s.counts(), "a new phase starts from zero")
	got, _ := s.behaviourOf(0)
	code, _ := get(t, hc, s.URL)
	assert.Equal(t, map[behaviour]int{fast: 200, slow: 200, hang: 504, throttled: 429, failing: 503}[got], code,
		"a new phase starts the sequence again")
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
	assert.GreaterOrEqual(t, s.counts()[down], int64(checked))

	time.Sleep(time.Until(after.Add(cfg.OutageLen)))
	down0 := s.counts()[down]
	for range 100 {
		get(t, hc, s.URL)
	}
	assert.Equal(t, down0, s.counts()[down], "the outage is over")
}

func TestFlaky_hangReleasedWhenClientLeaves(t *testing.T) {
	cfg := quickFlaky
	cfg.Hang = time.Minute
	s := startTestFlaky(t, cfg)
	hc := &http.Client{Transport: newTransport(1)}
	t.Cleanup(hc.CloseIdleConnections)

	first := uint64(0)
	for b, _ := s.behaviourOf(first); b != hang; b, _ = s.behaviourOf(first) {
		first++
	}
	for range first {
		get(t, hc, s.URL)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = hc.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 30*time.Second)

	require.Eventually(t, func() bool { return s.inFlight.Load() == 0 }, 10*time.Second, 5*time.Millisecond,
		"the hung handler returns when its client goes away, long before the minute is up")
	assert.Equal(t, int64(1), s.counts()[hang])
}

func TestFlaky_describe(t *testing.T) {
	assert.Equal(t, fmt.Sprintf("75%% fast, 8%% slow (200ms-500ms), 3%% hang (5s), 9%% 503, 5%% 429 (Retry-After: 1); "+
		"outage (every request 503) from 1.5s to 3.5s into each phase"), demoFlaky.describe())
}
