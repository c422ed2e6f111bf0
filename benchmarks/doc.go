// Package benchmarks holds only benchmarks: the per-call overhead of steady's
// policies measured against the bare call, the standard library written by
// hand, and peer libraries (failsafe-go, gobreaker, cenkalti/backoff,
// retry-go, go-resiliency).
//
// It is its own module, so that the peers never reach the go.sum of a user
// of steady. Nothing here is meant to be imported. Run it with
//
//	go test -run '^$' -bench . -count 10 | tee new.txt
//	go tool benchstat -col /impl new.txt
//
// or ./run.sh for interleaved rounds; README.md has the figures.
package benchmarks
