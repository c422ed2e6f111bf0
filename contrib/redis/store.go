package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

// DefaultPrefix is the default of Options.Prefix.
const DefaultPrefix = "steady:breaker:"

// DefaultStateTTL is the default of Options.StateTTL.
const DefaultStateTTL = 24 * time.Hour

// Options configures a [Store]. The zero Options is valid.
type Options struct {
	// Prefix starts every key the Store writes. Breakers share state when
	// they use the same Prefix and Name. "": [DefaultPrefix].
	Prefix string

	// StateTTL is how long a fleet's state key lives after its last
	// change or sync; an expired state is a closed breaker of generation
	// 0, which the breakers of the fleet publish their state to again.
	// 0: [DefaultStateTTL] (24h); otherwise at least 1s.
	StateTTL time.Duration
}

// Validate reports the first invalid field of o as a
// [*resilience.ConfigError], or nil.
func (o Options) Validate() error {
	if o.StateTTL < 0 || (o.StateTTL > 0 && o.StateTTL < time.Second) {
		return &resilience.ConfigError{Pkg: "redis", Field: "Options.StateTTL", Value: o.StateTTL, Want: "0 (default 24h) or >= 1s"}
	}
	return nil
}

// Store is a [breaker.Store] on Redis. Make one with [NewStore] and pass it
// as breaker.Settings.Store to every breaker of the fleet; one Store may
// serve any number of breakers (of different names) in a process. It is
// safe for concurrent use.
//
// Each method is one EVALSHA of a Lua script, so that every change is
// atomic on the Redis side: no lock is taken, on Redis or in the process.
type Store struct {
	client goredis.UniversalClient
	prefix string
	ttl    int64 // ms
}

var _ breaker.Store = (*Store)(nil)

// NewStore returns a Store that keeps the fleet's state in client. A nil
// client or invalid Options return a [*resilience.ConfigError].
//
// The breaker gives each call SyncInterval: set the client's
// ContextTimeoutEnabled so that a Redis that hangs cannot hold a sync
// longer (go-redis otherwise applies its own ReadTimeout, 3s by default).
func NewStore(client goredis.UniversalClient, o Options) (*Store, error) {
	if client == nil {
		return nil, &resilience.ConfigError{Pkg: "redis", Field: "NewStore(client)", Want: "a go-redis client"}
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.StateTTL == 0 {
		o.StateTTL = DefaultStateTTL
	}
	return &Store{client: client, prefix: o.Prefix, ttl: o.StateTTL.Milliseconds()}, nil
}

// base returns the start of name's keys. The name goes in a hash tag, so
// that all of a breaker's keys are in one Redis Cluster slot.
func (s *Store) base(name string) string {
	return s.prefix + "{" + name + "}"
}

// The scripts share their first lines: the time on the Redis server, in
// ms, so that no process's clock matters, and the fleet's state, a hash
// {gen, state (0 closed, 1 open), until (ms, while open)}; a missing key
// is generation 0, closed.
const scriptHead = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local st = redis.call('HMGET', KEYS[1], 'gen', 'state', 'until')
local gen = tonumber(st[1]) or 0
local state = tonumber(st[2]) or 0
local left = 0
if state == 1 then left = (tonumber(st[3]) or now) - now end
`

// syncScript: KEYS[1] the state; ARGV: base, gen, window (ms), instance,
// its five cumulative counts, state TTL (ms). Returns {gen, state, left,
// five counts}. The hash base:i:GEN keeps each instance's counts as of its
// last Sync in generation GEN, so that only what is new is added.
var syncScript = goredis.NewScript(scriptHead + `
local win = tonumber(ARGV[3])
local width = math.max(1, math.floor(win / 10))
local b = math.floor(now / width)
local pre = ARGV[1] .. ':c:' .. gen .. ':'
local out = {gen, state, left, 0, 0, 0, 0, 0}
if gen > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[10]) end
if state ~= 0 then return out end
local id = ARGV[4]
if tonumber(ARGV[2]) == gen and id ~= '' then
	local f = {'s', 'w', 'f', 't', 'x'}
	local ik = ARGV[1] .. ':i:' .. gen
	local k = pre .. b
	local any = false
	for i = 1, 5 do
		local field = id .. ':' .. f[i]
		local cum = tonumber(ARGV[4 + i])
		local d = cum - (tonumber(redis.call('HGET', ik, field)) or 0)
		if d > 0 then
			redis.call('HINCRBY', k, f[i], d)
			redis.call('HSET', ik, field, cum)
			any = true
		end
	end
	if any then
		redis.call('PEXPIRE', k, win + width)
		redis.call('PEXPIRE', ik, ARGV[10])
	end
end
for j = b - 9, b do
	local v = redis.call('HMGET', pre .. j, 's', 'w', 'f', 't', 'x')
	for i = 1, 5 do out[3 + i] = out[3 + i] + (tonumber(v[i]) or 0) end
