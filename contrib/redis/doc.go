// Package redis keeps a fleet's circuit breakers in step through Redis:
// [NewStore] returns a [breaker.Store] for breaker.Settings.Store, and
// every process whose breaker has the same Name and a Store on the same
// Redis (and Options.Prefix) shares its counts and state.
//
//	rdb := goredis.NewClient(&goredis.Options{
//		Addr:                  "redis:6379",
//		ContextTimeoutEnabled: true, // a hung Redis holds a sync no longer than SyncInterval
//	})
//	store, err := redis.NewStore(rdb, redis.Options{})
//	...
//	cb, err := breaker.New(breaker.Settings{
//		Name:         "payments",
//		FailureRate:  0.5,
//		MinRequests:  50, // calls across the fleet
//		Store:        store,
//		SyncInterval: 500 * time.Millisecond,
//	})
//	...
//	defer cb.Close() // stops the breaker's sync goroutine
//
// See "More than one process" in package breaker for what the fleet
// shares. In short: calls never wait for Redis; each breaker sends its
// counts in one batch per SyncInterval, one command, so Redis sees
// processes/SyncInterval commands per second whatever the traffic; a trip
// reaches every process within about SyncInterval; one process probes;
// and with Redis down each breaker works on its own counts.
//
// # What is in Redis
//
// Each method of [Store] is one EVALSHA of a Lua script, atomic on the
// server, and reads the time from Redis (TIME), so the processes' clocks
// do not matter. For a breaker named N, with Prefix P:
//
//   - P{N}:state, a hash {gen, state, until}: the fleet's generation,
//     closed (0) or open (1), and while open the Redis time (ms) at which
//     probes may go out. It expires Options.StateTTL after its last
//     change or sync. Publish writes it only when the generation is the
//     one the caller saw.
//   - P{N}:c:GEN:B, a hash of counts (s, w, f, t, x: successes, slow,
//     failures, timeouts, excluded) per generation and bucket of the
//     window (a tenth of Settings.Window), expiring after the window.
//   - P{N}:i:GEN, a hash of each breaker's counts as of its last Sync in
//     generation GEN (a breaker sends its counts so far, not deltas, so
//     that a Sync repeated after a timeout counts nothing twice),
//     expiring with the state.
//   - P{N}:probe:GEN, the probe lease of an open generation (SET NX PX
//     OpenTimeout).
//
// The name is in a hash tag, so a breaker's keys share a Redis Cluster
// slot; a Name with braces breaks that.
package redis
