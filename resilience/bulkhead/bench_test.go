package bulkhead_test

import (
	"context"
	"testing"

	"github.com/steadyhq/steady/resilience/bulkhead"
)

// These benchmarks measure the package alone, calling a function that
// returns at once. The comparison with golang.org/x/sync is in the
// benchmarks module.

func okInt(context.Context) (int, error) { return 1, nil }

func benchBulkhead(b *testing.B, c bulkhead.Config) *bulkhead.Bulkhead {
	b.Helper()
	bh, err := bulkhead.New(c)
	if err != nil {
		b.Fatal(err)
	}
	return bh
}

// A call that finds a free slot.
func BenchmarkLimit(b *testing.B) {
	ctx := context.Background()
	call := bulkhead.Limit[int](benchBulkhead(b, bulkhead.Config{MaxConcurrent: 1}))(okInt)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

// Calls from GOMAXPROCS goroutines with a slot for each: no call waits, but
// they share the bulkhead's state.
func BenchmarkLimitParallel(b *testing.B) {
	ctx := context.Background()
	call := bulkhead.Limit[int](benchBulkhead(b, bulkhead.Config{MaxConcurrent: 1 << 20}))(okInt)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = call(ctx)
		}
	})
}

// A call rejected because every slot is taken and there is no queue.
func BenchmarkLimitRejected(b *testing.B) {
	ctx := context.Background()
	bh := benchBulkhead(b, bulkhead.Config{MaxConcurrent: 1})
	call := bulkhead.Limit[int](bh)(okInt)
	if err := bh.Acquire(ctx); err != nil {
		b.Fatal(err)
	}
	defer bh.Release()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := call(ctx); err == nil {
			b.Fatal("admitted")
		}
	}
}

// A coalesced call with no other caller: the shared call's goroutine and
// context are the cost.
func BenchmarkCoalesceAlone(b *testing.B) {
	ctx := context.Background()
	call := bulkhead.Coalesce[int](sameKey)(okInt)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

// Fallback answering for a failed call.
func BenchmarkFallback(b *testing.B) {
	ctx := context.Background()
	fail := func(context.Context) (int, error) { return 0, errDown }
	call := bulkhead.Fallback(func(context.Context, error) (int, error) { return 2, nil })(fail)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}
