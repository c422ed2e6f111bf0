package dashboard

import "github.com/steadyhq/steady/resilience/monitor"

// tickQuantiles sets h to the durations recorded between readings a and b
// and returns their p50 and p99 in seconds, nil when there are none.
func tickQuantiles(h, a, b *monitor.Histogram) (p50, p99 *float64) {
	*h = *b
	h.Sub(a)
	if h.Count() == 0 {
		return nil, nil
	}
	return ptr(h.Quantile(0.50).Seconds()), ptr(h.Quantile(0.99).Seconds())
}

// firingAlerts appends to to the alert rules of m that are firing now.
func firingAlerts(m *monitor.Metrics, to []Alert) []Alert {
	for _, ev := range m.Alerts() {
		if ev.Firing {
			to = append(to, Alert{Rate: finite(ev.Rate), Threshold: ev.Threshold,
				Window: ev.Window.Seconds(), Calls: ev.Calls, Timeouts: ev.Timeouts})
		}
	}
	return to
}

// timeoutsBetween returns the timeouts from Stats s to Stats t, by cause.
func timeoutsBetween(s, t *monitor.Stats) *Timeouts {
	return &Timeouts{
		Total:      t.Timeouts - s.Timeouts,
		Limit:      t.LimitTimeouts - s.LimitTimeouts,
		Deadline:   t.DeadlineTimeouts - s.DeadlineTimeouts,
		Propagated: t.PropagatedTimeouts - s.PropagatedTimeouts,
	}
}
