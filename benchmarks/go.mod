module github.com/steadyhq/steady/benchmarks

go 1.25.0

require (
	github.com/avast/retry-go/v4 v4.7.0
	github.com/cenkalti/backoff/v4 v4.3.0
	github.com/eapache/go-resiliency v1.7.0
	github.com/failsafe-go/failsafe-go v0.9.8
	github.com/hashicorp/go-retryablehttp v0.7.8
	github.com/redis/go-redis/v9 v9.20.1
	github.com/sony/gobreaker/v2 v2.4.0
	github.com/steadyhq/steady v0.0.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.22.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
)

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	github.com/bits-and-blooms/bitset v1.24.4 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/steadyhq/steady/contrib/redis v0.0.0
	golang.org/x/perf v0.0.0-20250909190841-7e13e04d9366 // indirect
)

replace github.com/steadyhq/steady => ../

tool golang.org/x/perf/cmd/benchstat

replace github.com/steadyhq/steady/contrib/redis => ../contrib/redis
