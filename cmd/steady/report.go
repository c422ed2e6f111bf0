package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// window is a span of a phase, as offsets from its start.
type window struct{ from, to time.Duration }

// summary is what the report says about one phase.
type summary struct {
	n, ok, failed, timeouts, rejected int
	recovered                         int // succeeded after at least one retry
	p50, p99, max                     time.Duration
	cause                             string // the most common cause of failure
	causeN                            int

	inOutage, okInOutage int // calls sent during the outage
	outageP50, outageMax time.Duration
	slowerThan           int // calls that took longer than steady's timeout
}

func summarize(p *phase, outage *window, timeout time.Duration) summary {
	s := summary{n: len(p.calls)}
	lat := make([]time.Duration, 0, len(p.calls))
	var outLat []time.Duration
	causes := map[string]int{}
	for _, c := range p.calls {
		lat = append(lat, c.latency)
		if c.latency > timeout {
			s.slowerThan++
		}
		switch outcomeOf(c.err) {
		case resilience.OutcomeSuccess:
			s.ok++
			if c.attempts > 1 {
				s.recovered++
			}
		case resilience.OutcomeTimeout:
			s.timeouts++
		case resilience.OutcomeRejected:
			s.rejected++
		}
		if c.err != nil {
			s.failed++
			causes[cause(c.err)]++
		}
		if outage != nil && c.start >= outage.from && c.start < outage.to {
			s.inOutage++
			if c.err == nil {
				s.okInOutage++
			}
			outLat = append(outLat, c.latency)
		}
	}
	s.p50, s.p99, s.max = percentile(lat, 0.50), percentile(lat, 0.99), percentile(lat, 1)
	s.outageP50, s.outageMax = percentile(outLat, 0.50), percentile(outLat, 1)
	for c, n := range causes {
		if n > s.causeN || n == s.causeN && c < s.cause {
			s.cause, s.causeN = c, n
		}
	}
	return s
}

// percentile returns the q-quantile (0 < q <= 1) of d by the nearest-rank
// method: exact, for the few hundred samples a run has. It sorts d.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[max(i, 0)]
}

// writeReport prints the table comparing the phases and the verdict.
func writeReport(w io.Writer, o *options, plain, st *phase, outage *window) {
	a, b := summarize(plain, outage, o.timeout), summarize(st, outage, o.timeout)

	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	row := func(name, x, y string) { fmt.Fprintf(tw, "%s\t%s\t%s\n", name, x, y) }
	row("", "no policy", "steady")
	row("requests", itoa(a.n), itoa(b.n))
	row("succeeded", ratio(a.ok, a.n), ratio(b.ok, b.n))
	row("failed", itoa(a.failed), itoa(b.failed))
	row("  timed out", itoa(a.timeouts), itoa(b.timeouts))
	row("  rejected fast by the breaker", itoa(a.rejected), itoa(b.rejected))
	row("  most common cause", causeText(a), causeText(b))
	row("retries", itoa(int(plain.retries)), itoa(int(st.retries)))
	row("  attempts cut by the timeout", itoa(a.timeouts+int(plain.retriedTimeouts)), itoa(b.timeouts+int(st.retriedTimeouts)))
	row("succeeded after a retry", itoa(a.recovered), itoa(b.recovered))
	row("requests sent upstream", itoa(int(plain.upstream)), itoa(int(st.upstream)))
	row("latency p50", dur(a.p50), dur(b.p50))
	row("latency p99", dur(a.p99), dur(b.p99))
	row("latency max", dur(a.max), dur(b.max))
	if outage != nil {
		row(fmt.Sprintf("during the outage (%v-%v)", outage.from, outage.to), outageText(a), outageText(b))
		row("  latency p50 / max", dur(a.outageP50)+" / "+dur(a.outageMax), dur(b.outageP50)+" / "+dur(b.outageMax))
		row("outside the outage", fmt.Sprintf("%d of %d ok", a.ok-a.okInOutage, a.n-a.inOutage), fmt.Sprintf("%d of %d ok", b.ok-b.okInOutage, b.n-b.inOutage))
	}
	if st.breaker != nil {
		row("breaker", "-", breakerText(st.breaker))
	}
	row("wall time", dur(plain.wall), dur(st.wall))
	_ = tw.Flush()

	fmt.Fprintln(w)
	if st.metrics != nil {
		fmt.Fprintf(w, "steady's own monitor.Metrics: %v\n", *st.metrics)
	}
	for _, s := range st.breakers {
		t := s.Transitions
		fmt.Fprintf(w, "steady's breaker for %s: %v now, %d calls rejected; state changes: %d trips, %d reopens, %d closes\n",
			s.Name, s.State, s.Rejected, t.Trips, t.Reopens, t.Closes)
	}
	fmt.Fprintln(w)
	for _, line := range verdict(o, a, b, plain, st, outage != nil) {
		fmt.Fprintln(w, line)
	}
}

