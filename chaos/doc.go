// Package chaos injects faults, so that a pipeline of policies, an HTTP
// client or a whole service can be tested against the misbehaviour it is
// meant to survive: slow answers, errors, throttling, hangs, resets, broken
// bodies, outages and overload.
//
// An [Injector] is made by [New] from a [Config]: a seed and a list of
// [Fault] values. The same Injector injects its faults wherever it is
// plugged in:
//
//   - [Injector.Middleware] wraps any [net/http.Handler]: the server
//     misbehaves (a test server, a staging one, a stub of a dependency);
//   - [Injector.Transport] wraps any [net/http.RoundTripper]: the client
//     meets the faults without touching the server;
//   - [Inject] is a [resilience.Policy] for any function: a pipeline meets
//     the faults without a network at all.
//
// # Faults
//
//	chaos.Latency(chaos.Uniform(1*time.Millisecond, 5*time.Millisecond)) // every request
//	chaos.Latency(chaos.LogNormal(20*time.Millisecond, 0.6))             // a realistic tail
//	chaos.Stragglers(0.05, 400*time.Millisecond)                         // 5% take 400 ms more
//	chaos.LatencyStep(4*time.Second, 4)                                  // ×4 slower from 4 s on
//	chaos.Status(503).Rate(0.3)                                          // 30% fail
//	chaos.Throttle(time.Second).Rate(0.2)                                // 429, Retry-After: 1
//	chaos.ThrottleDate(time.Second)                                      // 429, Retry-After: <date>
//	chaos.Hang(30 * time.Second).Rate(0.02)                              // 2% never answer
//	chaos.Reset().Rate(0.01)                                             // 1% connection resets
//	chaos.Outage(3*time.Second, 6*time.Second)                           // down from 3 s to 6 s
//	chaos.SlowBody(16, 10*time.Millisecond)                              // 16 bytes every 10 ms
//	chaos.Truncate().Rate(0.01)                                          // body cut short
//	chaos.Oversize(64 << 20)                                             // a 64 MiB body
//	chaos.Overload(8, 16)                                                // 8 workers, 16 queued, then 503
//
// [Fault.Rate] sets the share of requests a fault hits, and [Fault.After],
// [Fault.Until] and [Fault.Between] the time window, measured from the
// Injector's start ([Config.Start], [Injector.Restart]). [Config] says how
// faults combine: delays add up, the first fault that answers in place of
// the dependency wins, body faults change the response of a request that is
// served, and an Overload decides first whether it is served at all.
//
// # Reproducible
//
// What happens to a request depends only on the seed, the request's number
// (its order of arrival) and its time since the start. A test that sends
// requests one after another meets the same faults on every run; a load
// test with concurrent requests meets the same faults at the same rates.
//
// # Counted
//
// [Injector.Snapshot] counts the requests, the faults injected, the
// requests no fault hit, and the requests in flight now and at the peak, so
// a test can check both what its client did and what it met.
//
// # Safe
//
// Hangs are bounded: a hang ends when the client gives up, when its hold
// passes, or when [Injector.Close] is called, so a test server closes
// promptly. Nothing here starts a goroutine. An Injector is safe for
// concurrent use, and a Fault is a plain value that may be shared.
//
// Note that Go's [net/http.Transport] itself retries an idempotent request
// once, on a new connection, when a reused connection is reset before any
// response arrives: a server that resets may see a GET twice.
package chaos
