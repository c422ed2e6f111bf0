package bulkhead

import (
	"math"
	"time"

	"github.com/steadyhq/steady/resilience"
)

// maxCount is the largest MaxConcurrent and MaxQueue: the numbers of calls
// in flight and queued share one 64-bit word, 32 bits each.
const maxCount = math.MaxInt32

// Config configures a [Bulkhead]. There is no useful zero Config:
// MaxConcurrent must be set. [Config.Validate] checks the ranges given on
// each field; [New] calls it.
type Config struct {
	// Name names the bulkhead in its errors, e.g. the dependency
	// "payments". Optional.
	Name string

	// MaxConcurrent is the number of calls that may run at once. Range
	// [1, 2147483647].
	MaxConcurrent int

	// MaxQueue is the number of calls that may wait for a free slot while
	// MaxConcurrent calls run. A call that finds the queue full is rejected
	// at once. 0: no queue, every call beyond MaxConcurrent is rejected.
	// Range [0, 2147483647].
	MaxQueue int

	// QueueTimeout is the longest a call waits in the queue; a call still
	// queued after it is rejected. 0: a queued call waits as long as its
	// context allows. It must be 0 when MaxQueue is 0, since no call ever
	// waits then. Range >= 0.
	QueueTimeout time.Duration
}

// Validate reports the first invalid field of c as a
// [*resilience.ConfigError] that names it, or nil. [New] calls it; call it
// yourself for a Config read at run time (from flags or a file).
func (c Config) Validate() error {
	bad := func(field string, value any, want string) error {
		return &resilience.ConfigError{Pkg: "bulkhead", Field: "Config." + field, Value: value, Want: want}
	}
	switch {
	case c.MaxConcurrent < 1 || c.MaxConcurrent > maxCount:
		return bad("MaxConcurrent", c.MaxConcurrent, "in [1, 2147483647]")
	case c.MaxQueue < 0 || c.MaxQueue > maxCount:
		return bad("MaxQueue", c.MaxQueue, "in [0, 2147483647]")
	case c.QueueTimeout < 0:
		return bad("QueueTimeout", c.QueueTimeout, ">= 0 (0: as long as the context allows)")
	case c.QueueTimeout > 0 && c.MaxQueue == 0:
		return bad("QueueTimeout", c.QueueTimeout, "0 when MaxQueue is 0 (no call ever waits)")
	}
	return nil
}
