package scenarios_test

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/steadyhq/steady/chaos"
)

var (
	full = flag.Bool("full", false, "run every client for the full length of each scenario and write RESULTS.md")
	all  = flag.Bool("all", false, "in quick mode, run every client, not only no-policy and steady's")
	only = flag.String("clients", "", "run only the clients whose name matches this regular expression (RESULTS.md is then not written)")
)

// The lengths of a run: a full run is 8 s at 200 requests a second (1,600
// requests); the quick one compresses every scenario's timeline to 1.6 s (320
// requests, fewer in the overload).
const (
	fullLength  = 8 * time.Second
	quickLength = 1600 * time.Millisecond
	rate        = 200 // requests a second
)

// scale multiplies the arrival rates and the overload server's workers
// and queue: 1, but raceScale in quick mode under the race detector, which
// makes every request cost several times more CPU: at the full rate, a
// shared 2-core machine falls behind, timers fire late and the run
// collapses (requests end a second past their deadline whatever the
// client). Set by TestScenarios before any run.
var scale = 1.0

const raceScale = 0.25

// baseLatency is the dependency's own latency in every scenario but the
// latency step and the overload, which have theirs.
var baseLatency = chaos.Latency(chaos.Uniform(time.Millisecond, 3*time.Millisecond))

// A scenario is a misbehaving dependency, on a timeline of length d.
type scenario struct {
	name string
	what string // for RESULTS.md
	// faults returns the chaos faults for a run of length d.
	faults func(d time.Duration) []chaos.Fault
	// phases returns the arrival rates; nil: rate for d.
	phases func(d time.Duration) []phase
	// window returns the outage, if the scenario has one.
	window func(d time.Duration) (from, to time.Duration)
}

func (s scenario) arrivals(d time.Duration) []phase {
	if s.phases == nil {
		return []phase{{dur: d, rate: rate * scale}}
	}
	return s.phases(d)
}

func (s scenario) outage(d time.Duration) (from, to time.Duration, ok bool) {
	if s.window == nil {
		return 0, 0, false
	}
	from, to = s.window(d)
	return from, to, true
}

// at scales a point of the 8 s timeline to a run of length d.
func at(d, t time.Duration) time.Duration {
	return time.Duration(float64(t) * float64(d) / float64(fullLength))
}

func outageWindow(d time.Duration) (time.Duration, time.Duration) {
	return at(d, 2500*time.Millisecond), at(d, 5500*time.Millisecond)
}

// Overload: a server of 4 workers and a queue of 16, each request taking
// 15-25 ms (20 ms on average): a capacity of about 200 requests a second.
const (
	workers  = 4
	queue    = 16
	capacity = 200 // requests a second, workers / 20 ms
)

