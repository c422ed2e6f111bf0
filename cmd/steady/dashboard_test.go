package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/internal/testlog"
)

// TestRun_dashboard runs the demo with -dashboard: the dashboard shows a
// card per phase, the steady one with the host's breaker and hedger, and
// stays up after the report until the context ends.
func TestRun_dashboard(t *testing.T) {
	cfg := quickFlaky
	cfg.OutageStart, cfg.OutageLen = 100*time.Millisecond, 300*time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr testlog.Buffer
	code := make(chan int, 1)
	go func() {
		code <- runContext(ctx, []string{"-dashboard", "127.0.0.1:0", "-requests", "40", "-concurrency", "5", "-rate", "100", "-timeout", "300ms"},
			&stdout, &stderr, cfg)
	}()

	var base string
	re := regexp.MustCompile(`steady: live dashboard at (http://127\.0\.0\.1:\d+/)\n`)
	require.Eventually(t, func() bool {
		m := re.FindStringSubmatch(stdout.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 30*time.Second, 10*time.Millisecond, "the URL is printed first")

	// The page answers while the demo runs, and after it.
	page := getBody(t, base)
	assert.Contains(t, page, `<main id="cards">`)
	require.Eventually(t, func() bool {
		return strings.Contains(stdout.String(), "the dashboard stays at "+base+" until interrupted")
	}, 60*time.Second, 20*time.Millisecond, "the report, then the dashboard stays")

	// The cards show the figures of the last tick: poll until it
	// has seen all the calls.
	var s dashboard.Snapshot
	require.Eventually(t, func() bool {
		s = dashboard.Snapshot{}
		require.NoError(t, json.Unmarshal([]byte(getBody(t, base+"snapshot.json")), &s))
		return len(s.Cards) == 2 && *s.Cards[0].Total == 40 && *s.Cards[1].Total == 40
	}, 30*time.Second, 50*time.Millisecond, "both phases' 40 calls on their cards")
	assert.Equal(t, "steady demo", s.Title)
	plain, st := s.Cards[0], s.Cards[1]
	assert.Equal(t, "no policy", plain.Name)
	assert.Nil(t, plain.Breaker)
	assert.Equal(t, "steady", st.Name)
	require.NotNil(t, st.Breaker, "the host's breaker")
	assert.NotNil(t, st.Hedge, "the host's hedger")
	assert.NotNil(t, st.Budget, "the host's budget")
	assert.NotNil(t, st.Limit, "the host's learned timeout")

	select {
	case c := <-code:
		t.Fatalf("returned %d before the interrupt; stderr:\n%s", c, stderr.String())
	case <-time.After(50 * time.Millisecond):
	}
	cancel() // Ctrl-C
	select {
	case c := <-code:
		assert.Equal(t, exitOK, c, "the demo ran to its end: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("still serving after the interrupt")
	}
	_, err := http.Get(base)
	assert.Error(t, err, "the server is down")
}

func TestRun_dashboardBadAddress(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitUsage, run([]string{"-dashboard", "8080"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "steady: -dashboard wants host:port, e.g. 127.0.0.1:8080")
	assert.Empty(t, stdout.String())

	// An address taken: the demo does not run.
	srv := startTestFlaky(t, quickFlaky)
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.URL, "http://"), "/")
	stdout.Reset()
	stderr.Reset()
	assert.Equal(t, exitError, runContext(t.Context(), []string{"-dashboard", addr}, &stdout, &stderr, quickFlaky))
	assert.Contains(t, stderr.String(), "steady: serving the dashboard: listen tcp "+addr)
	assert.Empty(t, stdout.String())
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return b.String()
}
