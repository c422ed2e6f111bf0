package hedge_test

import (
	"context"
	"fmt"
	"time"

	"github.com/steadyhq/steady/resilience/hedge"
)

// A call whose first attempt straggles is answered by its hedge.
func Example() {
	h, err := hedge.New(hedge.Config{Delay: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	replicas := make(chan time.Duration, 2)
	replicas <- time.Second          // the first attempt meets a straggler
	replicas <- 5 * time.Millisecond // the hedge does not
	lookup := func(ctx context.Context) (string, error) {
		select {
		case <-time.After(<-replicas):
			return "answer", nil
		case <-ctx.Done(): // canceled when the hedge wins
			return "", ctx.Err()
		}
	}
	start := time.Now()
	v, err := hedge.Hedge[string](h)(lookup)(context.Background())
	s := h.Snapshot()
	fmt.Println(v, err, time.Since(start) < 500*time.Millisecond)
	fmt.Printf("hedges %d, won %d\n", s.Hedges, s.Wins)
	// Output:
	// answer <nil> true
	// hedges 1, won 1
}

// An adaptive Hedger learns the delay that hedges the target share of calls.
func ExampleNew_adaptive() {
	h, err := hedge.New(hedge.Config{
		TargetRate: 0.02,                   // hedge about 2% of calls
		MaxDelay:   500 * time.Millisecond, // the delay until it has learned one
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Delay())
	// Output:
	// 500ms
}
