package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/monitor"
)

func ExampleMonitor() {
	m := monitor.NewMetrics(monitor.Name("inventory"), monitor.Logger(slog.New(slog.DiscardHandler)))

	found := func(ctx context.Context) (int, error) { return 42, nil }
	missing := func(ctx context.Context) (int, error) { return 0, errors.New("no such item") }
	slow := func(ctx context.Context) (int, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		<-ctx.Done() // the dependency is too slow: a timeout inside the call
		return 0, ctx.Err()
	}

	// Any number of pipelines can record into one Metrics.
	ctx := context.Background()
	for _, fn := range []resilience.Func[int]{found, found, missing, slow} {
		_, _ = monitor.Monitor[int](m)(fn)(ctx)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = monitor.Monitor[int](m)(slow)(canceled) // the caller gave up: not the dependency's fault

	s := m.Snapshot()
	fmt.Println("total:", s.Total)
	fmt.Println("successes:", s.Successes, "failures:", s.Failures, "timeouts:", s.Timeouts, "canceled:", s.Canceled)
	fmt.Printf("timeout rate: %.2f\n", s.TimeoutRate)
	// Output:
	// total: 5
	// successes: 2 failures: 1 timeouts: 1 canceled: 1
	// timeout rate: 0.25
}

func ExampleMetrics_Snapshot() {
	var m monitor.Metrics // the zero value is ready to record
	m.Record(1*time.Millisecond, resilience.OutcomeSuccess)
	m.Record(2*time.Millisecond, resilience.OutcomeSuccess)
	m.Record(6*time.Millisecond, resilience.OutcomeFailure)

	s := m.Snapshot()
	fmt.Println("mean:", s.Mean) // exact: (1+2+6)/3
	fmt.Println("max:", s.Max)
	fmt.Println(s)
	// Output:
	// mean: 3ms
	// max: 6ms
	// total=3 ok=2 failed=1 timeouts=0 canceled=0 abandoned=0 mean=3ms p50=1.999ms p90=5.951ms p99=6ms max=6ms timeout_rate=0.0%
}

func ExampleAlert() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	m := monitor.NewMetrics(
		monitor.Name("checkout"),
		monitor.Logger(logger),
		monitor.Alert(monitor.AlertRule{
			Window:    5 * time.Second, // evaluated every 500ms
			MinCalls:  10,
			Threshold: 0.5,
			OnAlert: func(ev monitor.AlertEvent) {
				fmt.Printf("page the on-call: firing=%v rate=%.2f calls=%d\n", ev.Firing, ev.Rate, ev.Calls)
			},
		}),
	)

	// A storm of timeouts: logged once (rate-limited), and the rule fires
	// at the next tick.
	for range 20 {
		m.Record(2*time.Second, resilience.OutcomeTimeout)
	}
	time.Sleep(time.Second)
	m.Snapshot()

	// The dependency recovers: the rule resolves at the next tick.
	for range 100 {
		m.Record(10*time.Millisecond, resilience.OutcomeSuccess)
	}
	time.Sleep(time.Second)
	m.Snapshot()
	// Output:
	// level=WARN msg="monitor: call timed out" name=checkout outcome=timeout duration=2s suppressed=0
	// level=WARN msg="monitor: timeout rate alert firing" name=checkout rate=1 calls=20 timeouts=20 window=5s threshold=0.5
	// page the on-call: firing=true rate=1.00 calls=20
	// level=INFO msg="monitor: timeout rate alert resolved" name=checkout rate=0.16666666666666666 calls=120 timeouts=20 window=5s threshold=0.5
	// page the on-call: firing=false rate=0.17 calls=120
}
