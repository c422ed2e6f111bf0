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
	"github.com/steadyhq/steady/resilience/timeout"
)

func ExampleMonitor() {
	m, err := monitor.NewMetrics(monitor.Config{Name: "inventory"})
	if err != nil {
		panic(err)
	}

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
	m.Record(0, resilience.OutcomeRejected) // say an open breaker refused it: counted, no duration

	s := m.Snapshot()
	fmt.Println("mean:", s.Mean) // exact: (1+2+6)/3, the rejected call left out
	fmt.Println("max:", s.Max)
	fmt.Println(s)
	// Output:
	// mean: 3ms
	// max: 6ms
	// total=4 ok=2 failed=1 timeouts=0 canceled=0 rejected=1 abandoned=0 mean=3ms p50=1.999ms p90=5.951ms p99=6ms max=6ms timeout_rate=0.0%
}

func ExampleMetrics_Abandoned() {
	m := new(monitor.Metrics)

	// lookup ignores its context, so only abandon mode returns on time; the
	// timeout policy counts the work it leaves running in m's gauge.
	release := make(chan struct{})
	lookup := func(context.Context) (string, error) {
		<-release
		return "found", nil
	}
	call := resilience.Compose(
		monitor.Monitor[string](m),
		timeout.WithTimeout[string](10*time.Millisecond, timeout.Abandon(), timeout.Track(m.Abandoned())),
	)(lookup)

	_, err := call(context.Background())
	fmt.Println("timed out:", resilience.IsTimeout(err))
	s := m.Snapshot()
	fmt.Println("timeouts:", s.Timeouts, "abandoned:", s.Abandoned)

	close(release) // the lookup returns at last, in its own goroutine
	for i := 0; m.Snapshot().Abandoned > 0; i++ {
		if i == 1000 {
			fmt.Println("still abandoned after 10s")
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("abandoned:", m.Snapshot().Abandoned)
	// Output:
	// timed out: true
	// timeouts: 1 abandoned: 1
	// abandoned: 0
}

func ExampleNewMetrics() {
	// A Config read from configuration may be wrong: NewMetrics says where.
	threshold := 20.0 // a percentage where a fraction is wanted
	_, err := monitor.NewMetrics(monitor.Config{
		Name:   "payments",
		Alerts: []monitor.AlertRule{{Threshold: threshold}},
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, resilience.ErrInvalidConfig))

	m, err := monitor.NewMetrics(monitor.Config{
		Name:   "payments",
		Alerts: []monitor.AlertRule{{Threshold: threshold / 100}},
	})
	if err != nil {
		panic(err)
	}
	m.Record(time.Millisecond, resilience.OutcomeSuccess)
	fmt.Println("calls:", m.Snapshot().Total)
	// Output:
	// monitor: Config.Alerts[0].Threshold is 20, want > 0 and < 1
	// true
	// calls: 1
}

func ExampleAlertRule() {
	const window = 100 * time.Millisecond // the rule looks every window/10 = 10ms
	firing := false
	m, err := monitor.NewMetrics(monitor.Config{
		Name: "checkout",
		Alerts: []monitor.AlertRule{{
			Window:    window,
			MinCalls:  20,
			Threshold: 0.5,
			OnAlert: func(ev monitor.AlertEvent) {
				firing = ev.Firing
				fmt.Printf("page the on-call: firing=%v rate=%.2f calls=%d timeouts=%d\n",
					ev.Firing, ev.Rate, ev.Calls, ev.Timeouts)
			},
		}},
	})
	if err != nil {
		panic(err)
	}

	// burst records 20 calls, the first timeouts of them timing out, and
	// reads the Metrics one tick later, when the rule has weighed them.
	// A window of fewer than MinCalls calls decides nothing, so if a
	// loaded machine let part of a burst age out of the window first,
	// nothing happens; then wait for the window to empty, and try again.
	burst := func(timeouts int) {
		for i := range 20 {
			if i < timeouts {
				m.Record(2*time.Second, resilience.OutcomeTimeout)
			} else {
				m.Record(10*time.Millisecond, resilience.OutcomeSuccess)
			}
		}
		time.Sleep(window / 10)
		m.Snapshot()
		time.Sleep(window) // the burst leaves the window
	}

	// A few tries are plenty however loaded the machine; should the rule
	// never decide, say so rather than wait for ever.
	const tries = 10
	for i := 0; !firing; i++ {
		if i == tries {
			fmt.Println("no firing after", tries, "storms")
			return
		}
		burst(15) // a storm of timeouts: the rule fires
	}
	m.Snapshot() // the window is empty now: too few calls to resolve
	fmt.Println("still firing:", firing)
	for i := 0; firing; i++ {
		if i == tries {
			fmt.Println("not resolved after", tries, "calm bursts")
			return
		}
		burst(1) // the dependency recovered: the rule resolves
	}
	// Output:
	// page the on-call: firing=true rate=0.75 calls=20 timeouts=15
	// still firing: true
	// page the on-call: firing=false rate=0.05 calls=20 timeouts=1
}

func Example_logging() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	m, err := monitor.NewMetrics(monitor.Config{Name: "checkout", Logger: logger})
	if err != nil {
		panic(err)
	}

	// A timeout is logged, at most one line a second (suppressed says how
	// many were left out since the line before); other outcomes are not.
	m.Record(2*time.Second, resilience.OutcomeTimeout)
	m.Record(10*time.Millisecond, resilience.OutcomeSuccess)
	m.Record(0, resilience.OutcomeRejected)
	// Output:
	// level=WARN msg="monitor: call timed out" name=checkout outcome=timeout duration=2s suppressed=0
}
