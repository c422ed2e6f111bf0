package benchmarks_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// go-resiliency's breaker sleeps out its open timeout in a goroutine
		// of its own (breaker.(*Breaker).timer), which no call can stop; the
		// open-breaker benchmarks leave one behind per breaker they trip.
		goleak.IgnoreAnyFunction("github.com/eapache/go-resiliency/breaker.(*Breaker).timer"),
	)
}
