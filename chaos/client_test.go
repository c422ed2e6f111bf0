package chaos_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/steadyhq/steady/chaos"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

// counted returns a Func that counts its calls and answers "ok".
func counted(calls *atomic.Int64) resilience.Func[string] {
	return func(ctx context.Context) (string, error) {
		calls.Add(1)
		return "ok", nil
	}
}

func TestInject_statusIsARetryableError(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Status(503)}})
	var calls atomic.Int64
	_, err := chaos.Inject[string](in)(counted(&calls))(t.Context())
	var e *chaos.Error
	if !errors.As(err, &e) || e.Kind != chaos.KindStatus || e.Status != 503 {
		t.Fatalf("err = %v, want a *chaos.Error for 503", err)
	}
	if err.Error() != "chaos: injected 503 Service Unavailable" {
		t.Errorf("Error() = %q", err.Error())
	}
	if calls.Load() != 0 {
		t.Error("the function was called although the fault answered in its place")
	}
	if !resilience.Walk(err, func(e error) bool { r, ok := e.(resilience.RetryableError); return ok && r.Retryable() }) {
		t.Error("an injected 503 is not retryable")
	}
}

func TestInject_throttleCarriesRetryAfter(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Throttle(1500 * time.Millisecond)}})
	_, err := chaos.Inject[string](in)(counted(new(atomic.Int64)))(t.Context())
	var ra resilience.RetryAfterError
	if !errors.As(err, &ra) || ra.RetryAfter() != 2*time.Second {
		t.Errorf("err = %v, want a RetryAfter of 2s (whole seconds, rounded up)", err)
	}
}

func TestInject_notRetryable4xx(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Status(404)}})
	_, err := chaos.Inject[string](in)(counted(new(atomic.Int64)))(t.Context())
	var e *chaos.Error
	if !errors.As(err, &e) || e.Retryable() {
		t.Errorf("err = %v: a 404 must not be retryable", err)
	}
}

func TestInject_resetLooksLikeAReset(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Reset()}})
	_, err := chaos.Inject[string](in)(counted(new(atomic.Int64)))(t.Context())
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("err = %v, want one that errors.Is syscall.ECONNRESET", err)
	}
}

func TestInject_latencyAndItsDistribution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := newInjector(t, chaos.Config{Seed: 11, Faults: []chaos.Fault{chaos.Latency(chaos.Uniform(10*time.Millisecond, 20*time.Millisecond))}})
		f := chaos.Inject[string](in)(counted(new(atomic.Int64)))
		var sum time.Duration
		for range 1000 {
			start := time.Now()
			if _, err := f(t.Context()); err != nil {
				t.Fatal(err)
			}
			d := time.Since(start)
			if d < 10*time.Millisecond || d > 20*time.Millisecond {
				t.Fatalf("a call took %v, want within [10ms, 20ms]", d)
			}
			sum += d
		}
		if mean := sum / 1000; mean < 14*time.Millisecond || mean > 16*time.Millisecond {
			t.Errorf("mean latency %v, want about 15ms", mean)
		}
	})
}

func TestInject_logNormal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := newInjector(t, chaos.Config{Seed: 12, Faults: []chaos.Fault{chaos.Latency(chaos.LogNormal(20*time.Millisecond, 0.6))}})
		f := chaos.Inject[string](in)(counted(new(atomic.Int64)))
		const n = 4000
		var below, tail int
		for range n {
			start := time.Now()
			_, _ = f(t.Context())
			d := time.Since(start)
			if d < 20*time.Millisecond {
				below++
			}
			if d > 80*time.Millisecond { // e^(0.6·2.326) ≈ 4.04: about 1% above 4× the median
				tail++
			}
		}
		if below < n*45/100 || below > n*55/100 {
			t.Errorf("%d of %d below the median, want about half", below, n)
		}
		if tail < n/200 || tail > n*2/100 {
			t.Errorf("%d of %d above 4× the median, want about 1%%", tail, n)
		}
	})
}

