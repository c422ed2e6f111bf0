package benchmarks_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// redisServer is a real redis-server on a free loopback port, for the fleet
// benchmarks (fleet_test.go).
type redisServer struct {
	addr string
	cmd  *exec.Cmd
	sent atomic.Int64 // commands sent by the clients from client()
}

// startRedis starts redis-server with no persistence and stops it when the
// benchmark ends. Without redis-server it skips, unless CI=true: then it
// fails.
func startRedis(tb testing.TB) *redisServer {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "redis-server not found in PATH (apt-get install redis-server): the fleet benchmarks need a real Redis"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &redisServer{addr: "127.0.0.1:" + strconv.Itoa(port)}
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	})
	c := s.admin(tb)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := c.Ping(context.Background()).Err(); err == nil {
			break
		} else if time.Now().After(deadline) {
			tb.Fatalf("redis-server on %s did not answer: %v", s.addr, err)
		}
	}
	return s
}

// client returns a new client of s, closed when the benchmark ends, whose
// commands are counted in s.sent. Each instance of a fleet gets its own, as
// separate processes would.
func (s *redisServer) client(tb testing.TB) *goredis.Client {
	c := s.admin(tb)
	c.AddHook(countHook{&s.sent})
	return c
}

// admin returns a new client of s whose commands are not counted.
func (s *redisServer) admin(tb testing.TB) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: s.addr, ContextTimeoutEnabled: true})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// countHook counts the commands a client sends, but not those of its
// connection set-up (HELLO, CLIENT SETINFO), which happen once per
// connection.
type countHook struct{ n *atomic.Int64 }

func (h countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.count(cmd)
		return next(ctx, cmd)
	}
}

func (h countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			h.count(cmd)
		}
		return next(ctx, cmds)
	}
}

func (h countHook) count(cmd goredis.Cmder) {
	switch cmd.Name() {
	case "hello", "client", "auth":
	default:
		h.n.Add(1)
	}
}

// commands returns the number of commands Redis has run so far, this
// INFO included, and those run inside scripts.
func (s *redisServer) commands(tb testing.TB, c *goredis.Client) int64 {
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(info) {
		var n int64
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "total_commands_processed:%d", &n); err == nil {
			return n
		}
	}
	tb.Fatal("no total_commands_processed in INFO stats")
	return 0
}

// flush empties Redis between sub-benchmarks.
func (s *redisServer) flush(tb testing.TB, c *goredis.Client) {
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		tb.Fatal(err)
	}
}
