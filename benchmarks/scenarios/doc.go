// Package scenarios scores HTTP clients under faults: steady's, its peers'
// and a plain one meet the same misbehaving dependency (a loopback server
// with chaos faults), under the same open-loop load, and the suite reports
// what each achieved: success, latency, the load sent upstream, the peak
// concurrency at the server and the goroutines left behind.
//
// It holds only tests. The default run (and -short) is the quick mode CI
// runs, which asserts what must always hold; -full runs every client for
// the full length and writes RESULTS.md:
//
//	cd benchmarks && go test ./scenarios -run TestScenarios -full -timeout 30m -v
//
// README.md describes the scenarios, the clients and the measures.
package scenarios
