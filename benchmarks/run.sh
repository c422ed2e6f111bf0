#!/bin/sh
# run.sh runs every benchmark in interleaved rounds and summarises them with
# benchstat, so that drift of the machine (thermal, noisy neighbours) hits
# every case alike instead of the cases that happen to run last.
#
# Usage: ./run.sh [rounds [output-file]]   (defaults: 10 rounds, new.txt)
# Environment: BENCHTIME (default 1s) is passed to -test.benchtime.
#
# Each round runs every benchmark once (-count 1) at the default GOMAXPROCS,
# then the Parallel ones again at GOMAXPROCS=1 (-cpu 1), so that the output
# shows how shared state scales from 1 CPU to all of them.
set -eu
cd "$(dirname "$0")"
rounds=${1:-10}
out=${2:-new.txt}
benchtime=${BENCHTIME:-1s}

# Build the test binary once: every round then measures the same code.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/benchmarks.test" .

: >"$out"
i=1
while [ "$i" -le "$rounds" ]; do
	echo "round $i of $rounds" >&2
	"$dir/benchmarks.test" -test.run '^$' -test.bench . -test.count 1 \
		-test.benchtime "$benchtime" >>"$out"
	"$dir/benchmarks.test" -test.run '^$' -test.bench 'Parallel$' -test.cpu 1 \
		-test.count 1 -test.benchtime "$benchtime" >>"$out"
	i=$((i + 1))
done

go tool benchstat -col /impl "$out"
