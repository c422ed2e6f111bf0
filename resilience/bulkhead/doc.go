// Package bulkhead keeps an overloaded or slow dependency from taking its
// callers down with it: [Limit] bounds how many calls run at once and how
// many wait, [Coalesce] makes concurrent calls for the same thing share one
// call, and [Fallback] answers for a call that failed or was refused.
//
//	b, err := bulkhead.New(bulkhead.Config{
//		Name:          "inventory",
//		MaxConcurrent: 20,                     // calls running at once
//		MaxQueue:      50,                     // calls waiting for a slot
//		QueueTimeout:  100 * time.Millisecond, // the longest wait in the queue
//	})
//	...
//	getItem := resilience.Compose(
//		bulkhead.Fallback(staleItem),    // answers from a cache when the call fails
//		bulkhead.Coalesce[Item](itemID), // one fetch per item ID at a time
//		bulkhead.Limit[Item](b),         // at most 20 fetches at once
//		timeout.WithTimeout[Item](time.Second),
//	)(fetchItem)
//
// where staleItem is a func(context.Context, error) (Item, error) and itemID
// a func(context.Context) string.
//
// # Bulkhead
//
// A [Bulkhead] has MaxConcurrent slots. A call through [Limit] (or
// [Bulkhead.Acquire]) takes a free slot and runs at once; when every slot
// is taken it joins the queue, of at most MaxQueue calls, and waits for a
// slot. The queue is first in, first out: a call that comes while others
// are queued never takes a slot before them, even one freed just then, and
// a freed slot is handed to the queue's head directly.
//
// A call is rejected with an [*Error], errors.Is(err, [ErrFull]), when the
// queue is full (at once, without waiting or calling the dependency), or
// when it waited Config.QueueTimeout in the queue without getting a slot.
// A rejection is a rejection in the sense of package resilience
// ([resilience.IsRejected]): a breaker around the bulkhead does not count
// it, monitoring counts it apart, retry does not retry it. A queued call
// whose context ends leaves the queue at once and returns ctx.Err(), which
// is no rejection; so is a call whose context has ended before it would
// queue. A call that finds a free slot takes it without looking at its
// context: next gets the context and ends at once if it is done.
//
// With MaxQueue 0 there is no queue and every call beyond MaxConcurrent is
// rejected at once. With QueueTimeout 0 a queued call waits as long as its
// context allows. [Bulkhead.Snapshot] gives the calls in flight and
// queued, and counts the calls admitted, rejected (queue timeouts among
// them) and canceled while queued.
//
// One Bulkhead guards one resource (a dependency, a connection pool) and is
// shared by every pipeline that uses the resource, of any result type: they
// then share its slots and queue.
//
// # Coalescing
//
// Under [Coalesce], concurrent calls with the same key share one call of
// next: the first starts it, the others wait for it, and all get its result
// (the same value of T: a pointer, slice or map in it is shared by every
// caller, who must not change it). A call made after the shared call has
// ended starts a new one; nothing is cached. The key must name everything
// the result depends on (the item and, say, the user whose rights it is
// fetched with): calls with one key get one answer. A call whose key is ""
// is not coalesced.
//
// Each caller waits only as long as its own context allows. A caller that
// gives up returns ctx.Err() at once, and the shared call goes on for the
// others; only when every caller waiting for it has given up is its context
// canceled (with a cause that says so), and a call of the key made after
// that starts afresh rather than joining the canceled one. The shared call
// therefore runs in a goroutine of its own, with a context that keeps the
// first caller's values (a trace ID, credentials) but neither its
// cancellation nor its deadline: no caller's deadline is the others'. It
// has no deadline of its own, and is canceled when the last caller leaves,
// so it never outlives the latest deadline among its callers; to bound the
// shared call itself, put a timeout inside Coalesce.
//
// A panic in the shared call is raised again, with its original value, in
// every caller waiting for it, as it would have been in each without
// Coalesce; if no caller is waiting any more, it crashes the program, as
// a panic in any goroutine does (timeout's abandon mode does the same).
//
// # Fallback
//
// [Fallback] calls its function when next fails while the caller's context
// is live: a failure, a timeout inside the call, or a rejection (an open
// breaker, a full bulkhead), which is what a fallback is for. The function
// sees next's error unchanged. It is not called when the caller's own
// context has ended: the caller has given up and would not use a
// substitute, and a substitute would pass a canceled call off as a success
// to the policies outside. A timeout meant to be answered by the fallback
// goes inside Fallback, where its expiry is the call's failure, not the
// caller's end.
//
// # Order
//
// Outermost first, with the policies of the other packages:
//
//	Fallback, Monitor, Coalesce, Breaker, Limit, Retry, Timeout
//
// Because:
//
//   - Fallback outermost answers for everything inside, rejections
//     included; a Monitor inside it records how the dependency did rather
//     than the substitutes.
//   - Coalesce outside the rest: a shared call is one logical call, which
//     takes one slot, is counted once by the breaker and retried once for
//     all of its callers.
//   - Breaker outside Limit: an open breaker refuses a call before it takes
//     a slot or queues, and the bulkhead's rejections, inside it, are not
//     held against the dependency.
//   - Limit outside Retry holds the slot across the attempts and their
//     backoff; inside Retry each attempt takes a slot of its own and a
//     rejection ends the retries (it is not retryable).
//
// # Why not golang.org/x/sync
//
// semaphore.Weighted has no queue limit, no queue timeout and nothing to
// count rejections with, and takes a mutex on every acquire and release;
// the Bulkhead takes a free slot with one compare-and-swap on a word that
// holds both the calls in flight and the calls queued, which is also what
// keeps the queue first in, first out, and takes its mutex only to queue a
// call or hand a slot to one. singleflight's function takes no context,
// so nothing can cancel a shared call; its Do keeps every caller until the
// call ends, and its DoChan lets callers leave but runs the call to its end
// when they all have. Coalesce lets callers leave and cancels the call when
// the last one does, in about as much code as wrapping singleflight would
// take, and without its interface{} results; so the core module does not
// depend on x/sync. The benchmarks module compares Limit with
// semaphore.Weighted.
//
// # Cost
//
// A call through Limit that finds a free slot costs two atomic operations
// to take it (one compare-and-swap and a count) and one to give it back,
// with no lock, goroutine or allocation; a call rejected because the queue
// is full costs an atomic load and a count, and allocates nothing. A call
// that queues allocates its place in the queue and, with a QueueTimeout, a
// timer. Under Coalesce, each shared call costs a goroutine, a context and
// a small record; a caller that joins one costs a map lookup under a
// mutex.
package bulkhead
