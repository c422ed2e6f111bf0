// Package clock reads the monotonic clock as cheaply as the runtime allows.
package clock

import "time"

// base anchors the readings. Its monotonic component is what matters: Since
// subtracts it using only the runtime's monotonic clock, which costs about
// half a full time.Now (no wall-clock read).
var base = time.Now()

// Now returns the monotonic time elapsed since the process started. Only
// differences between two readings are meaningful. Under testing/synctest
// the reading follows the bubble's fake clock, so differences taken inside
// one bubble are correct there too.
func Now() time.Duration {
	return time.Since(base)
}
