package timeout_test

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"math"
	"time"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/retry"
	"github.com/steadyhq/steady/resilience/timeout"
)

func ExampleWithTimeout() {
	// slow respects its context, as net/http and database/sql do.
	slow := func(ctx context.Context) (string, error) {
		select {
		case <-time.After(time.Hour):
			return "too late", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	// Build once, call many times.
	call := timeout.WithTimeout[string](20 * time.Millisecond)(slow)

	_, err := call(context.Background())
	fmt.Println(err)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	var te *timeout.Error
	if errors.As(err, &te) {
		fmt.Println("limit:", te.Duration)
	}

	// The caller's own cancellation is not a timeout and passes through.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = call(ctx)
	fmt.Println(errors.Is(err, context.Canceled), errors.As(err, &te))
	// Output:
	// timeout after 20ms: context deadline exceeded
	// true
	// limit: 20ms
	// true false
}

func ExampleWithDeadline() {
	called := false
	fetch := func(ctx context.Context) (int, error) {
		called = true
		return 42, nil
	}

	// A deadline in the future bounds every call.
	v, err := timeout.WithDeadline[int](time.Now().Add(time.Minute))(fetch)(context.Background())
	fmt.Println(v, err)

	// A deadline already past fails at once, without calling fetch. The
	// call was refused, not tried: the error says so to a breaker or
	// monitor outside, and tells retry that trying again cannot help.
	called = false
	_, err = timeout.WithDeadline[int](time.Now().Add(-time.Second))(fetch)(context.Background())
	fmt.Println(errors.Is(err, context.DeadlineExceeded), called)
	var te *timeout.Error
	if errors.As(err, &te) {
		fmt.Println("rejected:", te.Rejected(), "retryable:", te.Retryable())
	}
	// Output:
	// 42 <nil>
	// true false
	// rejected: true retryable: false
}

func ExampleAbandon() {
	// legacy ignores its context: it returns only when released.
	release := make(chan struct{})
	legacy := func(context.Context) (string, error) {
		<-release
		return "done", nil
	}

	running := new(expvar.Int) // any Gauge: e.g. monitor's Metrics.Abandoned()
	call := timeout.WithTimeout[string](20*time.Millisecond,
		timeout.Abandon(), timeout.Track(running))(legacy)

	_, err := call(context.Background())
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	fmt.Println("still running:", running.Value(), timeout.Abandoned())

	// The abandoned work ends later; the gauges go back down.
	close(release)
	for running.Value() != 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("still running:", running.Value(), timeout.Abandoned())
	// Output:
	// true
	// still running: 1 1
	// still running: 0 0
}

func Example_perAttempt() {
	// A timeout composes with other policies; put it innermost so that it
	// bounds each attempt rather than the whole call.
	attempts := 0
	flaky := func(ctx context.Context) (string, error) {
		attempts++
		if attempts == 1 {
			<-ctx.Done() // the first attempt hangs
			return "", ctx.Err()
		}
		return "ok", nil
	}
	retryOnce := func(next resilience.Func[string]) resilience.Func[string] {
		return func(ctx context.Context) (string, error) {
			v, err := next(ctx)
			if resilience.Classify(ctx, err) == resilience.OutcomeTimeout {
				return next(ctx)
			}
			return v, err
		}
	}
	v, err := resilience.Do(context.Background(), flaky,
		retryOnce, timeout.WithTimeout[string](20*time.Millisecond))
	fmt.Println(v, err, attempts)
	// Output:
	// ok <nil> 2
}

func ExampleWithAdaptive() {
	// One Adaptive per dependency, shared by every call to it.
	a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{
		TargetRate: 0.01, // let about 1% of calls time out
		Min:        50 * time.Millisecond,
		Max:        2 * time.Second, // the limit until it has data, and the ceiling
		Warmup:     100,             // calls at Max before the first estimate
	})
	if err != nil {
		panic(err)
	}
	lookup := func(ctx context.Context) (string, error) { return "ok", nil }
	call := resilience.Compose(
		retry.Retry[string](retry.DefaultConfig()), // retried attempts do not teach it
		timeout.WithAdaptive[string](a),
	)(lookup)

	fmt.Println("before:", a.Current())
	for range 100 {
		if _, err := call(context.Background()); err != nil {
			panic(err)
		}
	}
	s := a.Snapshot()
	// lookup answers in far less than Min, so the limit is Min.
	fmt.Println("after:", s.Limit, "warming up:", s.WarmingUp)
	fmt.Printf("%d calls, %d timed out\n", s.Calls, s.Timeouts)
	// Output:
	// before: 2s
	// after: 50ms warming up: false
	// 100 calls, 0 timed out
}

func ExampleAdaptive_Snapshot() {
	a, err := timeout.NewAdaptive(timeout.AdaptiveConfig{Max: 30 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	hang := func(ctx context.Context) (int, error) {
		<-ctx.Done() // a dependency that never answers
		return 0, ctx.Err()
	}
	_, err = timeout.WithAdaptive[int](a)(hang)(context.Background())
	fmt.Println(err)
	var te *timeout.Error
	fmt.Println(errors.As(err, &te), te.Duration)
	s := a.Snapshot()
	fmt.Printf("limit %v, %d call, %d timeout, rate %.0f%%\n", s.Limit, s.Calls, s.Timeouts, 100*s.Rate)
	// Output:
	// timeout after 30ms: context deadline exceeded
	// true 30ms
	// limit 30ms, 1 call, 1 timeout, rate 100%
}

type sizeKey struct{}

func ExampleWithPredicted() {
	p, err := timeout.NewPredictor(timeout.PredictorConfig{
		TargetRate: 0.001,
		Max:        2 * time.Second,
		Features:   1, // ln(payload size)
	})
	if err != nil {
		panic(err)
	}
	// The features come from the call's context, here its payload size.
	features := func(ctx context.Context) []float64 {
		size, _ := ctx.Value(sizeKey{}).(int)
		return []float64{math.Log(float64(max(size, 1)))}
	}
	upload := func(ctx context.Context) (string, error) { return "stored", nil }
	call := timeout.WithPredicted[string](p, features)(upload)

	ctx := context.WithValue(context.Background(), sizeKey{}, 64<<10)
	v, err := call(ctx)
	fmt.Println(v, err)
	// Until the fallback has warmed up and the model has shown shorter
	// limits, every call gets the fallback's limit: Max at first.
	fmt.Println(p.Predict([]float64{math.Log(64 << 10)}))
	s := p.Snapshot()
	fmt.Println("predicting:", s.Predicting, "weights:", len(s.Weights))

	// Features of the wrong shape fail the call without running it.
	_, err = timeout.WithPredicted[string](p, func(context.Context) []float64 { return nil })(upload)(ctx)
	fmt.Println(err)
	// Output:
	// stored <nil>
	// 2s
	// predicting: false weights: 1
	// timeout: WithPredicted(features) result is a slice of 0, want 1 finite numbers
}
