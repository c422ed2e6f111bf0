package bulkhead_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/bulkhead"
)

func ExampleLimit() {
	b, err := bulkhead.New(bulkhead.Config{Name: "reports", MaxConcurrent: 1})
	if err != nil {
		panic(err)
	}
	running, release := make(chan struct{}), make(chan struct{})
	render := func(ctx context.Context) (string, error) {
		running <- struct{}{}
		<-release // a slow report
		return "report", nil
	}
	call := bulkhead.Limit[string](b)(render) // build once, call many times

	done := make(chan struct{})
	go func() {
		defer close(done)
		r, _ := call(context.Background())
		fmt.Println("first call:", r)
	}()
	<-running // the only slot is taken

	_, err = call(context.Background())
	fmt.Println("second call:", err)
	fmt.Println("full:", errors.Is(err, bulkhead.ErrFull), "rejected:", resilience.IsRejected(err))

	close(release)
	<-done
	s := b.Snapshot()
	fmt.Println("admitted", s.Admitted, "rejected", s.Rejected, "in flight", s.InFlight)
	// Output:
	// second call: bulkhead "reports": full (MaxConcurrent 1 in flight, no queue)
	// full: true rejected: true
	// first call: report
	// admitted 1 rejected 1 in flight 0
}

func ExampleBulkhead_Acquire() {
	b, _ := bulkhead.New(bulkhead.Config{MaxConcurrent: 2, MaxQueue: 10})
	// Code that is no Func, such as a response whose body is read after
	// the round trip: the slot is given back when the call has ended.
	if err := b.Acquire(context.Background()); err != nil {
		return // *bulkhead.Error, or the context's error
	}
	fmt.Println("in flight:", b.Snapshot().InFlight)
	b.Release()
	fmt.Println("in flight:", b.Snapshot().InFlight)
	// Output:
	// in flight: 1
	// in flight: 0
}

type userKey struct{}

func user(ctx context.Context) string { s, _ := ctx.Value(userKey{}).(string); return s }

func ExampleCoalesce() {
	var calls atomic.Int32
	release := make(chan struct{})
	fetchProfile := func(ctx context.Context) (string, error) {
		calls.Add(1)
		<-release // a slow upstream call
		return "profile of " + user(ctx), nil
	}
	// Calls for the same user share one fetch.
	getProfile := bulkhead.Coalesce[string](user)(fetchProfile)

	waiting := make(chan struct{}, 3)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			ctx := context.WithValue(context.Background(), userKey{}, "ann")
			p, err := getProfile(signalWaiting{ctx, waiting})
			fmt.Println(p, err)
		})
	}
	for range 3 {
		<-waiting // all three wait for the fetch
	}
	close(release)
	wg.Wait()
	fmt.Println("upstream calls:", calls.Load())
	// Output:
	// profile of ann <nil>
	// profile of ann <nil>
	// profile of ann <nil>
	// upstream calls: 1
}

// signalWaiting is a context that tells when its caller starts waiting for
// the shared call (Coalesce asks for Done then), only so that the example's
// output does not depend on how the goroutines are scheduled.
type signalWaiting struct {
	context.Context
	waiting chan<- struct{}
}

func (c signalWaiting) Done() <-chan struct{} {
	c.waiting <- struct{}{}
	return c.Context.Done()
}

func ExampleFallback() {
	b, _ := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	price := resilience.Compose(
		bulkhead.Fallback(func(ctx context.Context, err error) (float64, error) {
			if errors.Is(err, bulkhead.ErrFull) {
				fmt.Println("busy, answering from the cache")
				return 9.99, nil
			}
			return 0, err // no substitute for other errors
		}),
		bulkhead.Limit[float64](b),
	)(func(ctx context.Context) (float64, error) { return 10.49, nil })

	p, err := price(context.Background())
	fmt.Println(p, err)

	_ = b.Acquire(context.Background()) // someone else takes the only slot
	p, err = price(context.Background())
	fmt.Println(p, err)
	b.Release()
	// Output:
	// 10.49 <nil>
	// busy, answering from the cache
	// 9.99 <nil>
}
