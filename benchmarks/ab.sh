#!/bin/sh
# ab.sh compares two versions of steady side by side: it builds the
# benchmarks test binary of another checkout (before) and of this one
# (after), and runs them in alternating rounds, so that drift of the machine
# hits both alike. It ends with benchstat before.txt after.txt.
#
# Usage: ./ab.sh OTHER_CHECKOUT [rounds [bench-regexp]]   (defaults: 10, .)
#   git worktree add /tmp/before <commit> && ./ab.sh /tmp/before
# Environment: BENCHTIME (default 500ms) is passed to -test.benchtime.
set -eu
cd "$(dirname "$0")"
other=$1
rounds=${2:-10}
re=${3:-.}
benchtime=${BENCHTIME:-500ms}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$other/benchmarks" && go test -c -o "$dir/before.test" .)
go test -c -o "$dir/after.test" .

: >before.txt
: >after.txt
i=1
while [ "$i" -le "$rounds" ]; do
	echo "round $i of $rounds" >&2
	"$dir/before.test" -test.run '^$' -test.bench "$re" -test.count 1 -test.benchtime "$benchtime" >>before.txt
	"$dir/after.test" -test.run '^$' -test.bench "$re" -test.count 1 -test.benchtime "$benchtime" >>after.txt
	i=$((i + 1))
done

go tool benchstat before.txt after.txt
