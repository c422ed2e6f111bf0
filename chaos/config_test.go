package chaos_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/steadyhq/steady/chaos"
	"github.com/steadyhq/steady/resilience"
)

func TestNew_rejectsBadFaults(t *testing.T) {
	for _, tc := range []struct {
		faults []chaos.Fault
		want   string
	}{
		{[]chaos.Fault{{}}, "chaos: Config.Faults[0] is Fault{}, want a Fault built by a constructor such as chaos.Status(503)"},
		{[]chaos.Fault{chaos.Reset(), chaos.Status(503).Rate(1.5)}, "chaos: Config.Faults[1] is Rate(1.5), want 0 <= rate <= 1"},
		{[]chaos.Fault{chaos.Reset().Rate(math.NaN())}, "chaos: Config.Faults[0] is Rate(NaN), want 0 <= rate <= 1"},
		{[]chaos.Fault{chaos.Latency(chaos.Fixed(-time.Second))}, "chaos: Config.Faults[0] is Latency(Fixed(-1s)), want a delay >= 0"},
		{[]chaos.Fault{chaos.Latency(chaos.Uniform(5, 1))}, "chaos: Config.Faults[0] is Latency(Uniform(5ns, 1ns)), want 0 <= lo <= hi"},
		{[]chaos.Fault{chaos.Latency(chaos.LogNormal(0, 0.5))}, "chaos: Config.Faults[0] is Latency(LogNormal(0s, 0.5)), want median > 0 and 0 <= sigma <= 4"},
		{[]chaos.Fault{chaos.Latency(chaos.Dist{})}, "chaos: Config.Faults[0] is Latency(Dist{}), want a Dist from Fixed, Uniform or LogNormal"},
		{[]chaos.Fault{chaos.LatencyStep(time.Second, 0)}, "chaos: Config.Faults[0] is LatencyStep(1s, 0), want factor > 0"},
		{[]chaos.Fault{chaos.Status(200)}, "chaos: Config.Faults[0] is Status(200), want a code in 400-599"},
		{[]chaos.Fault{chaos.Throttle(-time.Second)}, "chaos: Config.Faults[0] is Throttle(-1s), want >= 0"},
		{[]chaos.Fault{chaos.Hang(0)}, "chaos: Config.Faults[0] is Hang(0s), want > 0: a hang must end"},
		{[]chaos.Fault{chaos.SlowBody(0, time.Millisecond)}, "chaos: Config.Faults[0] is SlowBody(0, 1ms), want chunk >= 1 and every > 0"},
		{[]chaos.Fault{chaos.Oversize(0)}, "chaos: Config.Faults[0] is Oversize(0), want >= 1"},
		{[]chaos.Fault{chaos.Overload(0, 1)}, "chaos: Config.Faults[0] is Overload(0, 1), want capacity >= 1 and queue >= 0"},
		{[]chaos.Fault{chaos.Overload(1, 1).Rate(0.5)}, "chaos: Config.Faults[0] is overload (capacity 1, queue 1), 50% of requests, want no Rate: an overload hits every request while it is active"},
		{[]chaos.Fault{chaos.Overload(1, 1), chaos.Overload(2, 2)}, "chaos: Config.Faults[1] is overload (capacity 2, queue 2), want at most one Overload per Injector"},
		{[]chaos.Fault{chaos.Reset().After(-time.Second)}, "chaos: Config.Faults[0] is After(-1s), want >= 0"},
		{[]chaos.Fault{chaos.Reset().Until(0)}, "chaos: Config.Faults[0] is Until(0s), want > 0"},
		{[]chaos.Fault{chaos.Outage(2*time.Second, time.Second)}, "chaos: Config.Faults[0] is Between(2s, 1s), want from < to"},
		{make([]chaos.Fault, 65), "chaos: Config.Faults is 65 faults, want at most 64"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			in, err := chaos.New(chaos.Config{Faults: tc.faults})
			if in != nil || err == nil || err.Error() != tc.want {
				t.Fatalf("New = %v, %v; want the error %q", in, err, tc.want)
			}
			var ce *resilience.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, resilience.ErrInvalidConfig) {
				t.Errorf("err %T is not a *resilience.ConfigError", err)
			}
			if chaos.Config.Validate(chaos.Config{Faults: tc.faults}) == nil {
				t.Error("Validate accepts what New rejects")
			}
		})
	}
}

func TestFault_String(t *testing.T) {
	for _, tc := range []struct {
		f    chaos.Fault
		want string
	}{
		{chaos.Stragglers(0.05, 400*time.Millisecond), "latency 400ms, 5% of requests"},
		{chaos.Latency(chaos.LogNormal(20*time.Millisecond, 0.6)), "latency lognormal median 20ms sigma 0.6"},
		{chaos.LatencyStep(4*time.Second, 4), "latency ×4, from 4s"},
		{chaos.Throttle(time.Second).Rate(0.2), "status 429 (Retry-After 1 s), 20% of requests"},
		{chaos.ThrottleDate(time.Second), "status 429 (Retry-After 1 s, as a date)"},
		{chaos.Status(429), "status 429"},
		{chaos.Hang(time.Minute).Rate(0.02), "hang up to 1m0s, 2% of requests"},
		{chaos.Outage(3*time.Second, 6*time.Second), "connection reset, from 3s to 6s"},
		{chaos.SlowBody(16, 10*time.Millisecond), "slow body (16 B every 10ms)"},
		{chaos.Truncate(), "truncated body"},
		{chaos.Oversize(1 << 20), "oversize body (1048576 B)"},
		{chaos.Overload(8, 16), "overload (capacity 8, queue 16)"},
		{chaos.Fault{}, "no fault"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if chaos.Status(503).Kind() != chaos.KindStatus || chaos.KindOverload.String() != "overload" || chaos.Kind(99).String() != "Kind(99)" {
		t.Error("Kind names are wrong")
	}
}
