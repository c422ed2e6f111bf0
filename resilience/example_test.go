package resilience_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/steadyhq/steady/resilience"
)

// logCalls is a minimal Policy: it prints before and after the call it wraps.
func logCalls[T any](name string) resilience.Policy[T] {
	return func(next resilience.Func[T]) resilience.Func[T] {
		return func(ctx context.Context) (T, error) {
			fmt.Println(name, "start")
			v, err := next(ctx)
			fmt.Println(name, "end")
			return v, err
		}
	}
}

func ExampleDo() {
	upper := func(ctx context.Context) (string, error) {
		return strings.ToUpper("steady"), nil
	}
	v, err := resilience.Do(context.Background(), upper, logCalls[string]("outer"), logCalls[string]("inner"))
	fmt.Println(v, err)
	// Output:
	// outer start
	// inner start
	// inner end
	// outer end
	// STEADY <nil>
}

func ExampleCompose() {
	// Build the pipeline once; reuse it for every call.
	pipeline := resilience.Compose(logCalls[int]("a"), logCalls[int]("b"))
	answer := pipeline(func(ctx context.Context) (int, error) { return 42, nil })

	v, _ := answer(context.Background())
	fmt.Println(v)
	// Output:
	// a start
	// b start
	// b end
	// a end
	// 42
}

func ExampleClassify() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(resilience.Classify(context.Background(), context.DeadlineExceeded))
	fmt.Println(resilience.Classify(ctx, ctx.Err()))
	// Output:
	// timeout
	// canceled
}
