package dashboard

import (
	"time"

	"github.com/steadyhq/steady/resilience/breaker"
)

// transitionsBetween adds to c.transitions the changes of state between
// two snapshots of a breaker, timed at now. The snapshots count the
// transitions by kind, not their order: when a tick saw more than one,
// they are replayed in the only order the state machine allows from a's
// state, and a change to b's state that the counts do not explain (a
// Reset, say) is added last.
func (c *card) transitionsBetween(a, b *breaker.Snapshot, now time.Time) {
	ta, tb := a.Transitions, b.Transitions
	left := struct{ trips, halfOpens, closes, reopens, isolations, resets uint64 }{
		tb.Trips - ta.Trips, tb.HalfOpens - ta.HalfOpens, tb.Closes - ta.Closes,
		tb.Reopens - ta.Reopens, tb.Isolations - ta.Isolations, tb.Resets - ta.Resets,
	}
	if left == (struct{ trips, halfOpens, closes, reopens, isolations, resets uint64 }{}) && a.State == b.State {
		return
	}
	var added []Transition
	add := func(from, to breaker.State) {
		added = append(added, Transition{Time: now, From: from.String(), To: to.String()})
		if len(added) > maxTransitions {
			added = added[1:]
		}
	}
	s := a.State
	// Each step uses up one count, so the loop ends; a tick sees few.
	for step := 0; step < 4*maxTransitions; step++ {
		next := s
		switch {
		case s == breaker.StateClosed && left.trips > 0:
			left.trips--
			next = breaker.StateOpen
		case s != breaker.StateOpen && left.isolations > 0:
			left.isolations--
			next = breaker.StateOpen
		case s == breaker.StateOpen && left.halfOpens > 0:
			left.halfOpens--
			next = breaker.StateHalfOpen
		case s == breaker.StateHalfOpen && left.reopens > 0 && (left.closes == 0 || b.State != breaker.StateClosed || left.trips > 0):
			left.reopens--
			next = breaker.StateOpen
		case s == breaker.StateHalfOpen && left.closes > 0:
			left.closes--
			next = breaker.StateClosed
		case s != breaker.StateClosed && left.resets > 0:
			left.resets--
			next = breaker.StateClosed
		}
		if next == s {
			break
		}
		add(s, next)
		s = next
	}
	if s != b.State {
		add(s, b.State)
	}
	// A new slice, so that the cards already published keep theirs.
	all := make([]Transition, 0, maxTransitions)
	all = append(all, c.transitions...)
	all = append(all, added...)
	if len(all) > maxTransitions {
		all = all[len(all)-maxTransitions:]
	}
	c.transitions = all
}
