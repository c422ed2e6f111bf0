package prometheus_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	steadyprom "github.com/steadyhq/steady/contrib/prometheus"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
)

// Example serves steady's metrics with promhttp, then scrapes them as
// Prometheus would.
func Example() {
	m, _ := monitor.NewMetrics(monitor.Config{Name: "payments"})
	cb, _ := breaker.New(breaker.Settings{Name: "payments", ConsecutiveFailures: 2})

	c := steadyprom.New()
	c.AddMetrics("payments", m)
	c.AddBreaker("payments", cb)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	// One call succeeds, two fail and open the breaker, one is rejected.
	errs := []error{nil, errors.New("boom"), errors.New("boom"), nil}
	charge := resilience.Compose(
		monitor.Monitor[string](m),
		breaker.Breaker[string](cb),
	)(func(ctx context.Context) (string, error) {
		err := errs[0]
		errs = errs[1:]
		return "ok", err
	})
	for range 4 {
		charge(context.Background())
	}

	resp, err := http.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "steady_calls_total") ||
			strings.HasPrefix(line, "steady_circuit_state") {
			fmt.Println(line)
		}
	}
	// Output:
	// steady_calls_total{name="payments",outcome="canceled"} 0
	// steady_calls_total{name="payments",outcome="failure"} 2
	// steady_calls_total{name="payments",outcome="rejected"} 1
	// steady_calls_total{name="payments",outcome="success"} 1
	// steady_calls_total{name="payments",outcome="timeout"} 0
	// steady_circuit_state{name="payments",state="closed"} 0
	// steady_circuit_state{name="payments",state="half-open"} 0
	// steady_circuit_state{name="payments",state="open"} 1
}