func TestInject_stragglersAndLatencyStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := newInjector(t, chaos.Config{Seed: 13, Faults: []chaos.Fault{
			chaos.Latency(chaos.Fixed(10 * time.Millisecond)),
			chaos.Stragglers(0.05, 400*time.Millisecond),
			chaos.LatencyStep(time.Hour, 4),
		}})
		f := chaos.Inject[string](in)(counted(new(atomic.Int64)))
		slow := 0
		for range 2000 {
			start := time.Now()
			_, _ = f(t.Context())
			switch d := time.Since(start); d {
			case 10 * time.Millisecond:
			case 410 * time.Millisecond:
				slow++
			default:
				t.Fatalf("a call took %v before the step, want 10ms or 410ms", d)
			}
		}
		if slow < 60 || slow > 140 {
			t.Errorf("%d stragglers in 2000 calls, want about 100 (5%%)", slow)
		}
		time.Sleep(time.Hour) // past the step
		start := time.Now()
		for time.Since(start) < 10*time.Second {
			s := time.Now()
			_, _ = f(t.Context())
			if d := time.Since(s); d != 40*time.Millisecond && d != 1640*time.Millisecond {
				t.Fatalf("a call took %v after the ×4 step, want 40ms or 1.64s", d)
			}
		}
		if st := in.Snapshot(); st.Faults[2].Injected == 0 {
			t.Error("the latency step is not counted")
		}
	})
}

func TestInject_hangHonoursTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Hang(time.Hour)}})
		f := resilience.Compose(timeout.WithTimeout[string](50*time.Millisecond), chaos.Inject[string](in))(counted(new(atomic.Int64)))
		start := time.Now()
		_, err := f(t.Context())
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 50*time.Millisecond {
			t.Errorf("err = %v after %v, want the 50ms timeout", err, time.Since(start))
		}
	})
}

func TestInject_hangIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Hang(time.Second)}})
		start := time.Now()
		_, err := chaos.Inject[string](in)(counted(new(atomic.Int64)))(t.Context())
		var e *chaos.Error
		if !errors.As(err, &e) || e.Kind != chaos.KindHang || time.Since(start) != time.Second {
			t.Errorf("err = %v after %v, want a released hang after 1s", err, time.Since(start))
		}
	})
}

func TestInject_latencyEndsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Latency(chaos.Fixed(time.Hour))}})
		var calls atomic.Int64
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := chaos.Inject[string](in)(counted(&calls))(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || calls.Load() != 0 {
			t.Errorf("err = %v, calls = %d; want the deadline and no call", err, calls.Load())
		}
	})
}

func TestInject_overload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Overload(2, 2)}})
		work := func(ctx context.Context) (string, error) {
			time.Sleep(100 * time.Millisecond)
			return "ok", nil
		}
		f := chaos.Inject[string](in)(work)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var refused int
		var latest time.Duration
		start := time.Now()
		for range 6 {
			wg.Go(func() {
				_, err := f(t.Context())
				mu.Lock()
				defer mu.Unlock()
				var e *chaos.Error
				switch {
				case errors.As(err, &e) && e.Kind == chaos.KindOverload:
					refused++
					if time.Since(start) != 0 {
						t.Errorf("refused after %v, want at once", time.Since(start))
					}
				case err != nil:
					t.Errorf("err = %v", err)
				default:
					latest = max(latest, time.Since(start))
				}
			})
		}
		wg.Wait()
		// Two served at once, two queued behind them, two refused.
		if refused != 2 || latest != 200*time.Millisecond {
			t.Errorf("refused %d, last served at %v; want 2 and 200ms (queued behind a worker)", refused, latest)
		}
		if got := in.Snapshot().Injected(chaos.KindOverload); got != 2 {
			t.Errorf("overload refusals counted = %d, want 2", got)
		}
	})
}

func TestInject_retryRidesOutTransientFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := newInjector(t, chaos.Config{Seed: 21, Faults: []chaos.Fault{chaos.Status(503).Rate(0.3)}})
		var calls atomic.Int64
		f := resilience.Compose(
			retry.Retry[string](retry.Config{MaxAttempts: 6, BaseDelay: time.Millisecond}),
			chaos.Inject[string](in),
		)(counted(&calls))
		failed := 0
		for range 500 {
			if _, err := f(t.Context()); err != nil {
				failed++
			}
		}
		// 0.3^6 = 0.07%: at most a couple of the 500 may fail.
		if failed > 3 {
			t.Errorf("%d of 500 failed with 6 attempts against 30%% errors", failed)
		}
		s := in.Snapshot()
		if s.Requests != calls.Load()+s.Injected(chaos.KindStatus) {
			t.Errorf("%d attempts seen = %d calls + %d injected errors?", s.Requests, calls.Load(), s.Injected(chaos.KindStatus))
		}
	})
}

