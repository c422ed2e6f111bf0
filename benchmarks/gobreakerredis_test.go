package benchmarks_test

// A gobreaker v2 SharedDataStore on go-redis, for gobreaker's
// DistributedCircuitBreaker in the fleet benchmarks: gobreaker's own
// v2/redis package is an untagged module that the module proxy cannot
// serve. It does what that package does, with a plain Redis lock instead of
// redsync: Lock is SET NX PX 5s with a random token (gobreaker retries it
// every 500ms for up to 5s), Unlock deletes the key only if it still holds
// our token, GetData is GET and SetData is SET without expiry.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

var errLockTaken = errors.New("gobreaker store: lock taken")

var unlockScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

type gobreakerRedisStore struct {
	c      *goredis.Client
	mu     sync.Mutex
	tokens map[string]string
}

func newGobreakerRedisStore(c *goredis.Client) *gobreakerRedisStore {
	return &gobreakerRedisStore{c: c, tokens: map[string]string{}}
}

func (s *gobreakerRedisStore) Lock(name string) error {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	ok, err := s.c.SetNX(context.Background(), name, token, 5*time.Second).Result()
	if err != nil {
		return err
	}
	if !ok {
		return errLockTaken
	}
	s.mu.Lock()
	s.tokens[name] = token
	s.mu.Unlock()
	return nil
}

func (s *gobreakerRedisStore) Unlock(name string) error {
	s.mu.Lock()
	token, ok := s.tokens[name]
	delete(s.tokens, name)
	s.mu.Unlock()
	if !ok {
		return errors.New("gobreaker store: unlock without lock")
	}
	n, err := unlockScript.Run(context.Background(), s.c, []string{name}, token).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("gobreaker store: lock expired before unlock")
	}
	return nil
}

func (s *gobreakerRedisStore) GetData(name string) ([]byte, error) {
	b, err := s.c.Get(context.Background(), name).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	return b, err
}

func (s *gobreakerRedisStore) SetData(name string, data []byte) error {
	return s.c.Set(context.Background(), name, data, 0).Err()
}
