package dashboard

import "github.com/steadyhq/steady/resilience/monitor"

// TEMPORARY until monitor's Histogram, Alerts and timeout split land on
// main: cumulative percentiles, no alerts, no split.

type histogram struct{}

func readHistogram(m *monitor.Metrics, h *histogram) {}

// between returns the p50 and p99 of the calls between readings a and b.
func (h *histogram) between(a, b *histogram, t *monitor.Stats) (p50, p99 *float64) {
	if t.Total == 0 {
		return nil, nil
	}
	return ptr(t.P50.Seconds()), ptr(t.P99.Seconds())
}

func firingAlerts(m *monitor.Metrics, to []Alert) []Alert { return to }

func timeoutsBetween(s, t *monitor.Stats) *Timeouts {
	return &Timeouts{Total: t.Timeouts - s.Timeouts}
}
