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
	"github.com/steadyhq/steady/resilience/hedge"
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

	inOutage, okInOutage   int // calls due during the outage
	outageP50, outageMax   time.Duration
	outsideP99, outsideMax time.Duration // of the calls due outside the outage
	slowerThan             int           // calls that took longer than steady's timeout

	late    int           // calls sent more than lateAfter after they were due
	maxLate time.Duration // the latest a call was sent after it was due
}

// lateAfter is how far behind its due time a call must be sent to count as
// late: far more than a timer's slack, so that it takes every worker being
// busy.
const lateAfter = 100 * time.Millisecond

func summarize(p *phase, outage *window, timeout time.Duration) summary {
	s := summary{n: len(p.calls)}
	lat := make([]time.Duration, 0, len(p.calls))
	var outLat, inLat []time.Duration
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
		if l := c.start - c.due; l > lateAfter {
			s.late++
			s.maxLate = max(s.maxLate, l)
		}
		// By when it was due, not when it was sent: a call that waited for
		// a worker still arrived during the outage.
		if outage != nil && c.due >= outage.from && c.due < outage.to {
			s.inOutage++
			if c.err == nil {
				s.okInOutage++
			}
			outLat = append(outLat, c.latency)
		} else {
			inLat = append(inLat, c.latency)
		}
	}
	s.p50, s.p99, s.max = percentile(lat, 0.50), percentile(lat, 0.99), percentile(lat, 1)
	s.outageP50, s.outageMax = percentile(outLat, 0.50), percentile(outLat, 1)
	s.outsideP99, s.outsideMax = percentile(inLat, 0.99), percentile(inLat, 1)
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

// totals is what steady's policies did, over all hosts.
type totals struct {
	hedge                 *hedge.Stats // summed; Delay is the first host's; nil when not hedging
	budget                bool         // a budget was asked
	retriesDenied, waited int64
	limits                []time.Duration // the learned timeouts now, one per host
	minLimit, maxLimit    time.Duration
}

func totalsOf(hosts []hostStats) totals {
	var t totals
	for _, h := range hosts {
		if h.hedge != nil {
			if t.hedge == nil {
				t.hedge = &hedge.Stats{Delay: h.hedge.Delay}
			}
			t.hedge.Calls += h.hedge.Calls
			t.hedge.Hedged += h.hedge.Hedged
			t.hedge.Hedges += h.hedge.Hedges
			t.hedge.Wins += h.hedge.Wins
			t.hedge.Denied += h.hedge.Denied
			t.retriesDenied -= h.hedge.Denied // the budget counts them too
		}
		if h.budget != nil {
			t.budget = true
			t.retriesDenied += h.budget.Denied
		}
		if h.breaker != nil {
			t.waited += h.breaker.Waited
		}
		if h.adaptive != nil {
			t.limits = append(t.limits, h.adaptive.Limit)
		}
	}
	if len(t.limits) > 0 {
		t.minLimit, t.maxLimit = slices.Min(t.limits), slices.Max(t.limits)
	}
	return t
}

// limitText says what steady's attempt timeout is at the end.
func (t *totals) limitText(o *options) string {
	if !o.adaptive || len(t.limits) == 0 {
		return fmt.Sprintf("%v, fixed", o.timeout)
	}
	return fmt.Sprintf("%s, learned (ceiling %v)", t.learned(), o.timeout)
}

// learned returns the learned limits at the end: one, or their range over
// several hosts.
func (t *totals) learned() string {
	if len(t.limits) == 1 {
		return dur(t.minLimit)
	}
	return fmt.Sprintf("%s-%s over %d hosts", dur(t.minLimit), dur(t.maxLimit), len(t.limits))
}

