// Package breaker is a circuit breaker for steady pipelines: when a
// dependency keeps failing, timing out or answering slowly, the breaker
// opens and fails calls at once instead of sending them, so callers stop
// waiting and the dependency can recover.
//
//	cb, err := breaker.New(breaker.Settings{
//		Name:        "payments",
//		TimeoutRate: 0.5, // open when half the calls time out ...
//		MinRequests: 20,  // ... once the window holds 20 calls
//	})
//	...
//	call := resilience.Compose(
//		breaker.Breaker[*Receipt](cb),
//		timeout.WithTimeout[*Receipt](2*time.Second),
//	)(charge)
//
// Setting any rule replaces the default rule: with no rule set the breaker
// opens after 5 failures in a row, but Settings{FailureRate: 0.5} opens
// only when half the calls in the window failed, however many failed in a
// row. Set ConsecutiveFailures as well to keep both.
//
// # States
//
//	            a rule fires
//	+--------+ --------------> +------+
//	| closed |                 | open | <------------+
//	+--------+ <---+           +------+              |
//	               |              |                  |
//	               |              | OpenTimeout      | a probe fails
//	               |              v (+ jitter)       |
//	               |        +-----------+            |
//	               +------- | half-open | -----------+
//	   all HalfOpenRequests +-----------+
//	   probes succeed
//
// Closed, calls run and the breaker counts how they end in a rolling window
// (Settings.Window, 60s by default, in [WindowBuckets] ticks: a call leaves
// it between 0.9×Window and Window after it ended). When a rule fires, the
// breaker opens. Open, every call is rejected with an [*OpenError]
// (errors.Is(err, [ErrOpen])) without calling the dependency, until
// OpenTimeout plus a jitter of up to 10% has passed, so that clients that
// opened together do not probe together. Then it is half-open: it lets
// HalfOpenRequests probe calls through and rejects the rest; if they all
// succeed it closes with an empty window, and the first that fails opens it
// again. [CircuitBreaker.Isolate] holds it open, with no probes, until
// [CircuitBreaker.Reset], which closes it from any state. A call that was
// let through in one state and ends in another is not counted. A probe
// whose outcome never comes (a [Ticket] whose Done is never called) fails
// when a call finds every slot taken and no probe let through for
// OpenTimeout: the breaker reopens, and probes again after the open period.
//
// # Rules
//
//   - ConsecutiveFailures: failures (timeouts included) in a row, whatever
//     the window holds.
//   - FailureRate: (failures + timeouts) / calls in the window.
//   - TimeoutRate: timeouts / calls in the window.
//   - SlowCallRate: slow successes / calls in the window.
//
// The rate rules wait until the window holds MinRequests calls. The rules
// are checked when a call ends in a way that counts toward a rule that is
// set (a failure toward ConsecutiveFailures and FailureRate, a timeout
// toward those and TimeoutRate, a slow success toward SlowCallRate), so a
// call that counts toward none (a fast success; a plain failure when
// TimeoutRate is the only rule) never opens the breaker, even when it
// brings the window to MinRequests calls.
//
// # What counts
//
// Each call the breaker lets through ends as one of these, decided by
// [resilience.Classify] on the caller's context and the error:
//   - success: a nil error, or an error for which Settings.IsFailure
//     returns false (a 404, a validation error). It is also slow when it
//     took Settings.SlowCallDuration or longer.
//   - timeout: an error for which [resilience.IsTimeout] is true while the
//     caller's context is live, e.g. from a timeout.WithTimeout inside the
//     breaker. It is also a failure for ConsecutiveFailures and
//     FailureRate.
//   - failure: any other error while the caller's context is live, and a
//     panic, which is counted and goes on up the stack.
//   - excluded: the caller canceled its context or its own deadline
//     passed, or a policy inside refused the call without calling the
//     dependency ([resilience.IsRejected]: a nested breaker's
//     [*OpenError], a deadline already past). None of that is the
//     dependency's fault: a closed breaker counts the call in
//     [Counts].Excluded and in no rule or rate. An excluded probe is
//     counted nowhere (the counts are frozen while half-open) and frees
//     its slot for another probe.
//
// # Breaker and Allow
//
// [Breaker] puts a breaker in a pipeline of [resilience.Func]s. Code that
// is no Func, such as an http.RoundTripper whose call ends when the
// response body does, asks [CircuitBreaker.Allow] before the call and
// reports its end to [Ticket.Done].
//
// # Waiting for recovery
//
// An open breaker protects the dependency, but the calls it rejects fail,
// even those made a moment before the dependency comes back. With
// Settings.MaxWaiting, up to that many calls wait instead, each for as long
// as its own context allows, and go through once a probe shows the
// dependency is back ([CircuitBreaker.Wait]; [Breaker] uses it). The
// dependency sees nothing more than without waiting: only the probes reach
// it while the breaker is open. A call whose deadline comes before the next
// probe cannot make it and is rejected at once, as is every call beyond
// MaxWaiting and every call to an isolated breaker. A waiting call may be
// the next probe. When a probe fails, the waiters wait for the next one (or
// give up at once if their deadline comes before it). When a probe closes
// the breaker, the waiters go through paced by success, as in TCP's slow
// start: each call that succeeds after the close lets two more through, so
// the load doubles with each round trip the dependency answers and stops
// growing when it stops answering (and, so that a slow answer does not hold
// them, the n-th goes after about log2(n) probe durations at the latest):
// a dependency just back meets a ramp, not a herd. [Snapshot].Waiting counts
// the calls waiting now and Waited those that got through after waiting; a
// waiter that gives up is counted in Rejected.
//
// # More than one process
//
// Each process's breaker learns on its own that a dependency is down,
// unless the processes share a [Store] (Settings.Store; package
// github.com/steadyhq/steady/contrib/redis has one on Redis). Breakers
// with the same Name and Store then act as one breaker for the fleet:
//
//   - Counts stay local and are sent in one batch every
//     Settings.SyncInterval by a goroutine that [New] starts ([CircuitBreaker.Close]
//     stops it). The answer is the fleet's counts over the window, and
//     the rate rules weigh them: a process's own counts plus what the
//     rest of the fleet counted as of the last sync. ConsecutiveFailures
//     stays local (failures in a row have no order across processes).
//   - A trip, in any process, is published at once, with a generation
//     check done atomically in the store: of two processes that trip
//     together, one wins and the other takes its state. The others learn
//     of it at their next sync, within SyncInterval, and open for what is
//     left of the fleet's open period.
//   - When the open period ends, every process is half-open but only the
//     one that gets the fleet's probe lease (for OpenTimeout) probes; the
//     others reject calls until its probe closes or reopens the fleet. A
//     process asks for the lease only once a call wants through, so an
//     idle one does not take it; with MaxWaiting, a call waiting there is
//     woken when the lease comes and goes through as the probe.
//   - No call waits for the store: Allow and Done do what they do
//     without one (a closed breaker still takes no lock and allocates
//     nothing), and a call's result is never replaced by a store error.
//   - When the store fails, the breaker works on its own counts from the
//     next sync on, and publishes its state when the store is back (also
//     to a store that lost its data). Failures are counted in
//     [CircuitBreaker.StoreStats] and logged to Settings.Logger, once per
//     outage; so is the recovery.
//
// Isolate stays local; Reset closes the fleet's breaker too.
//
// # Cost
//
// A [*CircuitBreaker] is shared by goroutines and by pipelines of any
// result type. A call to a closed breaker costs an atomic load, a
// monotonic clock reading (two with SlowCallDuration) and a few atomic
// adds; a rejection by an open breaker costs an atomic load and a sharded
// counter, and reads no clock. Neither takes a lock or allocates. Locks are
// taken on state changes, on probes, when a call ends in a way that may fire
// a rate rule (to sum the window), and once per tick of the window. The
// benchmarks module compares both with gobreaker.
//
// # Hooks and logging
//
// Each change of state, Isolate and Reset is logged to Settings.Logger
// (Warn when the breaker opens, Info otherwise, with the reason and the
// counts) and, if the state changed, passed to Settings.OnStateChange. Both
// follow the rule for logging and hooks of package resilience: nothing is
// logged without a Logger, they run with no lock held, one at a time and in
// order, and a panic in either is recovered and reported. They run in a
// goroutine that made a change (a call, Isolate, Reset, or the open timer),
// not always the one that made this change, so OnStateChange may call the
// breaker's methods. A panic in Settings.IsFailure is reported too, and the
// call counts as a failure.
//
// [CircuitBreaker.Snapshot] returns the window's counts and rates, the
// state, the rejected calls, the transitions of each kind and the time of
// the next probe.
package breaker
