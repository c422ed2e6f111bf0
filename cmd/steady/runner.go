package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/steadyhq/steady/httpx"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

// load is the traffic a phase sends: requests in all, at most concurrency
// at a time, request i not sent before i*interval from the phase start,
// each with deadline to complete.
type load struct {
	requests    int
	concurrency int
	interval    time.Duration // 0: as fast as concurrency allows
	deadline    time.Duration // each call's deadline from when it is sent; 0: none
}

// call is what one request of a phase did.
type call struct {
	// due is when the call was due, from the start of the phase: i×interval
	// for request i, or when it was sent when the load has no interval. A
	// call is sent later than due when every worker is busy; its deadline
	// and its latency count from due, as for a caller who wanted the answer
	// from then.
	due      time.Duration
	start    time.Duration // when it was sent, from the start of the phase
	latency  time.Duration // how long the caller waited for it, from due
	attempts int           // tries: the first attempt and its retries, hedges not counted; 0 if none was sent
	err      error         // nil on success
}

// caller makes one request and reports how many tries it took.
type caller func(ctx context.Context) (attempts int, err error)

// tally counts a phase's calls as they end, for the progress line.
type tally struct {
	done, ok, inFlight atomic.Int64
}

// runPhase sends l.requests requests through do, each under a context of
// its own that ends l.deadline after the call was due, and returns what each
// did, in request order, with the phase's wall time. It stops early, with
// ctx.Err(), when ctx is done.
func runPhase(ctx context.Context, l load, do caller, t *tally) ([]call, time.Duration, error) {
	calls := make([]call, l.requests)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(l.concurrency, l.requests) {
		wg.Go(func() {
			var timer *time.Timer // one per worker, made on first wait
			defer func() {
				if timer != nil {
					timer.Stop()
				}
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= l.requests || ctx.Err() != nil {
					return
				}
				due := time.Duration(i) * l.interval
				if due > 0 {
					if wait := due - time.Since(start); wait > 0 {
						if timer == nil {
							timer = time.NewTimer(wait)
						} else {
							timer.Reset(wait) // Go 1.23+: no stale value to drain
						}
						select {
						case <-timer.C:
						case <-ctx.Done():
							return
						}
					}
				}
				t.inFlight.Add(1)
				sent := time.Now()
				dueAt := start.Add(due)
				if l.interval == 0 || sent.Before(dueAt) {
					dueAt = sent
				}
				cctx, cancel := ctx, context.CancelFunc(func() {})
				if l.deadline > 0 {
					cctx, cancel = context.WithDeadline(ctx, dueAt.Add(l.deadline))
				}
				attempts, err := do(cctx)
				cancel()
				c := &calls[i]
				c.due, c.start, c.latency, c.attempts, c.err = dueAt.Sub(start), sent.Sub(start), time.Since(dueAt), attempts, err
				t.inFlight.Add(-1)
				if err == nil {
					t.ok.Add(1)
				}
				t.done.Add(1)
			}
		})
	}
	wg.Wait()
	return calls, time.Since(start), ctx.Err()
}

// plainCaller returns a caller that GETs url with hc and nothing else: no
// timeout, no retry, no breaker. It reads the whole body, as httpx does,
// and fails on a non-2xx status with an *httpx.StatusError, as httpx does,
// whose URL is displayURL(url).
func plainCaller(hc *http.Client, url string) caller {
	shown := displayURL(url)
	return func(ctx context.Context) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 1, err
		}
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, httpx.DefaultMaxBodySize))
		_ = resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return 1, &httpx.StatusError{Method: http.MethodGet, URL: shown, StatusCode: resp.StatusCode}
		}
		return 1, err
	}
}

// steadyCaller returns a caller that GETs url through c, whose transport
// must be a countingTransport, and reports how many tries the call took:
// the first attempt and its retries, not the hedges that ran alongside an
// attempt (see tries).
func steadyCaller(c *httpx.Client, url string) caller {
	return func(ctx context.Context) (int, error) {
		t := &tries{}
		_, err := c.Get(context.WithValue(ctx, triesKey{}, t), url)
		return t.count(), err
	}
}

// tries counts the tries of one call, as its requests pass the transport:
// a request sent while none of the call's is in flight starts a try (the
// first attempt or a retry, which comes after the one before has ended); one
// sent while another is in flight is a hedge of it. It is safe for
// concurrent use.
type tries struct {
	mu       sync.Mutex
	inFlight int
	n        int
}

type triesKey struct{}

func (t *tries) begin() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inFlight == 0 {
		t.n++
	}
	t.inFlight++
}

func (t *tries) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight--
}

func (t *tries) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// countingTransport counts the requests it sends: the upstream load; and
// the tries of the calls whose context carries a *tries.
type countingTransport struct {
	next *http.Transport
	n    atomic.Int64
}

// RoundTrip counts req and sends it.
func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.n.Add(1)
	if tr, ok := req.Context().Value(triesKey{}).(*tries); ok {
		tr.begin()
		defer tr.end()
	}
	return t.next.RoundTrip(req)
}

// newTransport returns the transport both phases use, each its own: the
// standard library's defaults, with enough idle connections per host for
// the concurrency so that no phase pays for reconnecting.
func newTransport(concurrency int) *countingTransport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = concurrency
	return &countingTransport{next: tr}
}

// closeIdle closes the idle connections of t.
func (t *countingTransport) closeIdle() {
	t.next.CloseIdleConnections()
}

// outcomeOf is how a call that returned err ended, as the report counts
// it: resilience.Classify with a live context, since only phases that ran
// to their end are reported, so the caller's context was live for every
// call.
func outcomeOf(err error) resilience.Outcome { return resilience.Classify(context.Background(), err) }

// cause names what a failed call died of, briefly and without anything
// from the URL: "HTTP 503", "timeout", "connection refused".
func cause(err error) string {
	switch outcomeOf(err) {
	case resilience.OutcomeSuccess:
		return ""
	case resilience.OutcomeRejected:
		if errors.Is(err, breaker.ErrOpen) {
			return "circuit open"
		}
		return "rejected"
	case resilience.OutcomeTimeout:
		return "timeout"
	}
	var se *httpx.StatusError
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &se):
		return "HTTP " + strconv.Itoa(se.StatusCode)
	case errors.Is(err, httpx.ErrBodyTooLarge):
		return "body too large"
	case errors.As(err, &dns):
		return "DNS error"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "network error"
	}
	return "error"
}
