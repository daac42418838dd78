package main

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/riptide-io/riptide/internal/redistest"
	"github.com/riptide-io/riptide/rooms/redis"
)

// --redis (or RIPTIDE_REDIS_URL) joins a cluster: the namespaces' adapters are the Redis
// adapter's, subscribed under the --redis-key prefix. (The cluster behaviour itself is
// tested in rooms/redis and internal/nodetest.)
func TestRedisFlags(t *testing.T) {
	r := redistest.Start(t)
	t.Setenv("RIPTIDE_REDIS_URL", r.URL())
	c, err := load([]string{"--addr", "127.0.0.1:0", "--redis-key", "myapp"}, os.Getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Redis.URL != r.URL() || c.Redis.Key != "myapp" || c.Redis.Sharded {
		t.Fatalf("flags %+v", c)
	}
	_, srv := serveConfig(t, c)
	if _, ok := srv.Of("/").Adapter().(*redis.Adapter); !ok {
		t.Fatalf("adapter %T, want the Redis adapter", srv.Of("/").Adapter())
	}
	if n, err := r.Do("PUBSUB", "NUMSUB", "myapp-request#/#"); err != nil || n != "myapp-request#/# 1" {
		t.Fatalf("PUBSUB NUMSUB: %q %v", n, err)
	}

	c = flags(t, "--redis", "redis://127.0.0.1:1", "--addr", "127.0.0.1:0")
	if _, _, err := start(c, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Fatal("start with an unreachable Redis succeeded")
	}
}
