package main

import (
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

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
	l, srv, err := start(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Of("/").Adapter().(*redis.Adapter); !ok {
		t.Fatalf("adapter %T, want the Redis adapter", srv.Of("/").Adapter())
	}
	if n, err := r.Do("PUBSUB", "NUMSUB", "myapp-request#/#"); err != nil || n != "myapp-request#/# 1" {
		t.Fatalf("PUBSUB NUMSUB: %q %v", n, err)
	}
	stopStarted(l)

	// An unreachable Redis does not stop the node: it serves alone and keeps trying
	// (TestReadiness follows it until Redis comes).
	defer func(w time.Duration) { clusterWait = w }(clusterWait)
	clusterWait = 10 * time.Millisecond
	c = flags(t, "--redis", "redis://127.0.0.1:1", "--addr", "127.0.0.1:0")
	l2, srv2, err := start(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start with an unreachable Redis: %v", err)
	}
	defer stopStarted(l2)
	if _, ok := srv2.Of("/").Adapter().(*redis.Adapter); !ok || redisCluster.Up() {
		t.Fatalf("adapter %T, up %v", srv2.Of("/").Adapter(), redisCluster.Up())
	}
}
