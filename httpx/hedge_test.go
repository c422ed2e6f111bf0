package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience/hedge"
)

// stuckFirst answers every request at once but the first, which it holds
// until the client gives up (or 10s), recording that it was canceled.
type stuckFirst struct {
	hits     atomic.Int64
	canceled atomic.Bool
	mu       sync.Mutex
	bodies   []string
}

func (s *stuckFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	if s.hits.Add(1) == 1 {
		select {
		case <-r.Context().Done():
			s.canceled.Store(true)
			return
		case <-time.After(10 * time.Second):
		}
	}
	_, _ = io.WriteString(w, "ok")
}

func TestClient_hedgeAnswersForAStuckAttempt(t *testing.T) {
	t.Parallel()
	s := &stuckFirst{}
	srv := httptestServer(t, s)
	c := httptestClient(t, httpx.Config{Timeout: 5 * time.Second, Hedge: &hedge.Config{Delay: 30 * time.Millisecond}})
	start := time.Now()
	resp, err := c.Get(t.Context(), srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(resp.Body))
	assert.Less(t, time.Since(start), 4*time.Second, "the hedge answered long before the stuck attempt would have")
	assert.Equal(t, 2, resp.Attempts)
	assert.Eventually(t, s.canceled.Load, 5*time.Second, 5*time.Millisecond, "the losing attempt's request was canceled")
	hs := c.Hedgers()
	require.Len(t, hs, 1)
	for _, h := range hs {
		st := h.Snapshot()
		assert.EqualValues(t, 1, st.Hedges)
		assert.EqualValues(t, 1, st.Wins)
	}
}

func TestClient_hedgeReplaysTheBodyOfIdempotentRequestsOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		method  string
		key     string
		hedged  bool
		attempt int
	}{
		{"PUT", http.MethodPut, "", true, 2},
		{"POST with an Idempotency-Key", http.MethodPost, "k1", true, 2},
		{"POST", http.MethodPost, "", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &stuckFirst{}
			srv := httptestServer(t, s)
			c := httptestClient(t, httpx.Config{Timeout: 500 * time.Millisecond, Hedge: &hedge.Config{Delay: 30 * time.Millisecond}})
			req, _ := http.NewRequest(tc.method, srv.URL, strings.NewReader("payload"))
			if tc.key != "" {
				req.Header.Set("Idempotency-Key", tc.key)
			}
			resp, err := c.Do(t.Context(), req)
			if !tc.hedged {
				require.Error(t, err, "a POST is not hedged: its one attempt times out")
				assert.EqualValues(t, 1, s.hits.Load())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.attempt, resp.Attempts)
			s.mu.Lock()
			defer s.mu.Unlock()
			assert.Equal(t, []string{"payload", "payload"}, s.bodies, "the hedge sent the body again")
		})
	}
}

// A Transport's winning hedge hands back a response whose body is still
// streaming: it must stay readable after the losing attempt is canceled and
// the hedge policy has returned, and the loser's body is closed.
func TestTransport_hedgeWinnerStreamsAndLoserIsClosed(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	loserCanceled := make(chan struct{})
	srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			<-r.Context().Done() // stuck until the client gives up
			close(loserCanceled)
			return
		}
		// Headers now, the body over 200ms, in pieces.
		w.WriteHeader(http.StatusOK)
		for i := range 5 {
			_, _ = io.WriteString(w, strings.Repeat(string(rune('a'+i)), 1000))
			w.(http.Flusher).Flush()
			time.Sleep(40 * time.Millisecond)
		}
	}))
	base := newCountingTransport(t)
	tr, err := httpx.NewTransport(base, httpx.Config{Timeout: 5 * time.Second, Hedge: &hedge.Config{Delay: 30 * time.Millisecond}})
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	require.NoError(t, err)
	select {
	case <-loserCanceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the losing attempt was not canceled")
	}
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the winner's body outlives the hedge")
	require.NoError(t, resp.Body.Close())
	assert.Len(t, body, 5000)
	for _, h := range tr.Hedgers() {
		assert.EqualValues(t, 1, h.Snapshot().Wins)
	}
	assert.Equal(t, base.opened.Load(), base.closed.Load(), "every response body that was opened was closed")
}

// A hedge that loses with a response (both attempts answer) is drained and
// closed, and the caller's cancellation still ends a winner's body.
func TestTransport_hedgeLoserResponseIsClosed(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			time.Sleep(150 * time.Millisecond) // slow, but answers
		}
		_, _ = io.WriteString(w, "ok")
	}))
	base := newCountingTransport(t)
	tr, err := httpx.NewTransport(base, httpx.Config{Hedge: &hedge.Config{Delay: 30 * time.Millisecond}})
	require.NoError(t, err)
	for range 5 {
		hits.Store(0)
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "ok", string(b))
	}
	assert.Eventually(t, func() bool { return base.opened.Load() == base.closed.Load() }, 5*time.Second, 5*time.Millisecond,
		"every response body that was opened is closed: %d opened, %d closed", base.opened.Load(), base.closed.Load())
}

func TestConfig_validatesHedge(t *testing.T) {
	err := httpx.Config{Hedge: &hedge.Config{MaxHedges: 9}}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hedge: Config.MaxHedges is 9")
}

func httptestServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
