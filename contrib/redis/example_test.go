package redis_test

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/steadyhq/steady/contrib/redis"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
)

// A breaker whose counts and state the fleet shares through Redis. It
// needs a Redis at localhost:6379, so it is compiled but not run.
func ExampleNewStore() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	store, err := redis.NewStore(rdb, redis.Options{})
	if err != nil {
		panic(err)
	}
	cb, err := breaker.New(breaker.Settings{
		Name:         "payments",
		FailureRate:  0.5,
		MinRequests:  50,
		Store:        store,
		SyncInterval: 500 * time.Millisecond,
	})
	if err != nil {
		panic(err)
	}
	defer cb.Close()

	charge := resilience.Compose(breaker.Breaker[string](cb))(func(context.Context) (string, error) {
		return "receipt-1", nil
	})
	receipt, err := charge(context.Background())
	fmt.Println(receipt, err)
	fmt.Printf("%+v\n", cb.StoreStats())
}