var scenarios = []scenario{
	{
		name:   "transient",
		what:   "30% of requests answered 503 at once: `Status(503).Rate(0.3)`; base latency uniform 1-3 ms.",
		faults: func(time.Duration) []chaos.Fault { return []chaos.Fault{baseLatency, chaos.Status(503).Rate(0.3)} },
	},
	{
		name: "stragglers",
		what: "5% of requests take 400 ms more: `Stragglers(0.05, 400ms)`; base latency uniform 1-3 ms.",
		faults: func(time.Duration) []chaos.Fault {
			return []chaos.Fault{baseLatency, chaos.Stragglers(0.05, 400*time.Millisecond)}
		},
	},
	{
		name: "hangs",
		what: "2% of requests never answered (held up to 60 s, released when the run ends): `Hang(60s).Rate(0.02)`; base latency uniform 1-3 ms.",
		faults: func(time.Duration) []chaos.Fault {
			return []chaos.Fault{baseLatency, chaos.Hang(60 * time.Second).Rate(0.02)}
		},
	},
	{
		name: "outage",
		what: "every connection reset from 2.5 s to 5.5 s of the 8 s run (3 s down): `Outage(2.5s, 5.5s)`; base latency uniform 1-3 ms. " +
			"*in outage* counts the requests the server received in that window.",
		faults: func(d time.Duration) []chaos.Fault {
			return []chaos.Fault{baseLatency, chaos.Outage(outageWindow(d))}
		},
		window: outageWindow,
	},
	{
		name: "throttling",
		what: "20% of requests answered 429 with `Retry-After: 1`: `Throttle(1s).Rate(0.2)`; base latency uniform 1-3 ms.",
		faults: func(time.Duration) []chaos.Fault {
			return []chaos.Fault{baseLatency, chaos.Throttle(time.Second).Rate(0.2)}
		},
	},
	{
		name: "latency-step",
		what: "latency lognormal, median 20 ms, sigma 0.3, then 4× slower from half-way (median 80 ms, p99.9 about 200 ms: " +
			"the 200 ms attempt timeout starts to fire): `Latency(LogNormal(20ms, 0.3))`, `LatencyStep(4s, 4)`.",
		faults: func(d time.Duration) []chaos.Fault {
			return []chaos.Fault{chaos.Latency(chaos.LogNormal(20*time.Millisecond, 0.3)), chaos.LatencyStep(d/2, 4)}
		},
	},
	{
		name: "overload",
		what: fmt.Sprintf("a server of %d workers and %d queue places, each request taking 15-25 ms (capacity about %d requests/s), "+
			"503 at once beyond the queue: `Overload(%d, %d)`, `Latency(Uniform(15ms, 25ms))`. "+
			"Offered load: %d requests/s (0.5× capacity) for 2 s, %d/s (1.5×) for 4 s, %d/s for 2 s: 1,600 requests.",
			workers, queue, capacity, workers, queue, capacity/2, capacity*3/2, capacity/2),
		faults: func(time.Duration) []chaos.Fault {
			w, q := int(math.Round(workers*scale)), int(math.Round(queue*scale))
			return []chaos.Fault{chaos.Overload(w, q), chaos.Latency(chaos.Uniform(15*time.Millisecond, 25*time.Millisecond))}
		},
		phases: func(d time.Duration) []phase {
			return []phase{
				{dur: d / 4, rate: capacity / 2 * scale},
				{dur: d / 2, rate: capacity * 3 / 2 * scale},
				{dur: d / 4, rate: capacity / 2 * scale},
			}
		},
	},
}

// tolerance is how many points of success a steady client may trail the
// no-policy client by in one run before the test calls it worse: the
// faults a request meets are drawn from its number at the server, and a
// client that retries shifts the numbers of every later request, so two
// clients never meet the same draws; with 320 requests (quick mode) a
// share of 30% has a standard error of 2.3 points.
const tolerance = 2.0

// knownWorse lists the (scenario, client) pairs where a steady client is
// known to trail the no-policy client, with the reason; the test logs them
// (visibly, with -v) instead of failing. Each one is a limitation of steady
// that an open issue is to fix, not noise; see README.md.
var knownWorse = map[string]string{
	"outage/steady-client": "its breaker (outside the retries) opens during the outage and lets one probe through " +
		"about once a second; a failed probe keeps it open, so the calls that arrive after the dependency recovered " +
		"fail fast until a probe succeeds, while a plain client fails only during the outage. Quick mode compresses " +
		"the outage's timeline 5× but not the breaker's 1 s open time, so there it trails by far more than in a full " +
		"run. Issue 11 (breaker.Settings.MaxWaiting: calls wait for the recovery) is to fix this.",
	"overload/steady-full": "its breaker opens when calls fail 5 in a row at 1.5× capacity, and with MaxWaiting " +
		"the calls it holds wait for a probe; when a probe closes it, the waiters and the new calls meet a server " +
		"that is still overloaded, fail, and open it again, so many calls spend their deadline waiting (38.6% " +
		"against no-policy's 74.1% in a full run; in quick mode it has ranged from 8 points below to 3 above). " +
		"A breaker is the wrong tool for overload and steady has no adaptive concurrency limit yet; a bulkhead " +
		"sized by the dependency's capacity (steady-bulkhead, run with -full) gets 89.9% at 1.02× load.",
	"overload/steady-client": "at 1.5× capacity its retries add load to a full queue, logical calls fail 5 in a row, " +
		"and the breaker opens: for 1 s it refuses every call, the two thirds the server could still have served " +
		"included (failsafe-breaker does the same). A breaker is all or nothing; overload needs client-side " +
		"throttling or a retry budget, which issue 11 is to add.",
}