func TestInject_bodyFaultsDoNotApply(t *testing.T) {
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Truncate(), chaos.SlowBody(1, time.Hour)}})
	v, err := chaos.Inject[string](in)(counted(new(atomic.Int64)))(t.Context())
	if v != "ok" || err != nil {
		t.Fatalf("= %q, %v", v, err)
	}
	if s := in.Snapshot(); s.Clean != 1 || s.Injected(chaos.KindTruncate) != 0 {
		t.Errorf("Snapshot = %+v: body faults must not count for a function", s)
	}
}

func TestInject_nilArguments(t *testing.T) {
	in := newInjector(t, chaos.Config{})
	// a nil context is the bad input under test
	_, err := chaos.Inject[string](in)(counted(new(atomic.Int64)))(nil)
	if !errors.Is(err, resilience.ErrNilContext) {
		t.Errorf("nil ctx: err = %v, want ErrNilContext", err)
	}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("Inject(nil) did not panic at build time")
			}
		}()
		chaos.Inject[string](nil)
	}()
}

// upstream is a real server that counts its requests and answers okBody.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		ok.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// transportClient returns a client whose requests meet in's faults.
func transportClient(t *testing.T, in *chaos.Injector) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: in.Transport(tr)}
}

func TestTransport_statusIsMadeUpWithoutSending(t *testing.T) {
	srv, n := upstream(t)
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Throttle(time.Second)}})
	c := transportClient(t, in)
	status, body, hdr, err := get(c, srv.URL)
	if err != nil || status != 429 || hdr.Get("Retry-After") != "1" || len(body) == 0 {
		t.Fatalf("GET = %d %q %v (Retry-After %q), want a made-up 429 with Retry-After: 1", status, body, err, hdr.Get("Retry-After"))
	}
	if n.Load() != 0 {
		t.Errorf("the server got %d requests, want none", n.Load())
	}
}

func TestTransport_resetAndHang(t *testing.T) {
	srv, n := upstream(t)
	in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Reset()}})
	_, _, _, err := get(transportClient(t, in), srv.URL)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("reset: err = %v, want ECONNRESET", err)
	}
	in = newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Hang(time.Hour)}})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := transportClient(t, in).Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: err = %v, want the request's deadline", err)
	}
	if n.Load() != 0 {
		t.Errorf("the server got %d requests, want none", n.Load())
	}
}

func TestTransport_bodyFaults(t *testing.T) {
	srv, _ := upstream(t)
	t.Run("truncate", func(t *testing.T) {
		in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Truncate()}})
		_, body, _, err := get(transportClient(t, in), srv.URL)
		if !errors.Is(err, io.ErrUnexpectedEOF) || string(body) != okBody[:len(okBody)/2] {
			t.Errorf("body %q, err %v; want its first half and io.ErrUnexpectedEOF", body, err)
		}
	})
	t.Run("oversize", func(t *testing.T) {
		in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.Oversize(100 << 10)}})
		_, body, _, err := get(transportClient(t, in), srv.URL)
		if err != nil || len(body) != 100<<10 {
			t.Errorf("read %d bytes, err %v; want 100 KiB", len(body), err)
		}
	})
	t.Run("slow", func(t *testing.T) {
		in := newInjector(t, chaos.Config{Faults: []chaos.Fault{chaos.SlowBody(10, 20*time.Millisecond)}})
		start := time.Now()
		_, body, _, err := get(transportClient(t, in), srv.URL)
		if err != nil || string(body) != okBody {
			t.Fatalf("body %q, err %v", body, err)
		}
		if d := time.Since(start); d < 80*time.Millisecond { // 45 bytes: 5 reads, 4 pauses
			t.Errorf("read in %v, want >= 4 pauses of 20ms", d)
		}
	})
}