// verdict returns two to four plain sentences on what the table shows.
func verdict(o *options, a, b summary, plain, st *phase, outage bool) []string {
	var lines []string
	rates := fmt.Sprintf("%s succeeded vs %s with no policy", pct(b.ok, b.n), pct(a.ok, a.n))
	if outage && a.inOutage < a.n && b.inOutage < b.n {
		rates += fmt.Sprintf(" (outside the outage %s vs %s)",
			pct(b.ok-b.okInOutage, b.n-b.inOutage), pct(a.ok-a.okInOutage, a.n-a.inOutage))
	}
	lines = append(lines, fmt.Sprintf("steady: %s; p99 latency %s vs %s, max %s vs %s; wall time %s vs %s.",
		rates, dur(b.p99), dur(a.p99), dur(b.max), dur(a.max), dur(st.wall), dur(plain.wall)))

	if a.slowerThan > 0 {
		cut := fmt.Sprintf("steady cuts each attempt at %v", o.timeout)
		if n := b.timeouts + int(st.retriedTimeouts); n > 0 {
			cut = fmt.Sprintf("steady cut %s at %v", plural(n, "attempt", "attempts"), o.timeout)
		}
		lines = append(lines, fmt.Sprintf("With no policy, %s waited longer than %v (up to %s) for a server that did not answer in time; %s.",
			plural(a.slowerThan, "call", "calls"), o.timeout, dur(a.max), cut))
	}
	if st.retries > 0 {
		saved := "none of its calls succeeded thanks to a retry"
		if b.recovered > 0 {
			saved = plural(b.recovered, "call", "calls") + " succeeded only thanks to a retry"
		}
		lines = append(lines, fmt.Sprintf("steady retried %s; %s.", plural(int(st.retries), "time", "times"), saved))
	}
	if b.rejected > 0 {
		lines = append(lines, fmt.Sprintf("The circuit breaker rejected %s at once while the upstream was failing, instead of sending each up to %s to it; %d requests were sent to it in all, vs %d with no policy.",
			plural(b.rejected, "call", "calls"), plural(o.retries+1, "time", "times"), st.upstream, plain.upstream))
	}
	if a.failed == 0 && b.failed == 0 {
		lines = append(lines, "Every request succeeded in both phases: the endpoint was healthy, and steady cost nothing visible.")
	}
	return lines
}

func itoa(n int) string { return fmt.Sprint(n) }

func ratio(k, n int) string { return fmt.Sprintf("%d (%s)", k, pct(k, n)) }

// pct returns k/n as a percentage, with one decimal unless it is whole.
func pct(k, n int) string {
	if n == 0 {
		return "-"
	}
	p := 100 * float64(k) / float64(n)
	s := fmt.Sprintf("%.1f", p)
	return strings.TrimSuffix(s, ".0") + "%"
}

func causeText(s summary) string {
	if s.causeN == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d)", s.cause, s.causeN)
}

func outageText(s summary) string {
	return fmt.Sprintf("%d of %d ok", s.okInOutage, s.inOutage)
}

func breakerText(l *breakerLog) string {
	opened, first, closed := l.summary()
	switch {
	case opened == 0:
		return "stayed closed"
	case closed < 0:
		return fmt.Sprintf("opened %s, from %s; not closed at the end", plural(opened, "time", "times"), dur(first))
	}
	return fmt.Sprintf("opened %s, %s-%s", plural(opened, "time", "times"), dur(first), dur(closed))
}

// dur formats d for the table: 4.2ms, 312ms, 1.25s.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d.Round(time.Millisecond) < time.Second:
		return fmt.Sprintf("%dms", d.Round(time.Millisecond)/time.Millisecond)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
