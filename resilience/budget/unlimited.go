package budget

import (
	"math"
	"sync/atomic"
)

// Unlimited returns a Budget that allows every retry and hedge. It counts
// what it is told (Snapshot), so a pipeline can be watched before a limit
// is chosen, and it turns off a budget that would otherwise be given by
// default (httpx gives each host an Adaptive budget unless Config.Budget
// is set). Its Headroom is +Inf.
func Unlimited() Budget { return new(unlimited) }

type unlimited struct {
	requests, retries, succeeded atomic.Int64
}

func (u *unlimited) Request() { u.requests.Add(1) }

func (u *unlimited) Retry() bool {
	u.retries.Add(1)
	return true
}

func (u *unlimited) Done(retry, ok bool) {
	if retry && ok {
		u.succeeded.Add(1)
	}
}

func (u *unlimited) Snapshot() Stats {
	return Stats{
		Requests:  u.requests.Load(),
		Retries:   u.retries.Load(),
		Succeeded: u.succeeded.Load(),
		Headroom:  math.Inf(1),
	}
}