// TestScenarios runs every scenario against every client: in quick mode
// (the default, and -short) for 1.6 s each with the no-policy and steady
// clients only, asserting what must always hold; with -full for 8 s each
// with every client, writing RESULTS.md.
func TestScenarios(t *testing.T) {
	length := quickLength
	if *full {
		length = fullLength
	}
	var pick *regexp.Regexp
	if *only != "" {
		pick = regexp.MustCompile(*only)
	}
	scale = 1
	if raceDetector && !*full {
		scale = raceScale
	}
	loadBefore := loadavg()
	began := time.Now()
	var tables [][]result
	for _, sc := range scenarios {
		var rs []result
		t.Run(sc.name, func(t *testing.T) {
			for _, cl := range clients {
				if (!*full && !*all && !cl.quick) || (pick != nil && !pick.MatchString(cl.name)) || !cl.runsIn(sc.name) {
					continue
				}
				r, err := run(sc, cl, length)
				if err != nil {
					t.Errorf("%s/%s: %v", sc.name, cl.name, err)
				}
				if r.requests == 0 {
					continue
				}
				t.Logf("%-16s %s", cl.name, r.line())
				if cl.name == "steady-bulkhead" {
					p99, n := admitted.p99()
					t.Logf("steady-bulkhead: %d calls admitted and served, p99 %v from admission", n, p99)
				}
				// What must always hold is asserted for the clients of
				// quick mode (no-policy and steady's); a peer that breaks
				// it is reported (the left and late columns), not failed.
				fail := t.Errorf
				if !cl.quick {
					fail = t.Logf
				}
				if r.goroutinesLeft > 0 {
					fail("%s/%s: %d goroutines left after the run", sc.name, cl.name, r.goroutinesLeft)
				}
				if r.overDeadline > 0 {
					fail("%s/%s: %d requests took longer than %v + %v (the slowest %v: %v)", sc.name, cl.name, r.overDeadline, deadline, slack, r.slowest, r.slowestErr)
				}
				rs = append(rs, r)
			}
			checkSteady(t, rs)
		})
		tables = append(tables, rs)
	}
	for i, rs := range tables {
		if len(rs) == 0 {
			t.Logf("scenario %s did not run: RESULTS.md not written", scenarios[i].name)
			return
		}
	}
	if *full && pick == nil {
		cmd := "cd benchmarks && go test ./scenarios -run TestScenarios -full -timeout 30m -v"
		if err := os.WriteFile("RESULTS.md", []byte(report(tables, cmd, began, time.Since(began), loadBefore, loadavg())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkSteady fails the test when a steady client succeeded less often than
// the no-policy client, beyond the tolerance.
func checkSteady(t *testing.T, rs []result) {
	t.Helper()
	var base *result
	for i := range rs {
		if rs[i].client == "no-policy" {
			base = &rs[i]
		}
	}
	if base == nil {
		return
	}
	for _, r := range rs {
		if !strings.HasPrefix(r.client, "steady-") || r.successPct() >= base.successPct()-tolerance {
			continue
		}
		msg := fmt.Sprintf("%s/%s: success %.1f%%, below no-policy's %.1f%% by more than %.0f points",
			r.scenario, r.client, r.successPct(), base.successPct(), tolerance)
		if why, ok := knownWorse[r.scenario+"/"+r.client]; ok {
			t.Logf("known: %s: %s", msg, why)
			continue
		}
		t.Error(msg)
	}
}

func (r result) line() string {
	out := "—"
	if r.inOutage >= 0 {
		out = fmt.Sprint(r.inOutage)
	}
	return fmt.Sprintf("ok %5.1f%%  p50 %8s  p99 %8s  p99.9 %8s  max %8s  upstream %5d (%.2f×)  in outage %4s  peak %3d  left %d  late %d  load %s",
		r.successPct(), ms(r.quantile(0.5)), ms(r.quantile(0.99)), ms(r.quantile(0.999)), ms(r.slowest),
		r.upstream, r.amplification(), out, r.peak, r.goroutinesLeft, r.overDeadline, r.load)
}

// ms formats d for a table: "2.31 ms", "412 ms", "2.00 s".
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", f/1000)
	case f >= 100:
		return fmt.Sprintf("%.0f ms", f)
	case f >= 10:
		return fmt.Sprintf("%.1f ms", f)
	}
	return fmt.Sprintf("%.2f ms", f)
}

// commit returns the short hash of the checked-out commit, "+ changes" when
// the tree differs from it, or "unknown" without git.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := "`" + strings.TrimSpace(string(out)) + "`"
	if st, err := exec.Command("git", "status", "--porcelain", "--", "..", "../..").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " + uncommitted changes"
	}
	return c
}