// writeReport prints the table comparing the phases and the verdict.
func writeReport(w io.Writer, o *options, plain, st *phase, outage *window) {
	a, b := summarize(plain, outage, o.timeout), summarize(st, outage, o.timeout)
	t := totalsOf(st.hosts)

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
	row("  attempts cut by a time limit", itoa(a.timeouts+int(plain.retriedTimeouts)), itoa(b.timeouts+int(st.retriedTimeouts)))
	switch {
	case t.budget && o.budget:
		row("  denied by the budget", "-", fmt.Sprint(t.retriesDenied))
	case t.budget:
		row("  denied by the budget", "-", "no budget")
	}
	row("succeeded after a retry", itoa(a.recovered), itoa(b.recovered))
	if h := t.hedge; h != nil {
		row("hedges started / won", "-", fmt.Sprintf("%d / %d", h.Hedges, h.Wins))
		row("  attempts hedged", "-", fmt.Sprintf("%d of %d (%s), delay %s at the end", h.Hedged, h.Calls, pct(int(h.Hedged), int(h.Calls)), dur(h.Delay)))
	}
	row("attempt timeout at the end", "none", t.limitText(o))
	row("requests sent upstream", itoa(int(plain.upstream)), itoa(int(st.upstream)))
	row("latency p50", dur(a.p50), dur(b.p50))
	row("latency p99", dur(a.p99), dur(b.p99))
	row("latency max", dur(a.max), dur(b.max))
	row(fmt.Sprintf("sent over %v late", lateAfter), lateText(a), lateText(b))
	if outage != nil {
		row(fmt.Sprintf("during the outage (%v-%v)", outage.from, outage.to), outageText(a), outageText(b))
		row("  latency p50 / max", dur(a.outageP50)+" / "+dur(a.outageMax), dur(b.outageP50)+" / "+dur(b.outageMax))
		if plain.server != nil && st.server != nil {
			row("  requests the server got", fmt.Sprint(plain.outageRequests()), fmt.Sprint(st.outageRequests()))
		}
		row("outside the outage", fmt.Sprintf("%d of %d ok", a.ok-a.okInOutage, a.n-a.inOutage), fmt.Sprintf("%d of %d ok", b.ok-b.okInOutage, b.n-b.inOutage))
		row("  latency p99 / max", dur(a.outsideP99)+" / "+dur(a.outsideMax), dur(b.outsideP99)+" / "+dur(b.outsideMax))
	}
	if st.breaker != nil {
		row("breaker", "-", breakerText(st.breaker))
		if o.wait {
			row("  calls that waited, then went", "-", fmt.Sprint(t.waited))
		}
	}
	row("wall time", dur(plain.wall), dur(st.wall))
	_ = tw.Flush()

	fmt.Fprintln(w)
	if st.metrics != nil {
		fmt.Fprintf(w, "steady's own monitor.Metrics: %v\n", *st.metrics)
	}
	for _, h := range st.hosts {
		writeHost(w, o, &h)
	}
	fmt.Fprintln(w)
	for _, line := range verdict(o, a, b, plain, st, outage != nil) {
		fmt.Fprintln(w, line)
	}
}

// writeHost prints what steady's policies for one host did, a line each.
func writeHost(w io.Writer, o *options, h *hostStats) {
	if s := h.breaker; s != nil {
		t := s.Transitions
		fmt.Fprintf(w, "steady's breaker for %s: %v now, %d calls rejected, %d let through after waiting; state changes: %d trips, %d reopens, %d closes\n",
			h.host, s.State, s.Rejected, s.Waited, t.Trips, t.Reopens, t.Closes)
	}
	if s := h.adaptive; s != nil {
		fmt.Fprintf(w, "steady's timeout for %s: %s now (%v to %v); %d attempts taught it, %d of them timed out (%s), %d taught nothing (retried, hedged or cut short by the deadline)\n",
			h.host, dur(s.Limit), min(timeoutMin, o.timeout), o.timeout, s.Calls, s.Timeouts, pct(int(s.Timeouts), int(s.Calls)), s.Skipped)
	}
	if s := h.hedge; s != nil {
		fmt.Fprintf(w, "steady's hedger for %s: delay %s now; %d attempts, %d hedged (%s), %d hedges started, %d won, %d denied by the budget\n",
			h.host, dur(s.Delay), s.Calls, s.Hedged, pct(int(s.Hedged), int(s.Calls)), s.Hedges, s.Wins, s.Denied)
	}
	if s := h.budget; s != nil && o.budget {
		fmt.Fprintf(w, "steady's budget for %s: %d calls; %d retries and hedges allowed, %d of them succeeded, %d denied; %.0f tokens left\n",
			h.host, s.Requests, s.Retries, s.Succeeded, s.Denied, s.Headroom)
	}
}