end
return out
`)

// publishScript: KEYS[1] the state; ARGV: from, to gen, to state, open
// for (ms), state TTL (ms). Returns {gen, state, left, applied}.
var publishScript = goredis.NewScript(scriptHead + `
local to = tonumber(ARGV[2])
if gen ~= tonumber(ARGV[1]) or to <= gen then return {gen, state, left, 0} end
local ns = tonumber(ARGV[3])
local untl = 0
left = 0
if ns == 1 then
	left = tonumber(ARGV[4])
	untl = now + left
end
redis.call('HSET', KEYS[1], 'gen', to, 'state', ns, 'until', untl)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {to, ns, left, 1}
`)

// probeScript: KEYS[1] the state, KEYS[2] the lease; ARGV: gen, lease
// (ms). Returns {gen, state, left, granted}.
var probeScript = goredis.NewScript(scriptHead + `
if gen ~= tonumber(ARGV[1]) or state ~= 1 or left > 0 then return {gen, state, left, 0} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return {gen, state, left, 1} end
return {gen, state, left, 0}
`)

// Sync implements [breaker.Store]: one EVALSHA that adds what is new in
// the instance's counts to the current bucket of the fleet's window (a
// hash per bucket and generation, expiring after the window) and sums the
// window.
func (s *Store) Sync(ctx context.Context, name string, r breaker.SyncRequest) (breaker.FleetState, error) {
	if r.Window < breaker.WindowBuckets*time.Millisecond {
		return breaker.FleetState{}, fmt.Errorf("redis: Sync: window %v is below %dms", r.Window, breaker.WindowBuckets)
	}
	base := s.base(name)
	c := r.Counts
	v, err := syncScript.Run(ctx, s.client, []string{base + ":state"},
		base, r.Gen, r.Window.Milliseconds(), r.Instance, c.Successes, c.Slow, c.Failures, c.Timeouts, c.Excluded, s.ttl).Int64Slice()
	if err != nil {
		return breaker.FleetState{}, wrap("Sync", err)
	}
	if len(v) != 8 {
		return breaker.FleetState{}, errors.New("redis: Sync: unexpected reply")
	}
	f := fleetState(v)
	f.Counts = breaker.StoreCounts{Successes: uint64(v[3]), Slow: uint64(v[4]), Failures: uint64(v[5]), Timeouts: uint64(v[6]), Excluded: uint64(v[7])}
	return f, nil
}

// Publish implements [breaker.Store]: one EVALSHA that checks the
// generation and writes the new state.
func (s *Store) Publish(ctx context.Context, name string, from uint64, to breaker.FleetState) (breaker.FleetState, bool, error) {
	if to.State != breaker.StateClosed && to.State != breaker.StateOpen {
		return breaker.FleetState{}, false, fmt.Errorf("redis: Publish: state %v is neither closed nor open", to.State)
	}
	openMS := int64(0)
	if to.State == breaker.StateOpen {
		openMS = max(to.OpenFor.Milliseconds(), 1)
	}
	v, err := publishScript.Run(ctx, s.client, []string{s.base(name) + ":state"},
		from, to.Gen, int(to.State), openMS, s.ttl).Int64Slice()
	if err != nil {
		return breaker.FleetState{}, false, wrap("Publish", err)
	}
	if len(v) != 4 {
		return breaker.FleetState{}, false, errors.New("redis: Publish: unexpected reply")
	}
	return fleetState(v), v[3] == 1, nil
}

// TryProbe implements [breaker.Store]: one EVALSHA that sets the lease key
// of the generation with SET NX PX, once the open period has passed.
func (s *Store) TryProbe(ctx context.Context, name string, gen uint64, lease time.Duration) (breaker.FleetState, bool, error) {
	base := s.base(name)
	v, err := probeScript.Run(ctx, s.client, []string{base + ":state", base + ":probe:" + strconv.FormatUint(gen, 10)},
		gen, max(lease.Milliseconds(), 1)).Int64Slice()
	if err != nil {
		return breaker.FleetState{}, false, wrap("TryProbe", err)
	}
	if len(v) != 4 {
		return breaker.FleetState{}, false, errors.New("redis: TryProbe: unexpected reply")
	}
	return fleetState(v), v[3] == 1, nil
}

// fleetState reads the {gen, state, left} that every script returns first.
func fleetState(v []int64) breaker.FleetState {
	f := breaker.FleetState{Gen: uint64(v[0]), State: breaker.StateClosed}
	if v[1] == 1 {
		f.State = breaker.StateOpen
		f.OpenFor = time.Duration(v[2]) * time.Millisecond
	}
	return f
}

func wrap(op string, err error) error {
	return fmt.Errorf("redis: %s: %w", op, err)
}