// loadavg returns the first line of /proc/loadavg, or "unknown".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// report renders RESULTS.md.
func report(all [][]result, cmd string, began time.Time, took time.Duration, loadBefore, loadAfter string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Scenario suite: results\n\n")
	fmt.Fprintf(&b, "Written by `%s` (see README.md).\n\n", cmd)
	fmt.Fprintf(&b, "- steady: commit %s (the tree the run used)\n", commit())
	fmt.Fprintf(&b, "- Go: `%s %s/%s`; GOMAXPROCS %d, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(&b, "- Date: %s; the whole run took %s\n", began.UTC().Format("2006-01-02 15:04 MST"), took.Round(time.Second))
	fmt.Fprintf(&b, "- Load average (/proc/loadavg) before: `%s`; after: `%s`. The machine is shared: other work may have loaded the CPU during the run.\n", loadBefore, loadAfter)
	fmt.Fprintf(&b, "- Each run: a fresh loopback server (127.0.0.1) with the scenario's chaos faults, a fresh client, %d requests/s open-loop (each launched on its tick), %v, a %v deadline per logical request.\n\n",
		rate, fullLength, deadline)
	b.WriteString("Columns: *ok* is the share of logical requests that got a 2xx answer; the latencies are of every logical request, a failure counted at the moment it failed; " +
		"*upstream* is the requests the server received (counted outside the faults), and *×* that divided by the logical requests; " +
		"*in outage* is the requests the server received during the outage; *peak* is the most requests in flight at the server at once; " +
		"*left* is the client's goroutines still running after the run (idle connections closed, server closed, settled for up to 3 s); " +
		"*late* is the logical requests that ended more than 500 ms after their 2 s deadline; " +
		"*load* is the machine's 1-minute load average at the end of the run (2 cores: above 2, the run competed for the CPU).\n\n")
	b.WriteString("## Clients\n\n| client | configuration |\n|---|---|\n")
	for _, cl := range clients {
		fmt.Fprintf(&b, "| %s | %s |\n", cl.name, clientDoc[cl.name])
	}
	b.WriteString("\nThe exact code is in clients_test.go.\n")
	for i, sc := range scenarios {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", sc.name, sc.what)
		b.WriteString("| client | ok | p50 | p99 | p99.9 | max | upstream | × | in outage | peak | left | late | load |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range all[i] {
			out := "—"
			if r.inOutage >= 0 {
				out = fmt.Sprint(r.inOutage)
			}
			fmt.Fprintf(&b, "| %s | %.1f%% | %s | %s | %s | %s | %d | %.2f | %s | %d | %d | %d | %s |\n",
				r.client, r.successPct(), ms(r.quantile(0.5)), ms(r.quantile(0.99)), ms(r.quantile(0.999)), ms(r.slowest),
				r.upstream, r.amplification(), out, r.peak, r.goroutinesLeft, r.overDeadline, r.load)
		}
	}
	return b.String()
}