// verdict returns a few plain sentences on what the table shows.
func verdict(o *options, a, b summary, plain, st *phase, outage bool) []string {
	var lines []string
	t := totalsOf(st.hosts)
	rates := fmt.Sprintf("%s succeeded vs %s with no policy", pct(b.ok, b.n), pct(a.ok, a.n))
	if outage && a.inOutage < a.n && b.inOutage < b.n {
		rates += fmt.Sprintf(" (outside the outage %s vs %s)",
			pct(b.ok-b.okInOutage, b.n-b.inOutage), pct(a.ok-a.okInOutage, a.n-a.inOutage))
	}
	lines = append(lines, fmt.Sprintf("steady: %s; p99 latency %s vs %s, max %s vs %s; wall time %s vs %s.",
		rates, dur(b.p99), dur(a.p99), dur(b.max), dur(a.max), dur(st.wall), dur(plain.wall)))

	if a.slowerThan > 0 {
		limit := fmt.Sprint(o.timeout)
		if o.adaptive && len(t.limits) > 0 {
			limit = fmt.Sprintf("its timeout (learned: %s at the end, ceiling %v)", t.learned(), o.timeout)
		}
		cut := fmt.Sprintf("steady cuts each attempt at %s", limit)
		if n := b.timeouts + int(st.retriedTimeouts); n > 0 {
			cut = fmt.Sprintf("steady cut %s at %s", plural(n, "attempt", "attempts"), limit)
		}
		lines = append(lines, fmt.Sprintf("With no policy, %s waited longer than %v (up to %s) for a server that did not answer in time; %s.",
			plural(a.slowerThan, "call", "calls"), o.timeout, dur(a.max), cut))
	}
	if h := t.hedge; h != nil && h.Hedges > 0 {
		lines = append(lines, fmt.Sprintf("steady hedged %d of its %d attempts (%s), after a delay it learned (%s at the end); the hedge answered first %s.",
			h.Hedged, h.Calls, pct(int(h.Hedged), int(h.Calls)), dur(h.Delay), plural(int(h.Wins), "time", "times")))
	}
	if st.retries > 0 || t.retriesDenied > 0 {
		saved := "none of its calls succeeded thanks to a retry"
		if b.recovered > 0 {
			saved = plural(b.recovered, "call", "calls") + " succeeded only thanks to a retry"
		}
		denied := ""
		if t.retriesDenied > 0 {
			denied = fmt.Sprintf("; the budget denied %s while retries were failing", plural(int(t.retriesDenied), "retry", "retries"))
		}
		lines = append(lines, fmt.Sprintf("steady retried %s; %s%s.", plural(int(st.retries), "time", "times"), saved, denied))
	}
	if b.rejected > 0 || t.waited > 0 {
		var did []string
		if b.rejected > 0 {
			did = append(did, fmt.Sprintf("rejected %s at once", plural(b.rejected, "call", "calls")))
		}
		if t.waited > 0 {
			did = append(did, fmt.Sprintf("held %s until a probe showed the upstream was back, then let them through", plural(int(t.waited), "call", "calls")))
		}
		lines = append(lines, fmt.Sprintf("While the upstream was failing, the circuit breaker %s, instead of sending each up to %s to it; %d requests were sent to it in all, vs %d with no policy.",
			strings.Join(did, " and "), plural(o.retries+1, "time", "times"), st.upstream, plain.upstream))
	}
	if outage && plain.server != nil && st.server != nil {
		lines = append(lines, fmt.Sprintf("Of the calls due during the outage, %d of %d succeeded with steady, which sent the server %s in it, vs %d of %d with no policy, which sent %d.",
			b.okInOutage, b.inOutage, plural(int(st.outageRequests()), "request", "requests"), a.okInOutage, a.inOutage, plain.outageRequests()))
	}
	if b.late > 0 || a.late > 0 {
		lines = append(lines, fmt.Sprintf("With all %d callers busy, %s and %s were sent over %v after they were due; their latency and deadline count from when they were due.",
			o.concurrency, lateSentence(a, "no policy"), lateSentence(b, "steady"), lateAfter))
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

func lateSentence(s summary, name string) string {
	if s.late == 0 {
		return "no call with " + name
	}
	return fmt.Sprintf("%s with %s (up to %s)", plural(s.late, "call", "calls"), name, dur(s.maxLate))
}

func lateText(s summary) string {
	if s.late == 0 {
		return "0"
	}
	return fmt.Sprintf("%d, up to %s", s.late, dur(s.maxLate))
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
